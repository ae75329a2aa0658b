"""``export --format json``: the conversation model as one documented JSON object, for scripts
that want a session without knowing Claude Code's transcript format (which changes often).

The shape (README, "export --format json") is versioned: ``format`` names it, ``version`` goes
up when a field changes meaning or goes away (new fields may appear within a version). Every
key is always present, ``null`` when there is nothing.
"""

from __future__ import annotations

import json
from typing import Any

from ..base.clock import utc_stamp
from ..store.summary import SessionSummary
from ..transcript.conversation import Conversation, Image, Message, Run, ToolCall
from ..transcript.extract import main_argument

FORMAT = "session-core/conversation"
VERSION = 1


def _images(images: list[Image]) -> list[dict[str, str]]:
    return [{"media_type": image.media_type, "data": image.data} for image in images]


def _call(call: ToolCall) -> dict[str, Any]:
    result = call.result
    return {
        "id": call.id,
        "name": call.name,
        "summary": main_argument(call.input),
        "input": call.input,
        "result": None if result is None else {
            "text": result.text, "is_error": result.is_error, "timestamp": result.timestamp,
            "uuid": result.uuid, "images": _images(result.images)},
        "runs": [_run(run) for run in call.runs],
    }


def _message(message: Message) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "uuid": message.uuid,
        "parent_uuid": message.parent_uuid,
        "timestamp": message.timestamp,
        "model": message.model,
        "is_error": message.is_error,
        "text": message.text,
        "images": _images(message.images),
        "tool": _call(message.call) if message.call is not None else None,
    }


def _run(run: Run) -> dict[str, Any]:
    return {
        "agent_id": run.agent_id,
        "file": run.source,
        "compaction": run.compaction,
        "call_id": run.call_id,
        "messages": [_message(m) for m in run.messages],
    }


def json_document(summary: SessionSummary, conversation: Conversation, redacted: bool,
                  thinking: bool) -> str:
    """The document as text (``summary`` and ``conversation`` already cleaned)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utc_stamp(),
        "redacted": redacted,
        "thinking": thinking,
        "session": summary.as_dict(),
        "messages": [_message(m) for m in conversation.messages],
        "unlinked_runs": [_run(run) for run in conversation.unlinked],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
