"""upkeep: what keeps the archive sound, after (or, for the check, before) the saves.

- ``check_if_due`` (first at a Stop): SQLite's ``quick_check`` and the full-text index's own
  check when the last ran ``check_interval_hours`` ago and it fits the budget. Damage it finds
  is raised as ``DamagedError``, so the archive is set aside (``auto_recover``) and this Stop's
  save goes to its successor. The time of the last clean check is ``meta.checked_at``.
- ``drain_spool``: what earlier hooks spooled while the archive was busy (``store.spool``).
- ``backup_if_due`` (Stop, SessionEnd): a verified backup when one is due
  (``backup_interval_hours``), after the event's saves are committed, and only if it fits what
  is left of the budget (estimated from the archive's size): otherwise the next Stop takes it.
  A damaged archive fails the backup's ``integrity_check``: logged and shown, good backups stay.

The check and the backup are claimed by one hook at a time (a lock file): many sessions' Stops
must not all run one at once. One module for the three: a Stop imports it once.
"""

from __future__ import annotations

import os
import time

from ...base import locations
from ...base.errors import DamagedError
from ...base.fs import claim, release
from ...store import meta
from ...store.connection import translate
from ..run import HookContext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...store.connection import Database

CHECK_LOCK, CHECK_LOCK_STALE_S = ".check.lock", 60.0
BACKUP_LOCK, BACKUP_LOCK_STALE_S = ".backup.lock", 600.0
"""Past the longest budget: a lock this old was left by a hook killed half way."""
CHECK_BYTES_PER_SECOND = 100 << 20
"""A cautious rate for ``quick_check`` (it reads every page once)."""
BACKUP_BYTES_PER_SECOND = 50 << 20
"""A cautious rate for copy, integrity_check and fsync together (measured ~500 MB/s warm)."""
BACKUP_MARGIN_S = 0.3


def check_if_due(ctx: HookContext) -> None:
    interval = ctx.settings.check_interval_hours
    if interval == 0:
        return
    db = ctx.archive().db
    last = meta.get(db.conn, meta.CHECKED_AT)
    try:
        if last is not None and time.time() - float(last) < interval * 3600:
            return
    except ValueError:
        pass
    size = os.path.getsize(db.path)
    if ctx.remaining() < 3 * size / CHECK_BYTES_PER_SECOND + 1.0:  # the saves come after it
        ctx.warn(f"the archive check is due but left to a later Stop ({size:,} bytes)")
        return
    lock = db.path + CHECK_LOCK
    if not claim(lock, CHECK_LOCK_STALE_S):
        return  # another Stop is checking right now
    try:
        _check(db)
    finally:
        release(lock)


def _check(db: Database) -> None:
    from ...base.sqlite_driver import sqlite3
    from ...store import entries

    try:
        result = [row[0] for row in db.conn.execute("PRAGMA quick_check")]
        entries.check_full_text(db.conn)
    except sqlite3.Error as exc:
        raise translate(exc, db.path) from exc
    if result != ["ok"]:
        raise DamagedError(f"the archive {db.path} is damaged (quick_check: {result[0]})")
    with db.write() as conn:
        meta.put(conn, meta.CHECKED_AT, str(int(time.time())))


def drain_spool(ctx: HookContext) -> None:
    from ...store import spool  # its chat and state writers: only once something is spooled

    if ctx.busy or not spool.pending(locations.archive_path(ctx.project)):
        return  # one listdir on every run: nothing spooled, nothing opened
    spool.drain(ctx.archive().db, ctx.settings.compression_level)


def backup_if_due(ctx: HookContext) -> None:
    from ...store.backup import AUTO, backup_database, backup_due

    db = ctx.archive().db
    if not backup_due(db.path, ctx.settings):
        return
    size = sum(os.path.getsize(db.path + suffix) for suffix in ("", "-wal")
               if os.path.exists(db.path + suffix))
    if ctx.remaining() < size / BACKUP_BYTES_PER_SECOND + BACKUP_MARGIN_S:
        ctx.warn(f"a backup is due but would not fit this hook's budget ({size:,} bytes);"
                 " left to the next Stop or to 'session-core backup'")
        return
    lock = db.path + BACKUP_LOCK
    if not claim(lock, BACKUP_LOCK_STALE_S):
        return  # another hook is taking it right now
    try:
        ctx.commit()
        backup_database(db, AUTO, ctx.settings)
    finally:
        release(lock)
