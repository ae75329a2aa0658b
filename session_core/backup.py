"""Backups that are safe to take while hooks write: SQLite's online backup API in one step.

Written to a temporary file, synced, verified, then renamed into place and the directory synced,
so a crash never leaves a half-written file under a backup's name.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from . import paths
from .db import Database
from .errors import DatabaseError

KEEP_BACKUPS = 5


def backup_dir(db: Database) -> Path:
    return Path(paths.ensure_private_dir(Path(db.path).parent / "backups"))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_database(db: Database, label: str = "manual") -> Path:
    """Copy the live archive (WAL included) to ``backups/``; returns the new file."""
    folder = backup_dir(db)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = folder / f"archive-{stamp}-{label}.db"
    temp = final.with_suffix(".tmp")
    try:
        dest = sqlite3.connect(str(temp))
        try:
            db.conn.backup(dest)  # pages=-1: one step, so concurrent writes cannot restart it
            status = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
        if status != "ok":
            raise DatabaseError(f"backup failed its integrity check: {status}")
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, final)
        _fsync_dir(folder)
    except (OSError, sqlite3.Error) as exc:
        temp.unlink(missing_ok=True)
        raise DatabaseError(f"cannot write backup {final}: {exc}", "free disk space") from exc
    _prune(folder)
    return final


STALE_TEMP_SECONDS = 3600
"""A backup's temp file this old belongs to a process that died (killed at a hook's budget)."""


def _label(backup: Path) -> str:
    return backup.stem.split("-", 2)[-1]  # archive-<stamp>-<label>


def _prune(folder: Path) -> None:
    """Keep the newest few of each label (pre-migration copies never push out manual ones) and
    drop temp files that a killed backup left behind."""
    by_label: dict[str, list[Path]] = {}
    for backup in sorted(folder.glob("archive-*.db")):
        by_label.setdefault(_label(backup), []).append(backup)
    for backups in by_label.values():
        for old in backups[:-KEEP_BACKUPS]:
            old.unlink(missing_ok=True)
    now = datetime.now(timezone.utc).timestamp()
    for temp in folder.glob("archive-*.tmp*"):
        try:
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink()
        except OSError:
            pass
