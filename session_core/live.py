"""Per-session state for the status line, kept beside the archive as tiny JSON files.

The status line runs on every update of Claude Code's UI and must not open SQLite or re-read a
transcript, so the hooks that save leave what it shows here: how many messages of the session
are archived and when the last save was. Standard library only: the status line imports this.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from . import paths

LIVE_DIR = "live"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def live_path(archive_dir: Path, session_id: str) -> Path:
    """A file name for any session id: ids that are not plain get hashed, never path-joined."""
    name = session_id if _SAFE_ID.match(session_id) else hashlib.sha256(
        session_id.encode("utf-8", "replace")).hexdigest()[:32]
    return archive_dir / LIVE_DIR / f"{name}.json"


def archive_dir_for(project: str | os.PathLike[str]) -> Path:
    return paths.archive_dir(Path(project))
