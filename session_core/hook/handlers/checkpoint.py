"""checkpoint: the automatic checkpoints, taken after the session's save so that they stand
at its archived end: before every compaction (PreCompact: what the summary replaces stays
reachable by ``session-core branch``), every ``checkpoint_every_turns`` prompts (Stop), and at
SessionEnd.

Cheap (one row, the last frame read for the last uuid, branch and commit read from ``.git``)
and never a failure of its own: a session with nothing archived yet has no checkpoint to take.
Whether the tree was dirty is left unknown here: ``git status`` would cost every PreCompact
and SessionEnd ``subprocess`` and a process (the hook path's import budget); a named
checkpoint (``session-core checkpoint create``) asks git.
"""

from __future__ import annotations

from ...base.errors import NotFoundError
from ..run import HookContext
from .common import save_transcript


def before_compact(ctx: HookContext) -> None:
    """PreCompact, after the save: what the summary is about to replace stays reachable."""
    _take(ctx, "compact")


def every_turns(ctx: HookContext) -> None:
    """Stop: off by default (``checkpoint_every_turns`` 0), then not even the archive opens."""
    session = ctx.session_id
    every = ctx.settings.checkpoint_every_turns
    if session is None or every <= 0:
        return  # every Stop gets here: nothing of the checkpoints is imported before this
    from ...transcript.checkpoint import turns_due

    if turns_due(ctx.archive().db.conn, session, every):
        _take(ctx, "turns")


def at_end(ctx: HookContext) -> None:
    """SessionEnd: saved first (it runs before the saver's own end, whose catch-up may use
    the rest of the 1.5 s; the saver then finds nothing new)."""
    save_transcript(ctx)
    _take(ctx, "end")


def _take(ctx: HookContext, reason: str) -> None:
    from ...handoff.git import read_head
    from ...transcript.checkpoint import take

    session = ctx.session_id
    if session is None:
        return
    head = read_head(ctx.project)
    git = (head.branch, head.commit, None) if head else (None, None, None)
    try:
        take(ctx.archive().db, session, reason, git, ctx.settings)
    except NotFoundError:  # nothing archived yet: nothing to point at
        return
