"""chat_manager: the conversation as the hooks see it, prompt at submit and reply at Stop.

The transcript may lag behind both events (or never be written, as in some ``-p`` runs), so
the prompt and ``last_assistant_message`` from the payloads are kept too, compressed, and the
handoff prefers them when they are newer than what the transcript shows. Each submit also
catches up the transcript a lagging Stop left behind.
"""

from __future__ import annotations

from ...base.clock import utc_stamp
from ...base.errors import BusyError
from ...base.text import clip
from ...store import chat, state
from ..run import HookContext
from ..stdio import text_field
from .common import save_transcript

MAX_TURN_CHARS = 200_000
"""A turn past this is kept only in the transcript archive: this table is for the handoff."""


def save_prompt(ctx: HookContext) -> None:
    """Also marks the session open: if it crashes before its first Stop, the next session
    start still catches its transcript up (``catch_up``)."""
    try:
        save_transcript(ctx)
    except BusyError:  # the transcript is on disk: the next save catches it up
        ctx.note_busy("transcript left to the next save")
    _add_turn(ctx, "user", text_field(ctx.payload, "prompt"), opens_session=True)


def save_reply(ctx: HookContext) -> None:
    _add_turn(ctx, "assistant", text_field(ctx.payload, "last_assistant_message"))


def _add_turn(ctx: HookContext, role: str, text: str | None, opens_session: bool = False) -> None:
    session = ctx.session_id
    if session is None or (text is None and not opens_session):
        return
    now, prompt_id = utc_stamp(), text_field(ctx.payload, "prompt_id")
    text = None if text is None else clip(text, MAX_TURN_CHARS)
    try:
        if ctx.busy:
            raise BusyError("the archive is busy")
        with ctx.archive().db.write() as conn:  # one commit for the turn and the open mark
            if text is not None:
                chat.add(conn, session, prompt_id, role, now, text,
                         ctx.settings.compression_level)
            if opens_session:
                state.mark_open(conn, session, ctx.event, now)
    except BusyError:  # only the payload has these: keep them for the next run
        ctx.note_busy(f"the {'prompt' if role == 'user' else 'reply'} was spooled")
        if text is not None:
            ctx.spool({"kind": "turn", "session": session, "prompt_id": prompt_id,
                       "role": role, "at": now, "text": text})
        if opens_session:
            ctx.spool({"kind": "open", "session": session, "event": ctx.event, "at": now})
