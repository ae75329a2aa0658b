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
