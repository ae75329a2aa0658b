"""Archived files read back: frames in order, each checked, joined into bytes or lines.

Apart from ``export`` (which needs pathlib and hashlib for restores) because the SessionStart
hook reads the previous session's lines through here on every start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from . import codec
from .errors import DatabaseError
from .queries import FileRecord


def file_bytes(conn: sqlite3.Connection, record: FileRecord) -> Iterator[bytes]:
    """The file's latest generation, frame by frame, checked for gaps and corruption."""
    expected = 0
    for offset, raw_len, frame in conn.execute(
        "SELECT offset, raw_len, data FROM chunks WHERE file_id = ? AND generation = ?"
        " ORDER BY offset",
        (record.file_id, record.generation),
    ):
        if offset != expected:
            raise DatabaseError(
                f"archive of {record.path} has a gap at byte {expected}",
                "run 'session-core import' on the transcript again if Claude Code still has it",
            )
        yield codec.decompress(frame, raw_len)
        expected += raw_len
    if expected != record.size:
        raise DatabaseError(f"archive of {record.path} ends at {expected}, expected {record.size}")


def file_lines(conn: sqlite3.Connection, record: FileRecord) -> Iterator[bytes]:
    """The archived file's lines (without newlines), frames joined where a line spans two."""
    carry = b""
    for chunk in file_bytes(conn, record):
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        yield from lines
    if carry:
        yield carry
