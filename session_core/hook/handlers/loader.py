"""session_loader: bring the archive up to date before the context manager reads it.

The session's own transcript (resume, compact) is saved first, then transcripts of earlier
sessions that did not end cleanly are caught up (see :mod:`.catch_up`), so the handoff reads a
complete previous session.
"""

from __future__ import annotations

from ..run import HookContext
from .catch_up import catch_up_open_sessions
from .common import save_transcript


def load(ctx: HookContext) -> None:
    save_transcript(ctx)
    ctx.commit()  # the session's own save never waits on (or dies with) the catch-up
    catch_up_open_sessions(ctx)
