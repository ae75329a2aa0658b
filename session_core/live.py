"""Per-session state for the status line, kept beside the archive as tiny JSON files.

The status line runs on every update of Claude Code's UI and must not open SQLite or re-read a
transcript, so the hooks that save leave what it shows here: how many messages of the session
are archived and when the last save was. ``os.path`` strings, no pathlib or hashlib at import:
the status line's budget is about one bare interpreter start, and those two cost a third of it.
"""

from __future__ import annotations

import os

from .jsonlite import loads

DATA_DIR_ENV = "SESSION_CORE_DATA_DIR"
APP_FOLDER = "session-core"
LIVE_DIR = "live"
HEALTH_NAME = "health.json"
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def archive_dir_for(project: str) -> str:
    """``SESSION_CORE_DATA_DIR``, else ``<project>/.claude/session-core`` (the one rule;
    :func:`session_core.paths.archive_dir` uses it too)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return os.path.realpath(os.path.expanduser(override))
    return os.path.join(project, ".claude", APP_FOLDER)


def live_file(archive_dir: str, session_id: str) -> str:
    return session_file(archive_dir, LIVE_DIR, session_id)


def session_file(archive_dir: str, folder: str, session_id: str) -> str:
    """A file name for any session id: ids that are not plain get hashed, never path-joined."""
    name = session_id
    if not 0 < len(session_id) <= 100 or not _SAFE.issuperset(session_id):
        import hashlib

        name = hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()[:32]
    return os.path.join(archive_dir, folder, f"{name}.json")


def read_json(path: str | os.PathLike[str]) -> dict[str, object]:
    """A small state file as a dict; missing, unreadable or not an object reads as empty."""
    try:
        with open(path, "rb") as handle:
            data = loads(handle.read())
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
