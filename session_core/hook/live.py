"""What the hooks leave for the status line: a tiny JSON file per session beside the archive.

The status line runs on every update of Claude Code's UI and must not open SQLite or re-read a
transcript, so the hooks that save leave what it shows here: how many messages of the session
are archived and when the last save was (``live/<session>.json``), and whether hooks have been
failing (``health.json``, written by ``hook.log``). No pathlib or hashlib at import: the status
line's budget is about one bare interpreter start.
"""

from __future__ import annotations

import os
import time

from ..base.fs import ensure_private_dir, read_json_object, write_atomic
from ..base.jsonlite import dumps
from ..base.locations import FAILED_MARKER_NAME, HEALTH_NAME, LIVE_DIR

RUNNING_SECONDS = 15 * 60
"""A session with no SessionEnd, saved this recently, may still be open in another terminal."""
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def live_file(archive_dir: str, session_id: str, suffix: str = ".json") -> str:
    """A file name for any session id: ids that are not plain get hashed, never path-joined
    (a ``session_id`` comes from a payload: it is untrusted)."""
    name = session_id
    if not 0 < len(session_id) <= 100 or not _SAFE.issuperset(session_id):
        import hashlib

        name = hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()[:32]
    return os.path.join(archive_dir, LIVE_DIR, f"{name}{suffix}")


RECOVER_PENDING = "recover_pending"
"""Key of ``health.json`` set when a hook set a damaged archive aside; ``recover`` clears it."""


def failed_marker(archive_dir: str) -> str:
    """An empty file left when a hook failed and could not even write ``health.json``."""
    return os.path.join(archive_dir, FAILED_MARKER_NAME)


def health_file(archive_dir: str) -> str:
    return os.path.join(archive_dir, HEALTH_NAME)


def read_live(archive_dir: str, session_id: str) -> dict[str, object]:
    return read_json_object(live_file(archive_dir, session_id))


def write_live(archive_dir: str, session_id: str, saved: int) -> None:
    """``saved`` messages of the session are archived, as of now."""
    path = live_file(archive_dir, session_id)
    ensure_private_dir(os.path.dirname(path))
    write_atomic(path, dumps({"saved": saved, "saved_at": time.time()}).encode())


def saved_recently(archive_dir: str, session_id: str) -> bool:
    """The hooks saved this session in the last :data:`RUNNING_SECONDS`."""
    saved_at = read_live(archive_dir, session_id).get("saved_at")
    return isinstance(saved_at, (int, float)) and time.time() - saved_at < RUNNING_SECONDS


def first_time(archive_dir: str, session_id: str, key: str) -> bool:
    """Whether the session meets ``key`` (a file about to change, an error) for the first
    time, remembering it if so (``live/<session>.recalled``, one key a line): a note is given
    once per session, not at every edit. Unreadable memory counts as first."""
    path = live_file(archive_dir, session_id, ".recalled")
    line = key.replace("\n", " ") + "\n"
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if line in handle:
                return False
    except OSError:
        pass
    try:
        ensure_private_dir(os.path.dirname(path))
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode("utf-8", "replace"))
        finally:
            os.close(descriptor)
    except OSError:
        pass
    return True
