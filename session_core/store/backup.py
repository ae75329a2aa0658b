"""Backups that are safe to take while hooks write: SQLite's online backup API in one step.

Written to a temporary file, verified, synced, then renamed into place and the directory synced
(``base.fs.publish``), so a crash never leaves a half-written file under a backup's name.
"""

from __future__ import annotations

import os
import sqlite3
import time

from ..base.clock import file_stamp
from ..base.errors import DatabaseError
from ..base.fs import ensure_private_dir, publish, temp_path
from ..base.locations import BACKUPS_DIR
from .connection import APPLICATION_ID, READ_ERRORS, Database, open_read_only

KEEP_BACKUPS = 5
STALE_TEMP_SECONDS = 3600
"""A backup's temp file this old belongs to a process that died (killed at a hook's budget)."""


def backups_folder(archive_path: str) -> str:
    return os.path.join(os.path.dirname(archive_path), BACKUPS_DIR)


def backup_dir(db: Database) -> str:
    return ensure_private_dir(backups_folder(db.path))


def backup_database(db: Database, label: str = "manual") -> str:
    """Copy the live archive (WAL included) to ``backups/``; returns the new file's path."""
    folder = backup_dir(db)
    final = os.path.join(folder, f"archive-{file_stamp()}-{label}.db")
    temp = final[:-3] + ".tmp"
    try:
        dest = sqlite3.connect(temp)
        try:
            db.conn.backup(dest)  # pages=-1: one step, so concurrent writes cannot restart it
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            status = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
        if status != "ok":
            raise DatabaseError(f"backup failed its integrity check: {status}")
        os.chmod(temp, 0o600)
        publish(temp, final, durable=True)
    except (OSError, sqlite3.Error) as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        raise DatabaseError(f"cannot write backup {final}: {exc}", "free disk space") from exc
    _prune(folder)
    return final


def _label(name: str) -> str:
    return name[:-3].split("-", 2)[-1]  # archive-<stamp>-<label>.db


def _prune(folder: str) -> None:
    """Keep the newest few of each label (pre-migration copies never push out manual ones) and
    drop temp files that a killed backup left behind."""
    names = sorted(os.listdir(folder))
    by_label: dict[str, list[str]] = {}
    for name in names:
        if name.startswith("archive-") and name.endswith(".db"):
            by_label.setdefault(_label(name), []).append(name)
    for backups in by_label.values():
        for old in backups[:-KEEP_BACKUPS]:
            _remove(os.path.join(folder, old))
    now = time.time()
    for name in names:
        if name.startswith("archive-") and ".tmp" in name:
            path = os.path.join(folder, name)
            try:
                if now - os.stat(path).st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(path)
            except OSError:
                pass


def _remove(path: str) -> None:
    try:  # noqa: SIM105 - contextlib is kept off the hook path
        os.unlink(path)
    except FileNotFoundError:
        pass


class BackupInfo:
    """One backup file as ``backups`` and ``recover`` see it; ``problem`` None means it opened
    as ours and passed ``quick_check``."""

    __slots__ = ("label", "path", "problem", "sessions", "size", "stamp")

    def __init__(self, path: str) -> None:
        self.path = path
        name = os.path.basename(path)
        self.stamp = name[len("archive-"):].split("-", 1)[0]
        self.label = _label(name)
        self.size = os.path.getsize(path)
        self.sessions, self.problem = check_backup(path)

    @property
    def usable(self) -> bool:
        return self.problem is None


def check_backup(path: str) -> tuple[int, str | None]:
    """(sessions held, problem or None): read-only, never creating or changing the file."""
    try:
        conn = open_read_only(path, immutable=True)
    except READ_ERRORS as exc:
        return 0, f"cannot open: {exc}"
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            return 0, f"not an archive of ours (application_id {app_id:#x})"
        status = conn.execute("PRAGMA quick_check").fetchone()[0]
        sessions = int(conn.execute("SELECT count(DISTINCT session_id) FROM files").fetchone()[0])
        return sessions, None if status == "ok" else f"quick_check: {status}"
    except READ_ERRORS as exc:
        return 0, f"damaged: {exc}"
    finally:
        conn.close()


def list_backups(archive_path: str) -> list[BackupInfo]:
    """Every backup of the archive, newest first (names sort by time)."""
    folder = backups_folder(archive_path)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = [BackupInfo(os.path.join(folder, name)) for name in names
             if name.startswith("archive-") and name.endswith(".db")]
    return sorted(found, key=lambda info: info.stamp, reverse=True)


def restore_backup(backup: str, archive_path: str) -> None:
    """Put a copy of ``backup`` where the archive goes (synced, then renamed into place):
    the backup itself is never opened for writing."""
    import shutil  # recovery only: shutil stays off the hook path

    temp = temp_path(archive_path)
    try:
        shutil.copyfile(backup, temp)
        os.chmod(temp, 0o600)
        publish(temp, archive_path, durable=True)
    except OSError as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        raise DatabaseError(f"cannot restore {backup} to {archive_path}: {exc}",
                            "free disk space, then run 'session-core recover' again") from exc
