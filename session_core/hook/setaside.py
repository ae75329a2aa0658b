"""Keeping on saving through damage: a hook that finds the archive damaged moves it aside and
starts again, so no turn of a running session is lost (setting ``auto_recover``).

The damaged file goes to ``quarantine/<time>/`` with its ``-wal``/``-shm`` (renames: nothing is
copied, nothing deleted, so it works on a full disk). The newest backup that passes a quick
check and has the current schema is copied into its place if the budget allows; otherwise the
hooks start a new archive, which the catch-up passes fill from the transcripts on disk. The
event's handlers then run again against it. Until ``session-core recover`` has merged what the
quarantined file still holds, the status line says a recover is pending.

Several hooks may meet the same damage at once: one lock file serialises them, and a hook moves
the archive aside only if the file there is still the one it found damaged (same inode).
"""

from __future__ import annotations

import os
import time

from ..base import locations
from ..base.fs import claim, file_identity, release
from ..store.archive import LATEST_VERSION
from ..store.quarantine import move_aside
from . import log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.errors import DamagedError
    from ..base.settings import Settings

LOCK_SUFFIX = ".set-aside.lock"
STALE_LOCK_S = 30.0
RESTORE_BYTES_PER_SECOND = 50 << 20
"""A cautious copy rate for deciding whether restoring a backup fits what is left of the budget."""


def set_aside(project: str, settings: Settings, damage: DamagedError, found: tuple[int, int] | None,
              seconds_left: float) -> str | None:
    """Move the damaged archive aside and put the newest good backup in its place; returns the
    quarantine folder (None if another hook had done it already)."""
    path = locations.archive_path(project)
    lock = path + LOCK_SUFFIX
    if not _acquire(lock):
        return None
    try:
        if found is None or file_identity(path) != found:
            return None  # already set aside by another hook: the file there is a new one
        # The successor is made ready first and takes the name right after the move: the
        # path is empty for a moment only, so no other session's hook writes a turn into an
        # archive that a restore would then replace.
        staged = path + ".restoring"
        restored = _restore_newest_backup(path, staged, settings, seconds_left)
        folder = move_aside(path, f"set aside by a hook: {damage.message}")
        if restored:
            os.replace(staged, path)
        log.mark_recover_pending(project, folder or "", damage.message, restored)
        log.log("ERROR", "hook", f"archive damaged ({damage.message}); moved to {folder},"
                f" {'restored ' + restored if restored else 'started a new archive'};"
                " run 'session-core recover'")
        return folder
    finally:
        release(lock)


def _acquire(lock: str) -> bool:
    """Take the lock; if another hook holds it, wait (briefly) for it to finish and say no."""
    if claim(lock, STALE_LOCK_S):
        return True
    _wait_for_release(lock)
    return False


def _wait_for_release(lock: str, seconds: float = 2.0) -> None:
    """Another hook is setting the archive aside: its successor is there once the lock goes."""
    until = time.monotonic() + seconds
    while os.path.exists(lock) and time.monotonic() < until:
        time.sleep(0.02)


def _restore_newest_backup(path: str, staged: str, settings: Settings,
                           seconds_left: float) -> str | None:
    """Copy the newest usable backup to ``staged``; its name, or None if none fits."""
    from ..store.backup import check_backup, list_backups, restore_backup

    started = time.monotonic()
    for backup in list_backups(path, settings, checked=False)[:3]:
        left = seconds_left - (time.monotonic() - started)
        if backup.size / RESTORE_BYTES_PER_SECOND > left / 2:
            return None
        if _schema(backup.path) != LATEST_VERSION:
            continue  # hooks never migrate; recover takes older ones
        if check_backup(backup.path)[1] is None:
            restore_backup(backup.path, staged)
            _full_catch_up_due(staged, os.path.dirname(path))
            return os.path.basename(backup.path)
    return None


def _full_catch_up_due(path: str, folder: str) -> None:
    """The restored backup is older than the transcripts on disk: the next session start
    passes over every transcript of the folder (``catch_up``), within its budget, and the next
    ones go on until it is done. Sessions forgotten since the backup was taken get their
    tombstones back first (from the file beside the archive), so the catch-up leaves them out;
    the next command forgets what the backup still holds of them (``cli.upgrade``)."""
    from ..base.fs import read_json_object
    from ..base.sqlite_driver import sqlite3
    from ..store import forgotten, meta

    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            meta.delete(conn, meta.FULL_CATCH_UP_AT)
            kept = read_json_object(os.path.join(folder, locations.FORGOTTEN_NAME))
            for uuid, when in kept.items():
                forgotten.add(conn, str(uuid), str(when))
        finally:
            conn.close()
    except sqlite3.Error:
        pass  # the next daily pass does it


def _schema(path: str) -> int:
    from ..store.connection import READ_ERRORS, open_read_only

    try:
        conn = open_read_only(path, immutable=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except READ_ERRORS:
        return -1
