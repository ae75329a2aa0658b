"""session_saver: archive the transcript at every Stop, SubagentStop, PreCompact and SessionEnd,
and at a Stop or SessionEnd the session's subagent transcripts that grew after their own
SubagentStop; at SessionEnd also the folder's other transcripts that grew without us (see
:mod:`.catch_up`).

Saving is incremental and idempotent, so a Stop that finds the transcript lagging loses nothing:
the next event (or ``import``) picks up where the archive stopped. The session's handoff digest
is folded by the same ingest, from the records it parsed (``transcript.ingest``).
"""

from __future__ import annotations

import os

from ...base.clock import utc_stamp
from ...handoff.git import read_head
from ...store import files, sessions, state
from ...transcript.ingest import compact_file
from ..run import HookContext
from ..stdio import text_field
from .common import save_file, save_transcript

_COMPACT_NEEDS_S = 0.3
"""Merging a session's small frames at SessionEnd is skipped when less than this is left."""


def save(ctx: HookContext) -> None:
    save_transcript(ctx)
    if ctx.event == "Stop":
        save_grown_subagents(ctx)
    if ctx.event == "SubagentStop":
        report = save_transcript(ctx, "agent_transcript_path")
        if report is not None:  # its .meta.json (agent type, description) beside it
            meta_file = report.path.removesuffix(".jsonl") + ".meta.json"
            if meta_file != report.path and os.path.isfile(meta_file):
                save_file(ctx, meta_file)
    _remember_git(ctx)


def end(ctx: HookContext) -> None:
    """SessionEnd (1.5 s budget): save, note how it ended, then compact and check the other
    transcripts of the folder if time allows. Each step is committed before the next, optional
    one: a catch-up cut off at the budget must not take the session's own save with it."""
    report = save_transcript(ctx)
    _remember_git(ctx, end_reason=text_field(ctx.payload, "reason") or "unknown")
    ctx.commit()
    if ctx.remaining() > _COMPACT_NEEDS_S:
        save_grown_subagents(ctx)
        ctx.commit()
    if report is not None and ctx.remaining() > _COMPACT_NEEDS_S:
        compact_file(ctx.archive().db, report.path, ctx.settings)
        ctx.commit()
    if ctx.remaining() > _COMPACT_NEEDS_S:
        from .catch_up import catch_up_folder  # SessionEnd only: a Stop never loads it

        catch_up_folder(ctx)


def save_grown_subagents(ctx: HookContext) -> None:
    """The session's subagent transcripts that grew since they were archived: SubagentStop
    fires before Claude Code has written a subagent's last lines (its final tool results among
    them), and nothing else would save them until the next ``import``. One indexed query and a
    ``stat`` per subagent file; sessions without subagents pay the query alone."""
    session = ctx.session_id
    if session is None:
        return
    conn = ctx.archive().db.conn
    session_id = sessions.id_of(conn, session)
    if session_id is None:
        return
    for record in files.of_session(conn, session_id):
        if record.kind != "subagent":
            continue
        try:
            grown = os.path.getsize(record.path) != record.size
        except OSError:
            continue  # gone from disk: the archive keeps what it had
        if grown:
            save_file(ctx, record.path)


def _remember_git(ctx: HookContext, end_reason: str | None = None) -> None:
    """Branch and commit as the session leaves them: the handoff reports them."""
    session = ctx.session_id
    if session is None:
        return
    head = read_head(ctx.project)  # None: no repository, or HEAD unreadable now
    branch, commit = (head.branch, head.commit) if head else (None, None)
    known = state.get(ctx.archive().db.conn, session)
    if end_reason is None and known is not None and known.ended_at is None and (
            head is None or (known.git_branch, known.git_commit) == (branch, commit)):
        return  # nothing new: spare a write transaction (and its fsync) on every Stop
    with ctx.archive().db.write() as conn:
        state.record_event(conn, session, ctx.event, utc_stamp(), head is not None, branch,
                           commit, end_reason)
