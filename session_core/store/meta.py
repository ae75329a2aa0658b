"""The ``meta`` table: a few named values about the archive as a whole (when it was last
ingested, when a full catch-up last finished)."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3

LAST_INGEST = "last_ingest"
FULL_CATCH_UP_AT = "full_catch_up_at"
"""When a catch-up over every transcript of the project's folder last finished (epoch s)."""
CHECKED_AT = "checked_at"
"""When a Stop's scheduled ``quick_check`` and FTS check last passed (epoch s)."""
HASHES_PENDING = "hashes_pending"
"""Set by the schema v4 migration of an archive with frames: their hashes are still to be
computed (``cli.upgrade``); until then those frames are checked by their zstd checksum only."""
INDEX_VERSION = "index_version"
"""How the words of ``entries_fts`` were extracted (``transcript.index.index_version``): an
archive whose index was built another way has it derived again (``cli.upgrade``), so one index
never mixes two extractions and ``forget`` can delete a session's words exactly."""
DIGESTS_PENDING = "digests_pending"
"""Set by the schema v3 migration of an archive that has files: its digests are still to be
rebuilt (``cli.upgrade``); an upgrade cut short is finished while it is there."""


def get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)"
                 " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def delete(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (key,))


CLEANED_PREFIX = "cleaned:"
"""One key per session ``session-core cleanup`` removed while Claude Code still kept its
transcript (``cleaned:<the session id its file is named by>``): the value describes that file
as it was then, so ``import`` and a hook's catch-up leave it out until it changes (the session
resumed: then it is archived again, whole). Named values, not a table: the schema stays as it
is for what is a handful of rows."""


class CleanedMark:
    """A file as it was when cleanup removed its session: its size and the hashes of its
    first and last 4 KiB (``transcript.ingest``'s fingerprint)."""

    __slots__ = ("head", "key", "path", "removed_at", "size", "tail")

    def __init__(self, key: str, path: str, size: int, head: bytes, tail: bytes,
                 removed_at: str) -> None:
        self.key, self.path, self.size = key, path, size
        self.head, self.tail, self.removed_at = head, tail, removed_at

    def value(self) -> str:
        return f"{self.size} {self.head.hex()} {self.tail.hex()} {self.removed_at} {self.path}"

    @classmethod
    def parse(cls, key: str, value: str) -> CleanedMark | None:
        """None for a value this code did not write (a damaged row leaves nothing out)."""
        parts = value.split(" ", 4)
        try:
            return cls(key, parts[4], int(parts[0]), bytes.fromhex(parts[1]),
                       bytes.fromhex(parts[2]), parts[3])
        except (IndexError, ValueError):
            return None


def cleaned_mark(conn: sqlite3.Connection, key: str) -> CleanedMark | None:
    value = get(conn, CLEANED_PREFIX + key)
    return None if value is None else CleanedMark.parse(key, value)


def put_cleaned(conn: sqlite3.Connection, mark: CleanedMark) -> None:
    put(conn, CLEANED_PREFIX + mark.key, mark.value())


def drop_cleaned(conn: sqlite3.Connection, key: str) -> None:
    delete(conn, CLEANED_PREFIX + key)


def cleaned_marks(conn: sqlite3.Connection) -> list[CleanedMark]:
    """Every mark (the key range of the prefix: an indexed scan, not the whole table)."""
    rows = conn.execute("SELECT key, value FROM meta WHERE key >= ? AND key < ?",
                        (CLEANED_PREFIX, CLEANED_PREFIX[:-1] + ";"))
    found = (CleanedMark.parse(str(key)[len(CLEANED_PREFIX):], str(value))
             for key, value in rows)
    return [mark for mark in found if mark is not None]
