"""Catching up transcripts the hooks did not finish: a session whose SessionEnd never fired (a
crash, a closed terminal) or one that ran without our hooks.

Checking every transcript of the project means one ``stat`` per session ever run, which grows
without bound, so the work is split by what can have changed:

- at SessionStart, only sessions active in the last :data:`OPEN_WINDOW_DAYS` that did not end
  cleanly: the ones whose tail can be missing. A prompt marks its session open
  (:func:`mark_open`; a resumed session is open again), SessionEnd marks it ended, so even a
  session that crashed before its first Stop, with nothing archived yet, is found;
- at SessionEnd (after the session's own save), every transcript in the folder, newest first,
  inside what is left of the budget: new files from sessions without hooks, files that grew
  without us;
- at SessionStart too when no full pass finished for :data:`FULL_PASS_EVERY_S`, for users whose
  sessions rarely end cleanly.

Every pass stops at a time limit; whatever it leaves is picked up by the next one.
"""

from __future__ import annotations

import os
import sqlite3
import time

from .. import paths
from ..errors import SessionCoreError
from ..hookio import text_field
from ..hookrun import HookContext
from ..ingest import ingest_file

TYPE_CHECKING = False  # not typing's: importing typing costs a hook ~2 ms
if TYPE_CHECKING:
    from collections.abc import Iterable

CATCH_UP_SECONDS = 1.0
MAX_FILES = 20
OPEN_WINDOW_DAYS = 7
FULL_PASS_EVERY_S = 24 * 3600
FULL_PASS_KEY = "siblings_checked_at"
"""``meta`` key: when a full pass last finished (epoch seconds)."""

_OPEN_SESSIONS = (
    # Marked open by a prompt (maybe nothing archived yet), or with recent archived records
    # and no clean end (a session whose prompts the hooks missed).
    "SELECT session_uuid FROM session_state WHERE ended_at IS NULL AND last_event_at >= ?"
    " UNION SELECT s.uuid FROM sessions s LEFT JOIN session_state st"
    " ON st.session_uuid = s.uuid WHERE s.last_ts >= ? AND st.ended_at IS NULL"
)
_TRANSCRIPTS = ("SELECT f.path, f.size FROM files f JOIN sessions s ON s.id = f.session_id"
                " WHERE s.uuid = ? AND f.kind = 'session'")


def utc_now() -> str:
    """``session_state`` times: ISO 8601 UTC to the second, as ``datetime.isoformat`` writes."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def mark_open(conn: sqlite3.Connection, session: str, event: str) -> None:
    """``session`` is active and has not ended (again, if it was resumed); inside the caller's
    write transaction, so it costs no commit of its own."""
    conn.execute(
        "INSERT INTO session_state(session_uuid, last_event, last_event_at) VALUES (?, ?, ?)"
        " ON CONFLICT(session_uuid) DO UPDATE SET last_event = excluded.last_event,"
        " last_event_at = excluded.last_event_at, end_reason = NULL, ended_at = NULL",
        (session, event, utc_now()))


def catch_up_open_sessions(ctx: HookContext) -> None:
    """SessionStart: recent sessions that did not end cleanly; everything once a day."""
    since = time.strftime("%Y-%m-%dT%H:%M:%S",
                          time.gmtime(time.time() - OPEN_WINDOW_DAYS * 86_400))
    conn, folder = ctx.archive().db.conn, _folder(ctx)
    rows: list[tuple[str, int | None]] = []
    for (session,) in conn.execute(_OPEN_SESSIONS, (since, since)).fetchall():
        if session != ctx.session_id:
            rows += conn.execute(_TRANSCRIPTS, (session,)).fetchall() or [
                (os.path.join(folder, f"{session}.jsonl"), None)]  # nothing archived yet
    _ingest_newest_first(ctx, _grown(rows), _time_limit(ctx))
    if full_pass_due(ctx):
        catch_up_folder(ctx)


def catch_up_folder(ctx: HookContext) -> None:
    """Every top-level transcript of the project's folder; remembered when it finishes."""
    stop_at = _time_limit(ctx)
    folder = _folder(ctx)
    try:
        names = [e.path for e in os.scandir(folder) if e.name.endswith(".jsonl") and e.is_file()]
    except OSError:
        names = []
    conn = ctx.archive().db.conn
    archived = dict(conn.execute("SELECT path, size FROM files").fetchall())  # every kind
    if _ingest_newest_first(ctx, _grown((path, archived.get(path)) for path in names), stop_at):
        with ctx.archive().db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                         (FULL_PASS_KEY, str(int(time.time()))))


def full_pass_due(ctx: HookContext) -> bool:
    row = ctx.archive().db.conn.execute("SELECT value FROM meta WHERE key = ?",
                                        (FULL_PASS_KEY,)).fetchone()
    try:
        return row is None or time.time() - float(row[0]) > FULL_PASS_EVERY_S
    except ValueError:
        return True


def _time_limit(ctx: HookContext) -> float:
    return time.monotonic() + min(CATCH_UP_SECONDS, ctx.remaining() / 3)


def _folder(ctx: HookContext) -> str:
    """The folder of the session's transcript (it may not exist yet), else the project's."""
    own = text_field(ctx.payload, "transcript_path")
    if own is not None and os.path.isabs(own):
        return os.path.dirname(os.path.normpath(own))
    return paths.find_project_folder(
        ctx.project, paths.claude_projects_dir(ctx.settings.claude_config_dir))


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
            ingest_file(ctx.archive().db, path, ctx.settings)
        except SessionCoreError as exc:
            ctx.warn(f"catch-up of {path}: {exc.message}")
    return len(stale) <= MAX_FILES
