"""session_saver: archive the transcript at every Stop, SubagentStop, PreCompact and SessionEnd;
at SessionEnd also the folder's other transcripts that grew without us (see :mod:`.siblings`).

Saving is incremental and idempotent, so a Stop that finds the transcript lagging loses nothing:
the next event (or ``import``) picks up where the archive stopped.
"""

from __future__ import annotations

from .. import gitinfo, live
from ..digest_cache import session_digest
from ..hookio import text_field
from ..hookrun import HookContext
from ..ingest import IngestReport, compact_file
from ..queries import file_at
from .common import save_transcript
from .siblings import catch_up_folder, utc_now

_COMPACT_NEEDS_S = 0.3
"""Merging a session's small frames at SessionEnd is skipped when less than this is left."""


FOLD_FROM_START_UP_TO = 8 * 1024 * 1024
"""A session's digest is folded from its first line at a Stop only up to this size (~50 ms);
past it (a session from before digests were saved) the next SessionStart folds it once."""


def save(ctx: HookContext) -> None:
    report = save_transcript(ctx)
    if ctx.event == "SubagentStop":
        save_transcript(ctx, "agent_transcript_path")
    _remember_git(ctx)
    if report is not None and ctx.event != "SubagentStop":
        _update_digest(ctx, report)


def end(ctx: HookContext) -> None:
    """SessionEnd (1.5 s budget): save, note how it ended, then compact and check the other
    transcripts of the folder if time allows."""
    report = save_transcript(ctx)
    _remember_git(ctx, end_reason=text_field(ctx.payload, "reason") or "unknown")
    if report is not None and ctx.remaining() > _COMPACT_NEEDS_S:
        _update_digest(ctx, report)
    if report is not None and ctx.remaining() > _COMPACT_NEEDS_S:
        compact_file(ctx.archive().db, report.path, ctx.settings)
    if ctx.remaining() > _COMPACT_NEEDS_S:
        catch_up_folder(ctx)


def _update_digest(ctx: HookContext, report: IngestReport) -> None:
    """Fold what this event archived into the session's saved digest, so the next session's
    handoff reads a few lines, not the whole transcript (``digest_cache``). A cache: its
    failure (a damaged frame, say) is a warning, and the next session start folds instead."""
    try:
        conn = ctx.archive().db.conn
        record = file_at(conn, report.path)
        if record is not None and record.kind == "session" and ctx.session_id is not None \
                and report.session_uuid == ctx.session_id:
            session_digest(conn, live.archive_dir_for(ctx.project), ctx.session_id, record,
                           FOLD_FROM_START_UP_TO)
    except Exception as exc:  # never at the cost of the save, git state or compaction
        ctx.warn(f"saved digest not updated: {type(exc).__name__}: {exc}")


def _remember_git(ctx: HookContext, end_reason: str | None = None) -> None:
    """Branch and commit as the session leaves them: the handoff reports them."""
    session = ctx.session_id
    if session is None:
        return
    head = gitinfo.read_head(ctx.project)  # None: no repository, or HEAD unreadable now
    branch, commit = (head.branch, head.commit) if head else (None, None)
    known = ctx.archive().db.conn.execute(
        "SELECT git_branch, git_commit, ended_at FROM session_state WHERE session_uuid = ?",
        (session,)).fetchone()
    if end_reason is None and known is not None and known[2] is None and (
            head is None or known[:2] == (branch, commit)):
        return  # nothing new: spare a write transaction (and its fsync) on every Stop
    now = utc_now()
    with ctx.archive().db.write() as conn:
        conn.execute(
            "INSERT INTO session_state(session_uuid, git_branch, git_commit, last_event,"
            " last_event_at, end_reason, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(session_uuid) DO UPDATE SET"
            # HEAD as read (None on a detached HEAD), or what was known if it cannot be read.
            " git_branch = CASE WHEN ? THEN excluded.git_branch ELSE git_branch END,"
            " git_commit = CASE WHEN ? THEN excluded.git_commit ELSE git_commit END,"
            " last_event = excluded.last_event, last_event_at = excluded.last_event_at,"
            # A session resumed after its SessionEnd is open again until it ends again.
            " end_reason = excluded.end_reason, ended_at = excluded.ended_at",
            (session, branch, commit, ctx.event, now, end_reason, now if end_reason else None,
             head is not None, head is not None),
        )
