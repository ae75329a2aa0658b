"""A session taken out of the archive on purpose (it held a leaked secret, say), and kept out.

Everything of it goes in one transaction: its files' frames, its entries, tokens, digests, what
it changed and fixed, its chat turns and state; then the index's words are derived again from
what is left (the index is contentless: rebuilding it is the one exact way to drop a session's
words, and it leaves no deleted word in the file). The connection overwrites what it deletes
and the log is checkpointed: the bytes leave the file, not only its tables.

A session whose messages are also in another session's transcript (a resume, a fork, a branch
or a merge: entries are deduplicated across files), or that holds copies of another's, is
forgotten only together with those sessions, or its text would stay searchable under theirs;
:class:`Sharing` finds them whichever was archived first.

A tombstone (its id and when) stays in the archive and in a file beside it
(``base.locations.FORGOTTEN_NAME``): ``import``, a hook's save or catch-up, and a backup
restored in the archive's place never bring the session back until the tombstone is lifted.
Backups made before keep their copy; backups made after do not.
"""

from __future__ import annotations

import os

from ..base import locations
from ..base.clock import utc_stamp
from ..base.errors import DatabaseError
from ..base.fs import read_json_object, write_atomic
from ..store import (
    branches,
    chat,
    checkpoints,
    digests,
    entries,
    files,
    forgotten,
    frames,
    recall,
    sessions,
    state,
    usage,
)
from .index import entry_key
from .records import RecordError, parse_record
from .reindex import reindex, reindex_due, reindex_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from ..base.settings import Settings
    from ..store.connection import Database
    from ..store.files import FileRecord
    from ..store.sessions import SessionRow


class Removal:
    """What forgetting sessions removes: counted before, so it can be shown and asked about."""

    __slots__ = ("entries", "file_bytes", "files", "flushed", "uuids")

    def __init__(self, conn: sqlite3.Connection, rows: list[SessionRow]) -> None:
        self.uuids = [row.uuid for row in rows]
        found = [f for row in rows for f in files.of_session(conn, row.session_id)]
        self.files = [f.path for f in found]
        self.file_bytes = sum(f.size for f in found)
        self.entries = sum(1 for row in rows for _ in entries.positions(conn, row.session_id))
        self.flushed = False
        """The write-ahead log was emptied into the file (False: a reader's snapshot kept old
        pages in it until the next checkpoint)."""


PROBE_LINES = 200
"""How many lines of a file's beginning :class:`Sharing` reads for its first entry."""


