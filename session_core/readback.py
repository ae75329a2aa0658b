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


def byte_range(conn: sqlite3.Connection, record: FileRecord, start: int,
               end: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` of the file's latest generation, decompressing only the frames
    that hold them (a digest brought up to date reads the new tail, not the whole file)."""
    expected = None
    for offset, raw_len, frame in conn.execute(
        "SELECT offset, raw_len, data FROM chunks WHERE file_id = ? AND generation = ?"
        " AND offset < ? AND offset + raw_len > ? ORDER BY offset",
        (record.file_id, record.generation, end, start),
    ):
        if offset != (start if expected is None else expected) and not (
                expected is None and offset < start):
            raise DatabaseError(
                f"archive of {record.path} has a gap at byte {expected or start}",
                "run 'session-core import' on the transcript again if Claude Code still has it",
            )
        data = codec.decompress(frame, raw_len)
        yield data[max(0, start - offset):end - offset]
        expected = offset + raw_len
    if start < end and (expected is None or expected < end):
        raise DatabaseError(f"archive of {record.path} ends before byte {end}")


def file_lines(conn: sqlite3.Connection, record: FileRecord, start: int = 0,
               end: int | None = None) -> Iterator[bytes]:
    """The archived file's lines (without newlines), frames joined where a line spans two;
    from ``start`` (a line start) to ``end`` (a line end; default: the whole file)."""
    carry = b""
    chunks = file_bytes(conn, record) if start == 0 and end is None else byte_range(
        conn, record, start, record.size if end is None else end)
    for chunk in chunks:
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        yield from lines
    if carry:
        yield carry
