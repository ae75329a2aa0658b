"""chat_manager: the conversation as the hooks see it, prompt at submit and reply at Stop.

The transcript may lag behind both events (or never be written, as in some ``-p`` runs), so
the prompt and ``last_assistant_message`` from the payloads are kept too, compressed, and the
handoff prefers them when they are newer than what the transcript shows. Each submit also
catches up the transcript a lagging Stop left behind.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .. import codec
from ..hookio import text_field
from ..hookrun import HookContext
from .common import save_transcript

MAX_TURN_CHARS = 200_000
"""A turn past this is kept only in the transcript archive: this table is for the handoff."""


def save_prompt(ctx: HookContext) -> None:
    save_transcript(ctx)
    _add_turn(ctx, "user", text_field(ctx.payload, "prompt"))


def save_reply(ctx: HookContext) -> None:
    _add_turn(ctx, "assistant", text_field(ctx.payload, "last_assistant_message"))


def _add_turn(ctx: HookContext, role: str, text: str | None) -> None:
    session = ctx.session_id
    if session is None or text is None:
        return
    text = text[:MAX_TURN_CHARS]
    raw = text.encode("utf-8", "replace")
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    with ctx.archive().db.write() as conn:
        conn.execute(
            "INSERT INTO chat_turns(session_uuid, prompt_id, role, at, text, text_len)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session, text_field(ctx.payload, "prompt_id"), role, now,
             codec.compress(raw, ctx.settings.compression_level), len(raw)),
        )
