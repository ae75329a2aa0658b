"""drain: what earlier hooks spooled while the archive was busy (``store.spool``), written
into it by the next hook run that gets the lock (commands drain it too)."""

from __future__ import annotations

from ...base import locations
from ...store import spool
from ..run import HookContext


def drain_spool(ctx: HookContext) -> None:
    if ctx.busy or not spool.pending(locations.archive_path(ctx.project)):
        return  # one stat on every run: nothing spooled, nothing opened
    spool.drain(ctx.archive().db, ctx.settings.compression_level)
