"""What several handlers do: archive a transcript named in the payload, update the live state."""

from __future__ import annotations

import os
import time

from .. import hooklog, live
from ..errors import InputError
from ..hookio import text_field
from ..hookrun import HookContext
from ..ingest import IngestReport, ingest_file
from ..queries import session_message_count


def transcript_of(ctx: HookContext, field: str = "transcript_path") -> str | None:
    """The payload's transcript, if Claude Code has written one yet (it may lag or be gone)."""
    text = text_field(ctx.payload, field)
    if text is None:
        return None
    if not os.path.exists(text):
        # At SessionStart that is the normal case: Claude Code writes the file with the first
        # message. Still logged (the log is where a wrong path shows), but not as a warning.
        hooklog.log("INFO" if ctx.event == "SessionStart" else "WARN", ctx.event,
                    f"{field} {text} does not exist (yet); the next event catches up")
        return None
    return text


def save_transcript(ctx: HookContext, field: str = "transcript_path") -> IngestReport | None:
    """Archive what is new in the transcript; a path that is no transcript is logged, not fatal."""
    path = transcript_of(ctx, field)
    if path is None:
        return None
    try:
        report = ingest_file(ctx.archive().db, path, ctx.settings)
    except InputError as exc:
        ctx.warn(exc.message)
        return None
    for warning in report.warnings[:5]:
        hooklog.log("WARN", ctx.event, warning)
    return report


def update_live_state(ctx: HookContext) -> None:
    """Leave the status line its numbers: archived messages of this session, time of this save.

    The transcript often lags behind Stop (the reply is not in the file yet), while the prompt
    and reply from the payloads are already kept in ``chat_turns``: count whichever is more.
    """
    session = ctx.session_id
    if session is None:
        return
    conn = ctx.archive().db.conn
    turns = conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = ?",
                         (session,)).fetchone()[0]
    saved = max(session_message_count(conn, session), int(turns))
    hooklog.write_json_atomic(live_state_path(ctx, session),
                              {"saved": saved, "saved_at": time.time()})


def live_state_path(ctx: HookContext, session: str) -> str:
    """Where the status line reads a session's saved count (``live.live_file``)."""
    return live.live_file(live.archive_dir_for(ctx.project), session)
