"""session_loader: bring the archive up to date before the context manager reads it.

The session's own transcript (resume, compact) is saved first. Then sibling transcripts in the
project's Claude Code folder that grew since they were archived (a session whose SessionEnd never
fired, a Stop that ran ahead of its transcript) are caught up, newest first, for at most
:data:`CATCH_UP_SECONDS` so startup stays fast.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import paths
from ..errors import SessionCoreError
from ..hookio import text_field
from ..hookrun import HookContext
from ..ingest import ingest_file
from .common import save_transcript

CATCH_UP_SECONDS = 1.0
MAX_FILES = 20


def catch_up(ctx: HookContext) -> None:
    save_transcript(ctx)
    _catch_up_siblings(ctx)


def _folder(ctx: HookContext) -> Path:
    """The folder of the session's transcript (it may not exist yet), else the project's."""
    own = text_field(ctx.payload, "transcript_path")
    if own is not None and os.path.isabs(own):
        return Path(own).parent
    return paths.find_project_folder(
        ctx.project, paths.claude_projects_dir(ctx.settings.claude_config_dir))


def _stale(ctx: HookContext, folder: Path) -> list[Path]:
    """Top-level transcripts whose size differs from the archived one, newest first."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(".jsonl") and e.is_file()]
    except OSError:
        return []
    archived = dict(ctx.archive().db.conn.execute(
        "SELECT path, size FROM files WHERE kind = 'session'").fetchall())
    stale = [(e.stat().st_mtime, Path(e.path)) for e in entries
             if archived.get(os.path.abspath(e.path)) != e.stat().st_size]
    return [path for _, path in sorted(stale, reverse=True)[:MAX_FILES]]


def _catch_up_siblings(ctx: HookContext) -> None:
    stop_at = time.monotonic() + min(CATCH_UP_SECONDS, ctx.remaining() / 3)
    for path in _stale(ctx, _folder(ctx)):
        if time.monotonic() >= stop_at:
            ctx.warn("catch-up stopped at its time limit; the next session start continues")
            return
        try:
            ingest_file(ctx.archive().db, path, ctx.settings)
        except SessionCoreError as exc:
            ctx.warn(f"catch-up of {path}: {exc.message}")
