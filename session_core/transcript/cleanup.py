"""Old sessions out of the archive by a policy: older than a number of days, or the oldest
until the archive fits a size (``session-core cleanup``; settings ``cleanup_days`` and
``max_size_mb``, both off by default).

Cleanup is not forgetting. The archive is there to outlive Claude Code's own deletion of its
transcripts, so a session the archive holds the only copy of (an orphan: its transcript
deleted, shortened or rewritten since) stays unless the caller includes orphans. A session
whose transcript Claude Code still keeps goes, and its transcript is marked as it is now
(``store.meta.CleanedMark``): ``import`` and a hook's catch-up would otherwise archive it again
at once, and a size limit would never hold. The mark is no tombstone: once that transcript
changes (the session was resumed, it is active again), the session is archived again whole;
``import FILE`` takes one back by hand.

The rows go the way ``forget`` deletes them (``forget.delete_rows``, then the index's words
derived again), without a tombstone and without overwriting freed pages; then the freed pages
go back to the file system (``Database.shrink``). A session whose messages another session's
file holds (a resume, a fork, a branch or a merge: entries are indexed once, under one of them;
``forget.Sharing`` finds them either way round) goes only together with it, or the other's
index would lose them. A session with a named checkpoint stays (removing it would take the
checkpoint), and a session ``branch`` or ``merge`` wrote is as recent as its writing, not as its
copied messages.
"""

from __future__ import annotations

import os
import time

from ..base.clock import utc_stamp
from ..base.errors import DatabaseError
from ..store import branches, checkpoints, files, frames, meta, sessions
from . import layout
from .forget import Sharing, delete_rows
from .ingest import holds_archived, mark_of
from .reindex import reindex_due, reindex_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from ..base.settings import Settings
    from ..store.files import FileRecord
    from ..store.sessions import SessionRow

DAY_S = 86_400
MB = 1 << 20
ACTIVE_DAYS = 1
"""A size limit never takes a session active this recently: it may be running now."""


class Policy:
    """What goes: sessions last active more than ``days`` ago, and the oldest until the
    archive is at most ``max_bytes``; ``None`` leaves either rule out."""

    __slots__ = ("days", "include_orphans", "max_bytes")

    def __init__(self, days: int | None, max_mb: int | None, include_orphans: bool) -> None:
        self.days = days or None
        self.max_bytes = max_mb * MB if max_mb else None
        self.include_orphans = include_orphans

    @classmethod
    def of(cls, settings: Settings, days: int | None, max_mb: int | None,
           include_orphans: bool) -> Policy:
        """The command line's values, else the settings'."""
        return cls(settings.cleanup_days if days is None else days,
                   settings.max_size_mb if max_mb is None else max_mb, include_orphans)

    @property
    def off(self) -> bool:
        return self.days is None and self.max_bytes is None


class Candidate:
    """One archived session, as cleanup weighs it; what costs reading files or frames is
    found out only for the sessions a rule picks."""

    __slots__ = ("_orphan", "_weight", "conn", "files", "last_active", "named", "row")

    def __init__(self, conn: sqlite3.Connection, row: SessionRow, made_at: str | None = None,
                 named: list[str] | None = None) -> None:
        self.conn, self.row = conn, row
        self.files: list[FileRecord] = files.of_session(conn, row.session_id)
        self.last_active = max(row.last_ts or max((f.ingested_at or "" for f in self.files),
                                                  default=""), made_at or "")
        """Its last message, or when ``branch`` or ``merge`` wrote it (``made_at``) if later:
        a branch's copied messages are as old as its origin's."""
        self.named = named or []
        """Its named checkpoints: the user's, which removing it would take with it."""
        self._orphan: bool | None = None
        self._weight: int | None = None

    @property
    def orphan(self) -> bool:
        """Some of what the archive holds of it is nowhere else any more."""
        if self._orphan is None:
            self._orphan = not all(holds_archived(f) for f in self.files)
        return self._orphan

    @property
    def weight(self) -> int:
        """Compressed bytes of its frames (its share of the file: see :func:`plan`)."""
        if self._weight is None:
            self._weight = frames.stored_bytes(self.conn, [f.file_id for f in self.files])
        return self._weight


class Plan:
    """The sessions that go, those the policy picked but that stay (and why), and the size."""

    __slots__ = ("going", "kept", "size_after", "size_before")

    def __init__(self, size_before: int) -> None:
        self.going: list[Candidate] = []
        self.kept: list[tuple[Candidate, str]] = []
        self.size_before = self.size_after = size_before

    @property
    def uuids(self) -> list[str]:
        return [c.row.uuid for c in self.going]


