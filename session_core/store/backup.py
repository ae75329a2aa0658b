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
from ..base.fs import ensure_private_dir, publish
from ..base.locations import BACKUPS_DIR
from .connection import Database

KEEP_BACKUPS = 5
STALE_TEMP_SECONDS = 3600
"""A backup's temp file this old belongs to a process that died (killed at a hook's budget)."""


def backup_dir(db: Database) -> str:
    return ensure_private_dir(os.path.join(os.path.dirname(db.path), BACKUPS_DIR))


def backup_database(db: Database, label: str = "manual") -> str:
    """Copy the live archive (WAL included) to ``backups/``; returns the new file's path."""
    folder = backup_dir(db)
    final = os.path.join(folder, f"archive-{file_stamp()}-{label}.db")
    temp = final[:-3] + ".tmp"
    try:
        dest = sqlite3.connect(temp)
        try:
            db.conn.backup(dest)  # pages=-1: one step, so concurrent writes cannot restart it
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
