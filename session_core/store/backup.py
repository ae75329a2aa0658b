"""Backups that are safe to take while hooks write, kept by a retention that never drops the
only copy of a session.

SQLite's online backup API in one step into a temporary file, made self-contained (no WAL),
verified with ``integrity_check``, synced, renamed into place, the directory synced
(``base.fs.publish``): a crash never leaves a half-written file under a backup's name, and a
damaged archive is never backed up at all (the check fails), so it cannot rotate good backups
away. Retention keeps the newest few of each label, the newest of each recent day and week, and
any backup that holds a session no newer backup holds.
"""

from __future__ import annotations

import os
import time

from ..base.clock import file_stamp
from ..base.errors import RECOVER_HINT, DamagedError, DatabaseError
from ..base.fs import ensure_private_dir, publish, temp_path
from ..base.locations import BACKUPS_DIR
from ..base.retention import day_of, kept
from ..base.sqlite_driver import sqlite3
from .connection import APPLICATION_ID, READ_ERRORS, Database, open_read_only, translate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.settings import Settings

AUTO = "auto"
"""The label of the backups hooks take when one is due."""
STALE_TEMP_SECONDS = 3600
"""A backup's temp file this old belongs to a process that died (killed at a hook's budget)."""
KEEP_BACKUPS = 5
"""Without settings (the tests' default), as many of each label as ``keep_last``'s default."""


def backups_folder(archive_path: str, backup_dir: str | None = None) -> str:
    """``backups/`` beside the archive, or, with ``backup_dir`` set, a folder named after the
    archive's folder inside it (several projects may share one ``backup_dir``)."""
    if not backup_dir:
        return os.path.join(os.path.dirname(archive_path), BACKUPS_DIR)
    folder = os.path.dirname(os.path.abspath(archive_path))
    name = "".join(char if char.isalnum() else "-" for char in folder)
    return os.path.join(os.path.expanduser(backup_dir), name[-200:])


def _folder_for(archive_path: str, settings: Settings | None) -> str:
    return backups_folder(archive_path, settings.backup_dir if settings else None)


def backup_database(db: Database, label: str = "manual",
                    settings: Settings | None = None) -> str:
    """Copy the live archive (WAL included) into its backups folder; returns the new file."""
    folder = ensure_private_dir(_folder_for(db.path, settings))
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
            raise DamagedError(f"the archive {db.path} is damaged (a backup of it failed"
                                f" integrity_check: {status}); no backup was kept",
                                RECOVER_HINT)
        os.chmod(temp, 0o600)
        publish(temp, final, durable=True)
    except sqlite3.Error as exc:
        error = translate(exc, db.path)  # damage first, then a full disk
        if isinstance(error, DamagedError):
            raise error from exc
        raise DatabaseError(f"cannot write backup {final}: {exc}", "free disk space") from exc
    except OSError as exc:
        raise DatabaseError(f"cannot write backup {final}: {exc}", "free disk space") from exc
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    prune(folder, settings)
    return final


def newest_stamp(archive_path: str, settings: Settings | None) -> str | None:
    """The time stamp of the newest backup's name, without opening any (hooks ask this)."""
    try:
        names = os.listdir(_folder_for(archive_path, settings))
    except OSError:
        return None
    stamps = [_stamp(name) for name in names if name.startswith("archive-")
              and name.endswith(".db")]
    return max(stamps, default=None)


def backup_due(archive_path: str, settings: Settings, now: float | None = None) -> bool:
    if settings.backup_interval_hours == 0:
        return False
    newest = newest_stamp(archive_path, settings)
    due_after = file_stamp((time.time() if now is None else now)
                           - settings.backup_interval_hours * 3600)
    return newest is None or newest < due_after


def _stamp(name: str) -> str:
    return name[len("archive-"):].split("-", 1)[0]


def _label(name: str) -> str:
    return name[:-3].split("-", 2)[-1]  # archive-<stamp>-<label>.db


class BackupInfo:
    """One backup file as ``backups`` and ``recover`` see it; ``problem`` None means it opened
    as ours and passed ``quick_check``."""

    __slots__ = ("label", "path", "problem", "sessions", "size", "stamp")

    def __init__(self, path: str, checked: bool = True) -> None:
        self.path = path
        name = os.path.basename(path)
        self.stamp = _stamp(name)
        self.label = _label(name)
        self.size = os.path.getsize(path)
        self.sessions, self.problem = check_backup(path) if checked else (0, None)

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


def _sessions_in(path: str) -> set[str] | None:
    """The sessions with files in a backup; None if it cannot be read (it is then kept)."""
    try:
        conn = open_read_only(path, immutable=True)
        try:
            return {uuid for (uuid,) in conn.execute(
                "SELECT DISTINCT s.uuid FROM files f JOIN sessions s ON s.id = f.session_id")}
        finally:
            conn.close()
    except READ_ERRORS:
        return None


def backups_holding(archive_path: str, uuids: list[str],
                    settings: Settings | None = None) -> list[str]:
    """The backups that hold any of these sessions (or cannot be read: they may)."""
    wanted = set(uuids)
    return [b.path for b in list_backups(archive_path, settings, checked=False)
            if (held := _sessions_in(b.path)) is None or held & wanted]


def list_backups(archive_path: str, settings: Settings | None = None,
                 checked: bool = True) -> list[BackupInfo]:
    """Every backup of the archive, newest first (names sort by time). ``checked=False``: not
    opened (a hook checks only the one it would use)."""
    try:
        folder = _folder_for(archive_path, settings)
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = [BackupInfo(os.path.join(folder, name), checked) for name in names
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


def prune(folder: str, settings: Settings | None = None) -> list[str]:
    """Apply retention to ``folder``; returns the names removed. Also drops temp files a
    killed backup left behind."""
    names = sorted((name for name in os.listdir(folder)
                    if name.startswith("archive-") and name.endswith(".db")),
                   key=_stamp, reverse=True)
    keep = _kept_by_policy(names, settings)
    held: set[str] = set()
    removed = []
    for name in names:  # newest first: what newer kept backups hold is known by then
        sessions = _sessions_in(os.path.join(folder, name))
        if name in keep or sessions is None or not sessions <= held:
            held |= sessions or set()
            continue
        _remove(os.path.join(folder, name))
        removed.append(name)
    _drop_stale_temps(folder)
    return removed


def _kept_by_policy(names: list[str], settings: Settings | None) -> set[str]:
    """``names`` newest first: the newest ``keep_last`` of each label (pre-migration copies
    never push out manual ones), and the newest of each of the last ``keep_daily`` days and
    ``keep_weekly`` ISO weeks."""
    per_label = settings.keep_last if settings else KEEP_BACKUPS
    daily = settings.keep_daily if settings else 0
    weekly = settings.keep_weekly if settings else 0
    days = [day_of(_stamp(name)) for name in names]
    keep = {names[index] for index in kept(days, 0, daily, weekly)}
    labels: dict[str, int] = {}
    for name in names:
        labels[_label(name)] = labels.get(_label(name), 0) + 1
        if labels[_label(name)] <= per_label:
            keep.add(name)
    return keep


def _drop_stale_temps(folder: str) -> None:
    now = time.time()
    for name in os.listdir(folder):
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
