"""Catching up transcripts the hooks did not finish: a session whose SessionEnd never fired (a
crash, a closed terminal) or one that ran without our hooks.

Checking every transcript of the project means one ``stat`` per session ever run, which grows
without bound, so the work is split by what can have changed:

- at SessionStart, only sessions active in the last :data:`OPEN_WINDOW_DAYS` that did not end
  cleanly: the ones whose tail can be missing. A prompt marks its session open
  (``store.state.mark_open``; a resumed session is open again), SessionEnd marks it ended, so
  even a session that crashed before its first Stop, with nothing archived yet, is found;
- at SessionEnd (after the session's own save), every transcript in the folder, newest first,
  inside what is left of the budget: new files from sessions without hooks, files that grew
  without us;
- at SessionStart too when no full pass finished for :data:`FULL_PASS_EVERY_S`, for users whose
  sessions rarely end cleanly.

Every pass stops at a time limit; whatever it leaves is picked up by the next one.
"""

from __future__ import annotations

import os
import time

from ...base.clock import utc_stamp
from ...base.errors import SessionCoreError
from ...store import files, meta, state
from ...transcript import layout
from ..run import HookContext
from ..stdio import text_field
from .common import save_file

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterable

CATCH_UP_SECONDS = 1.0
MAX_FILES = 20
OPEN_WINDOW_DAYS = 7
FULL_PASS_EVERY_S = 24 * 3600


def catch_up_open_sessions(ctx: HookContext) -> None:
    """SessionStart: recent sessions that did not end cleanly; everything once a day."""
    since = utc_stamp(time.time() - OPEN_WINDOW_DAYS * 86_400)
    conn, folder = ctx.archive().db.conn, _folder(ctx)
    rows: list[tuple[str, int | None]] = []
    for session in state.maybe_unfinished(conn, since):
        if session != ctx.session_id:
            rows += files.transcripts_of(conn, session) or [
                (layout.transcript_in(folder, session), None)]  # nothing archived yet
    _ingest_newest_first(ctx, _grown(rows), _time_limit(ctx))
    if full_pass_due(ctx):
        catch_up_folder(ctx)


def catch_up_folder(ctx: HookContext) -> None:
    """Every top-level transcript of the project's folder; remembered when it finishes."""
    stop_at = _time_limit(ctx)
    names = layout.top_level_transcripts(_folder(ctx))
    conn = ctx.archive().db.conn
    archived = files.archived_sizes(conn)  # every kind
    for mark in meta.cleaned_marks(conn):  # what cleanup removed counts as it was then
        archived.setdefault(mark.path, mark.size)
    if _ingest_newest_first(ctx, _grown((path, archived.get(path)) for path in names), stop_at):
        with ctx.archive().db.write() as conn:
            meta.put(conn, meta.FULL_CATCH_UP_AT, str(int(time.time())))


def full_pass_due(ctx: HookContext) -> bool:
    value = meta.get(ctx.archive().db.conn, meta.FULL_CATCH_UP_AT)
    try:
        return value is None or time.time() - float(value) > FULL_PASS_EVERY_S
    except ValueError:
        return True


def _time_limit(ctx: HookContext) -> float:
    return time.monotonic() + min(CATCH_UP_SECONDS, ctx.remaining() / 3)


def _folder(ctx: HookContext) -> str:
    """The folder of the session's transcript (it may not exist yet), else the project's."""
    own = text_field(ctx.payload, "transcript_path")
    if own is not None and os.path.isabs(own):
        return os.path.dirname(os.path.normpath(own))
    return layout.project_folder(ctx.project, layout.projects_dir(ctx.settings.claude_config_dir))


def _grown(rows: Iterable[tuple[str, int | None]]) -> list[tuple[float, str]]:
    """(mtime, path) of each file whose size on disk is not the archived one."""
    found = []
    for path, size in rows:
        try:
            info = os.stat(path)
        except OSError:
            continue  # deleted since: the archive keeps it
        if info.st_size != size:
            found.append((info.st_mtime, path))
    return found


def _ingest_newest_first(ctx: HookContext, stale: list[tuple[float, str]],
                         stop_at: float) -> bool:
    """True if every stale file was caught up in time."""
    stale.sort(reverse=True)
    for _, path in stale[:MAX_FILES]:
        if time.monotonic() >= stop_at:
            ctx.warn("catch-up stopped at its time limit; the next session start continues")
            return False
        try:
            save_file(ctx, path)
            ctx.commit()  # file by file: a long catch-up never holds the lock for all of it
        except SessionCoreError as exc:
            ctx.warn(f"catch-up of {path}: {exc.message}")
    return len(stale) <= MAX_FILES