def plan(conn: sqlite3.Connection, used_bytes: int, policy: Policy,
         now: float | None = None) -> Plan:
    """What the policy removes, oldest first, from ``used_bytes`` of file in use. A session's
    share of the file is its stored frames scaled by how much of the file frames are (the
    index and tables grow with them; the first page of every table and index stays however
    little they hold, and is left out of that), so a size limit is met closely, not exactly."""
    now = time.time() if now is None else now
    found = Plan(used_bytes)
    made = {link.session_uuid: link.created_at for link in branches.every(conn)}
    named = checkpoints.named_by_session(conn)
    everything = sorted((Candidate(conn, row, made.get(row.uuid), named.get(row.uuid))
                         for row in sessions.with_files(conn)),
                        key=lambda c: (c.last_active, c.row.uuid))
    sharing = Sharing(conn)
    scale = max(1.0, (used_bytes - _fixed_bytes(conn)) / (frames.totals(conn)[1] or 1))
    cutoff = utc_stamp(now - policy.days * DAY_S) if policy.days else None
    active_since = utc_stamp(now - ACTIVE_DAYS * DAY_S)
    by_uuid = {c.row.uuid: c for c in everything}
    decided: set[str] = set()
    kept: set[str] = set()
    for candidate in everything:
        if candidate.row.uuid in decided:
            continue
        too_old = cutoff is not None and candidate.last_active < cutoff
        too_big = policy.max_bytes is not None and found.size_after > policy.max_bytes
        if not (too_old or too_big):
            continue
        whole = _together(sharing, candidate, by_uuid)
        unit = [c for c in whole if c is candidate or c.row.uuid not in decided]  # listed once
        decided.update(c.row.uuid for c in unit)
        staying = ", ".join(c.row.uuid[:8] for c in whole if c.row.uuid in kept)
        reason = (f"shares messages with {staying}, which stays" if staying else
                  _reason_to_keep(unit, policy, cutoff if not too_big else None, active_since))
        if reason:
            found.kept.extend((c, reason.replace("{others}", ", ".join(
                o.row.uuid[:8] for o in unit if o is not c))) for c in unit)
            kept.update(c.row.uuid for c in unit)
            continue
        found.going.extend(unit)
        found.size_after -= int(sum(c.weight for c in unit) * scale)
    found.size_after = max(found.size_after, 0)
    return found


def _fixed_bytes(conn: sqlite3.Connection) -> int:
    """The bytes no removal frees: one page for each table and index, even an empty one (on a
    small archive most of the file)."""
    roots = conn.execute("SELECT count(*) FROM sqlite_master WHERE rootpage > 0").fetchone()[0]
    return int(roots) * int(conn.execute("PRAGMA page_size").fetchone()[0])


def _together(sharing: Sharing, first: Candidate,
              by_uuid: dict[str, Candidate]) -> list[Candidate]:
    """``first`` and every session it shares messages with, and theirs in turn."""
    unit, todo = {first.row.uuid: first}, [first]
    while todo:
        for uuid in sharing.of(todo.pop().row):
            other = by_uuid.get(uuid)
            if other is not None and uuid not in unit:
                unit[uuid] = other
                todo.append(other)
    return list(unit.values())


def _reason_to_keep(unit: list[Candidate], policy: Policy, cutoff: str | None,
                    active_since: str) -> str | None:
    """Why these sessions (that go together or not at all) stay, if they do; ``{others}`` in
    it stands for the other sessions of the unit, named for each. ``cutoff``: each must be
    older than it (the age rule alone picked them)."""
    names = "{others}"
    named = ", ".join(name for c in unit for name in c.named)
    if named:
        return (f"it has named checkpoint(s): {named}" if len(unit) == 1 else
                f"shares messages with {names}; they have named checkpoint(s): {named}")
    if cutoff is not None and any(c.last_active >= cutoff for c in unit):
        return (f"shares messages with {names} (a resume, a fork or a branch), not all as"
                " old")
    if any(c.last_active >= active_since for c in unit):
        return ("active in the last day" if len(unit) == 1 else
                f"shares messages with {names}, active in the last day")
    if not policy.include_orphans and any(c.orphan for c in unit):
        return ("the archive holds its only copy (Claude Code deleted or changed its"
                " transcript)" if len(unit) == 1 else
                f"shares messages with {names}, and the archive holds the only copy of one")
    return None


def remove_planned(conn: sqlite3.Connection, settings: Settings, found: Plan) -> int:
    """Delete the planned sessions and mark their transcripts, inside the caller's write
    transaction (the one the plan was made in: nothing changed in between); then the index's
    words are derived again from what is left. The caller shrinks the file afterwards.
    Returns how many transcripts were marked (those Claude Code still has)."""
    if reindex_due(conn, settings):
        raise DatabaseError("the index was built another way and is not indexed again yet",
                            "run 'session-core status' (it indexes it again), then cleanup")
    when, marked = utc_stamp(), 0
    for candidate in found.going:
        marks = _marks(candidate, when)
        delete_rows(conn, candidate.row)
        for mark in marks:
            meta.put_cleaned(conn, mark)
        marked += len(marks)
    reindex_in(conn, settings)
    return marked


def _marks(candidate: Candidate, when: str) -> list[meta.CleanedMark]:
    """A mark per session id the candidate's files are named by (its own; a loose file of
    Claude Code 2.0 its own name): the longest of its own transcripts still on disk, else its
    longest file there. Nothing on disk, nothing to keep out."""
    by_key: dict[str, list[FileRecord]] = {}
    for record in candidate.files:
        by_key.setdefault(layout.classify(record.path).session_uuid, []).append(record)
    marks = []
    for key, records in by_key.items():
        records.sort(key=lambda f: (f.kind == "session", f.size), reverse=True)
        for record in records:
            if os.path.isfile(record.path):
                mark = mark_of(record.path, key, when)
                if mark is not None:
                    marks.append(mark)
                    break
    return marks


def take_back(conn: sqlite3.Connection, paths: list[str]) -> int:
    """Lift the marks of the sessions these files are of (``import FILE``: named by hand, they
    are archived again); returns how many were lifted."""
    lifted = 0
    for path in paths:
        key = layout.classify(os.path.abspath(path)).session_uuid
        if meta.cleaned_mark(conn, key) is not None:
            meta.drop_cleaned(conn, key)
            lifted += 1
    return lifted


def drop_stale_marks(conn: sqlite3.Connection) -> int:
    """Marks whose file Claude Code has deleted since keep nothing out any more."""
    stale = [m for m in meta.cleaned_marks(conn) if not os.path.exists(m.path)]
    for mark in stale:
        meta.drop_cleaned(conn, mark.key)
    return len(stale)
