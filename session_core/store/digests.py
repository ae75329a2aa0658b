"""The ``digests`` table: each session transcript's handoff digest (``transcript.digest``), kept
by ingest in the same transaction as the bytes it was folded from.

A row is the digest of its file's first ``offset`` bytes in ``generation``. Ingest keeps it at
the file's ``committed`` offset; a row behind it (a fold that failed, an archive upgraded from
before digests) is brought up to date from the frames by whoever reads it next.
"""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3
from . import codec

DIGEST_LEVEL = 3


class DigestRow:
    __slots__ = ("generation", "offset", "state")

    def __init__(self, generation: int, offset: int, state: bytes) -> None:
        self.generation, self.offset = generation, offset
        self.state = state
        """The digest's state as JSON bytes (``Digest.to_state``)."""


def load(conn: sqlite3.Connection, file_id: int) -> DigestRow | None:
    """The file's saved digest; a damaged blob raises ``CorruptBlobError``."""
    row = conn.execute("SELECT generation, offset, state, state_len FROM digests"
                       " WHERE file_id = ?", (file_id,)).fetchone()
    if row is None:
        return None
    generation, offset, blob, length = row
    return DigestRow(int(generation), int(offset), codec.decompress(blob, length))


def save(conn: sqlite3.Connection, file_id: int, generation: int, offset: int,
         state: bytes) -> None:
    conn.execute(
        "INSERT INTO digests(file_id, generation, offset, state, state_len) VALUES (?,?,?,?,?)"
        " ON CONFLICT(file_id) DO UPDATE SET generation = excluded.generation,"
        " offset = excluded.offset, state = excluded.state, state_len = excluded.state_len",
        (file_id, generation, offset, codec.compress(state, DIGEST_LEVEL), len(state)))


def behind(conn: sqlite3.Connection) -> list[int]:
    """Session and subagent transcripts whose digest is missing or not at their committed offset."""
    return [row[0] for row in conn.execute(
        "SELECT f.id FROM files f LEFT JOIN digests d ON d.file_id = f.id"
        " AND d.generation = f.generation AND d.offset = f.committed"
        " WHERE f.kind IN ('session', 'subagent') AND f.committed > 0 AND d.file_id IS NULL"
        " ORDER BY f.id")]


def delete_of_files(conn: sqlite3.Connection, file_ids: list[int]) -> None:
    conn.executemany("DELETE FROM digests WHERE file_id = ?", [(i,) for i in file_ids])