class Sharing:
    """Which sessions share messages, both ways. A copy's lines are indexed once, under
    whichever session was archived first, so the keys of a session's own lines name only the
    sessions it holds copies of when those were archived first (:func:`copied_from`). The
    sessions holding copies of it, archived after it, are found by what links them:

    - the ``branches`` table: a branch or a merge and its origin, a merge and the branch whose
      findings its note holds;
    - entries filed under one session whose bytes are in another's file;
    - files that begin with copied lines (Claude Code's resume and fork, and ``branch``, start
      a new transcript with the lines they copy): each line file's first lines are read until
      one is an entry; a session with a file that begins with another's entry has every line
      of its files looked up (:func:`copied_from`).

    Found once, for all sessions (``cleanup`` asks about many): it reads the first frame of
    every transcript and the whole of those that begin with a copy. A copy that does not
    begin its file is found from its own side only."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._links: dict[str, set[str]] | None = None

    def of(self, row: SessionRow) -> list[str]:
        """The other archived sessions that share messages with ``row``, either way."""
        found = copied_from(self.conn, row.session_id) | set(
            entries.sessions_holding(self.conn, row.session_id))
        found |= self.links().get(row.uuid, set())
        found.discard(row.uuid)
        return sorted(uuid for uuid in found if sessions.id_of(self.conn, uuid) is not None)

    def links(self) -> dict[str, set[str]]:
        """Session to sessions, symmetric: every pair the list above names."""
        if self._links is None:
            conn = self.conn
            pairs = set(entries.filed_elsewhere(conn))
            for link in branches.every(conn):
                pairs.add((link.session_uuid, link.origin_uuid))
                if link.merged_uuid:
                    pairs.add((link.session_uuid, link.merged_uuid))
            holders = {f.session_id: f.session_uuid for f in files.every(conn)
                       if f.line_mode and _begins_with_a_copy(conn, f)}
            for session_id, uuid in holders.items():
                pairs.update((uuid, other) for other in copied_from(conn, session_id))
            self._links = {}
            for a, b in pairs:
                if a != b:
                    self._links.setdefault(a, set()).add(b)
                    self._links.setdefault(b, set()).add(a)
        return self._links


def _begins_with_a_copy(conn: sqlite3.Connection, record: FileRecord) -> bool:
    """The file's first line that is an entry is another file's (whose bytes were archived
    first)."""
    for n, line in enumerate(frames.read_lines(conn, record, content_hashes=False)):
        if n >= PROBE_LINES:
            return False
        try:
            key = entry_key(parse_record(line), line)
        except RecordError:
            continue
        owner = entries.owner_of_key(conn, key)
        if owner is not None:
            return owner[1] != record.file_id
    return False


def copied_from(conn: sqlite3.Connection, session_id: int) -> set[str]:
    """The sessions whose entries the lines of this one's files are (itself included): found
    by the keys of every line."""
    keys: set[bytes] = set()
    for record in files.of_session(conn, session_id):
        for line in frames.read_lines(conn, record):
            try:
                keys.add(entry_key(parse_record(line), line))
            except RecordError:
                continue
    return entries.sessions_of_keys(conn, keys)


def sharing_sessions(conn: sqlite3.Connection, row: SessionRow,
                     sharing: Sharing | None = None) -> list[str]:
    """Other sessions holding copies of this one's messages, or whose messages its files hold,
    either archived first (:class:`Sharing`; pass one to ask about several sessions)."""
    return (sharing or Sharing(conn)).of(row)


def forget(db: Database, settings: Settings, rows: list[SessionRow]) -> Removal:
    """Remove the sessions and leave their tombstones; returns what went."""
    with db.write() as conn:
        if reindex_due(conn, settings):
            raise DatabaseError("the index was built another way and is not indexed again yet",
                                "run 'session-core status' (it indexes it again), then forget")
        removal = Removal(conn, rows)
    keep_out(db, removal.uuids)  # first: a crash after it leaves a session to forget again
    db.erase_deleted()
    with db.write() as conn:
        for row in rows:
            delete_rows(conn, row)
            forgotten.add(conn, row.uuid, utc_stamp())
        reindex_in(conn, settings)
    db.release_free_pages()
    removal.flushed = db.checkpoint()
    return removal


def delete_rows(conn: sqlite3.Connection, row: SessionRow) -> None:
    """Every row of the session, its frames included, inside the caller's transaction; the
    index's words are left for :func:`reindex_in` (``forget`` and ``cleanup`` both)."""
    sid = row.session_id
    ids = [f.file_id for f in files.of_session(conn, sid)]
    entries.delete_session(conn, sid)
    usage.delete_session(conn, sid)
    recall.delete_session(conn, sid)
    checkpoints.delete_session(conn, sid)
    branches.delete_session(conn, row.uuid)
    digests.delete_of_files(conn, ids)
    frames.delete_of_files(conn, ids)
    files.delete_session(conn, sid)
    chat.delete_session(conn, row.uuid)
    state.delete(conn, row.uuid)
    sessions.delete(conn, sid)


def keep_out(db: Database, uuids: list[str]) -> None:
    """Tombstones for these sessions, in the archive and beside it."""
    when = utc_stamp()
    with db.write() as conn:
        for uuid in uuids:
            forgotten.add(conn, uuid, when)
    kept = _kept(db)
    kept.update({uuid: kept.get(uuid, when) for uuid in uuids})
    _write_kept(db, kept)


def undo(db: Database, session_uuid: str) -> bool:
    """Lift the tombstone: the next import or catch-up archives the session again, if Claude
    Code still has its transcript."""
    with db.write() as conn:
        lifted = forgotten.remove(conn, session_uuid)
    kept = _kept(db)
    if kept.pop(session_uuid, None) is not None:
        _write_kept(db, kept)
    return lifted


def reapply(db: Database, settings: Settings) -> list[str]:
    """After a backup took the archive's place (or an archive was merged in): every session
    the file beside it names as forgotten is forgotten again; returns those that were back."""
    kept = _kept(db)
    missing = [uuid for uuid in kept if not forgotten.is_forgotten(db.conn, uuid)]
    present = [row for row in (sessions.row_of(db.conn, uuid) for uuid in kept)
               if row is not None]
    if missing:
        with db.write() as conn:
            for uuid in missing:
                forgotten.add(conn, uuid, kept[uuid])
    if present:
        if reindex_due(db.conn, settings):  # a restored backup of an older index
            reindex(db, settings)
        forget(db, settings, present)
    return [row.uuid for row in present]


def _kept_path(db: Database) -> str:
    return os.path.join(os.path.dirname(db.path), locations.FORGOTTEN_NAME)


def _kept(db: Database) -> dict[str, str]:
    return {str(k): str(v) for k, v in read_json_object(_kept_path(db)).items()}


def _write_kept(db: Database, kept: dict[str, str]) -> None:
    import json  # the CLI's: the hooks only read the file

    write_atomic(_kept_path(db), json.dumps(kept, indent=1, sort_keys=True).encode(),
                 durable=True)
