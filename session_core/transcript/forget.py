"""A session taken out of the archive on purpose (it held a leaked secret, say), and kept out.

Everything of it goes in one transaction: its files' frames, its entries, tokens, digests, what
it changed and fixed, its chat turns and state; then the index's words are derived again from
what is left (the index is contentless: rebuilding it is the one exact way to drop a session's
words, and it leaves no deleted word in the file). The connection overwrites what it deletes
and the log is checkpointed: the bytes leave the file, not only its tables.

A session whose messages are also in another session's transcript (a resume, a fork: entries
are deduplicated across files) is forgotten only together with those sessions, or its text
would stay searchable under theirs.

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


def sharing_sessions(conn: sqlite3.Connection, row: SessionRow) -> list[str]:
    """Other sessions holding copies of this one's messages, or whose messages its files hold:
    found by the keys of its files' lines (a copy is indexed once, under whichever session was
    archived first) and by the files that hold its entries."""
    keys: set[bytes] = set()
    for record in files.of_session(conn, row.session_id):
        for line in frames.read_lines(conn, record):
            try:
                keys.add(entry_key(parse_record(line), line))
            except RecordError:
                continue
    found = set(entries.sessions_of_keys(conn, keys)) | set(
        entries.sessions_holding(conn, row.session_id))
    found.discard(row.uuid)
    return sorted(found)


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
