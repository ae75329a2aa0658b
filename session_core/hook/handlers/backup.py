"""backup: a verified backup at a Stop or SessionEnd when one is due (``backup_interval_hours``).

Taken after the event's own saves are committed, and only if it fits what is left of the
hook's budget (estimated from the archive's size): otherwise the next Stop takes it, since a
backup killed at the budget is only a temp file left for retention to sweep. A damaged archive
fails the backup's ``integrity_check``: the failure is logged and shown, and good backups stay.
"""

from __future__ import annotations

import os

from ...base.fs import claim, release
from ...store.backup import AUTO, backup_database, backup_due
from ..run import HookContext

LOCK_SUFFIX = ".backup.lock"
STALE_LOCK_S = 600.0
"""Past the longest budget: a lock this old was left by a hook killed mid-backup."""
BYTES_PER_SECOND = 50 << 20
"""A cautious rate for copy, integrity_check and fsync together (measured ~500 MB/s warm)."""
MARGIN_S = 0.3


def take_if_due(ctx: HookContext) -> None:
    db = ctx.archive().db
    if not backup_due(db.path, ctx.settings):
        return
    size = sum(os.path.getsize(db.path + suffix) for suffix in ("", "-wal")
               if os.path.exists(db.path + suffix))
    if ctx.remaining() < size / BYTES_PER_SECOND + MARGIN_S:
        ctx.warn(f"a backup is due but would not fit this hook's budget ({size:,} bytes);"
                 " left to the next Stop or to 'session-core backup'")
        return
    lock = db.path + LOCK_SUFFIX
    if not claim(lock, STALE_LOCK_S):
        return  # another hook is taking it right now
    try:
        ctx.commit()
        backup_database(db, AUTO, ctx.settings)
    finally:
        release(lock)
