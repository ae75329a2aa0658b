"""context_manager: what the next context needs, handed over at SessionStart.

``startup``/``clear`` get the most recent earlier session of the project, ``compact`` gets this
session's own open threads, ``resume``/``fork`` a one-line note (Claude Code restores the
conversation itself). PostCompact keeps the compaction summary. No history, no output.
"""

from __future__ import annotations

from ...base.clock import utc_stamp
from ...base.errors import BusyError
from ...handoff import notes
from ...handoff.git import DirtyCheck, read_head
from ...store import state
from ..live import saved_recently
from ..run import HookContext
from ..stdio import text_field

HANDS_OVER = ("startup", "clear")
"""The sources whose handoff tells of the previous session (and whether the tree is dirty)."""


def start_git_status(ctx: HookContext) -> None:
    """Start the handoff's ``git status`` now, in a git project, so that it runs while the
    loader catches the archive up; :func:`handoff` reads it (or it is stopped at the end)."""
    if (text_field(ctx.payload, "source") or "startup") in HANDS_OVER \
            and read_head(ctx.project) is not None:
        ctx.dirty_check = DirtyCheck(ctx.project)


def handoff(ctx: HookContext) -> None:
    source = text_field(ctx.payload, "source") or "startup"
    session = ctx.session_id
    if source in ("resume", "fork"):
        text = notes.resume_note(ctx.archive().db.conn, session) if session else ""
    elif source == "compact":
        text = notes.compact_note(ctx.archive().db, session, ctx.settings, ctx.project) \
            if session else ""
    else:
        text = _previous_session_note(ctx)
    if text:
        ctx.context.append(text)


def _previous_session_note(ctx: HookContext) -> str:
    db = ctx.archive().db
    choice = notes.choose(db, ctx.session_id or "", ctx.settings,
                          running=lambda uuid: saved_recently(ctx.archive_dir, uuid))
    if choice is None:
        return ""
    ctx.commit(tolerate_failure=True)  # other sessions' hooks never wait on our git status
    dirty_check, ctx.dirty_check = ctx.dirty_check, None
    return notes.previous_session_note(db, choice, ctx.settings, dirty_check, ctx.deadline,
                                       saved_recently(ctx.archive_dir, choice.row.uuid),
                                       ctx.project)


def after_compact(ctx: HookContext) -> None:
    """Keep Claude Code's own compaction summary next to the session (lossy, but the model's)."""
    summary, session = text_field(ctx.payload, "compact_summary"), ctx.session_id
    if summary is None or session is None:
        return
    try:
        with ctx.archive().db.write() as conn:
            state.save_compact_summary(conn, session, summary, ctx.settings.compression_level)
    except BusyError:
        ctx.note_busy("the compaction summary was spooled")
        ctx.spool({"kind": "compact_summary", "session": session, "at": utc_stamp(),
                   "text": summary})
