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
from .siblings import mark_open

MAX_TURN_CHARS = 200_000
"""A turn past this is kept only in the transcript archive: this table is for the handoff."""


def save_prompt(ctx: HookContext) -> None:
    """Also marks the session open: if it crashes before its first Stop, the next session
    start still catches its transcript up (``siblings``)."""
    save_transcript(ctx)
    _add_turn(ctx, "user", text_field(ctx.payload, "prompt"), opens_session=True)


def save_reply(ctx: HookContext) -> None:
    _add_turn(ctx, "assistant", text_field(ctx.payload, "last_assistant_message"))


def _add_turn(ctx: HookContext, role: str, text: str | None, opens_session: bool = False) -> None:
    session = ctx.session_id
    if session is None or (text is None and not opens_session):
        return
    with ctx.archive().db.write() as conn:
        if text is not None:
            raw = text[:MAX_TURN_CHARS].encode("utf-8", "replace")
            conn.execute(
                "INSERT INTO chat_turns(session_uuid, prompt_id, role, at, text, text_len)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session, text_field(ctx.payload, "prompt_id"), role,
                 datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                 codec.compress(raw, ctx.settings.compression_level), len(raw)),
            )
        if opens_session:
            mark_open(conn, session, ctx.event)
