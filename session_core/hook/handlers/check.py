"""check: SQLite's ``quick_check`` and the full-text index's own check, at a Stop, when the
last ran ``check_interval_hours`` ago and it fits the budget.

It runs first, before the event's saves: damage it finds is raised as ``DamagedError``, so the
archive is set aside (``auto_recover``) and this Stop's save goes to its successor. The time of
the last clean check is kept in ``meta`` (``checked_at``).
"""

from __future__ import annotations

import os
import time

from ...base.errors import DamagedError
from ...base.fs import claim, release
from ...store import meta
from ...store.connection import translate
from ..run import HookContext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...store.connection import Database

LOCK_SUFFIX = ".check.lock"
STALE_LOCK_S = 60.0
BYTES_PER_SECOND = 100 << 20
"""A cautious rate for ``quick_check`` (it reads every page once)."""


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
    if ctx.remaining() < 3 * size / BYTES_PER_SECOND + 1.0:  # the saves come after it
        ctx.warn(f"the archive check is due but left to a later Stop ({size:,} bytes)")
        return
    lock = db.path + LOCK_SUFFIX
    if not claim(lock, STALE_LOCK_S):
        return  # another Stop is checking right now
    try:
        _check(db)
    finally:
        release(lock)


def _check(db: Database) -> None:
    import sqlite3

    try:
        result = [row[0] for row in db.conn.execute("PRAGMA quick_check")]
        db.conn.execute("INSERT INTO entries_fts(entries_fts) VALUES('integrity-check')")
    except sqlite3.Error as exc:
        raise translate(exc, db.path) from exc
    if result != ["ok"]:
        raise DamagedError(f"the archive {db.path} is damaged (quick_check: {result[0]})")
    with db.write() as conn:
        meta.put(conn, meta.CHECKED_AT, str(int(time.time())))
