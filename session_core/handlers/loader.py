"""session_loader: bring the archive up to date before the context manager reads it.

The session's own transcript (resume, compact) is saved first, then transcripts of earlier
sessions that did not end cleanly are caught up (see :mod:`.siblings`), so the handoff reads a
complete previous session.
"""

from __future__ import annotations

from ..hookrun import HookContext
from .common import save_transcript
from .siblings import catch_up_open_sessions


def catch_up(ctx: HookContext) -> None:
    save_transcript(ctx)
    catch_up_open_sessions(ctx)
