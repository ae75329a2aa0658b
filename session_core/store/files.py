"""The ``files`` table: every file archived, how far it was ingested, and its fingerprints.

A file is one transcript (or subagent transcript, or sidecar) as it was found at ``path``; its
bytes are frames (``frames``), its records rows of ``entries``. ``committed`` is how far it was
ingested (through the last newline), ``size`` how many bytes are archived, ``head_hash`` and
``tail_hash`` fingerprint the bytes before ``committed`` so a rewritten file is noticed.
"""

from __future__ import annotations

from ..base.errors import NotFoundError
from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

_SELECT = (
    "SELECT f.id, f.path, f.session_id, s.uuid, f.kind, f.project_folder, f.rel_path,"
    " f.generation, f.committed, f.size, f.head_hash, f.tail_hash, f.bad_lines, f.ingested_at,"
    " f.content_hash"
    " FROM files f JOIN sessions s ON s.id = f.session_id"
)


class FileRecord:
    """One row of ``files`` (with its session's uuid); ingest updates the progress fields in
    place before :func:`record_ingest` writes them back."""

    __slots__ = ("bad_lines", "committed", "content_hash", "file_id", "generation", "head_hash",
                 "ingested_at", "kind", "path", "project_folder", "rel_path", "session_id",
                 "session_uuid", "size", "tail_hash")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.file_id, self.path, self.session_id, self.session_uuid, self.kind,
         self.project_folder, self.rel_path, self.generation, self.committed, self.size,
         self.head_hash, self.tail_hash, self.bad_lines, self.ingested_at,
         self.content_hash) = row  # _SELECT order

    file_id: int
    path: str
    session_id: int
    session_uuid: str
    kind: str
    """'session' | 'subagent' | 'sidecar'."""
    project_folder: str
    rel_path: str
    generation: int
    """Bumped each time the file was found rewritten: older generations' frames are kept."""
    committed: int
    size: int
    head_hash: bytes | None
    tail_hash: bytes | None
    bad_lines: int
    ingested_at: str | None
    content_hash: bytes | None
    """Of the current generation (``frames.content_hash``); None until computed (an archive
    from before schema v4 whose upgrade has not finished)."""

    @property
    def line_mode(self) -> bool:
        """Transcripts are JSONL and indexed; sidecar files are archived as opaque bytes."""
        return self.kind != "sidecar"


def at_path(conn: sqlite3.Connection, path: str) -> FileRecord | None:
    """The file archived from ``path`` (absolute), if any."""
    row = conn.execute(f"{_SELECT} WHERE f.path = ?", (path,)).fetchone()
    return None if row is None else FileRecord(row)


def by_id(conn: sqlite3.Connection, file_id: int) -> FileRecord | None:
    row = conn.execute(f"{_SELECT} WHERE f.id = ?", (file_id,)).fetchone()
    return None if row is None else FileRecord(row)


def of_session(conn: sqlite3.Connection, session_id: int) -> list[FileRecord]:
    """The session's files, its own transcripts first."""
    rows = conn.execute(f"{_SELECT} WHERE f.session_id = ?"
                        " ORDER BY f.kind = 'session' DESC, f.rel_path, f.id", (session_id,))
    return [FileRecord(row) for row in rows]


def every(conn: sqlite3.Connection) -> list[FileRecord]:
    """Every archived file, by session."""
    return [FileRecord(row) for row in conn.execute(f"{_SELECT} ORDER BY f.session_id, f.id")]


def main_file(files: list[FileRecord], session_uuid: str) -> FileRecord:
    """The session's own transcript: several copies may exist; the longest one wins."""
    mains = [f for f in files if f.kind == "session"]
    if not mains:
        raise NotFoundError(
            f"session {session_uuid} has no transcript of its own in the archive (only"
            " subagent files)", "run 'session-core import' to backfill it")
    return max(mains, key=lambda f: (f.size, f.file_id))


def add(conn: sqlite3.Connection, path: str, session_id: int, kind: str, project_folder: str,
        rel_path: str) -> FileRecord:
    cur = conn.execute(
        "INSERT INTO files(path, session_id, kind, project_folder, rel_path) VALUES (?,?,?,?,?)",
        (path, session_id, kind, project_folder, rel_path))
    assert cur.lastrowid is not None
    found = by_id(conn, cur.lastrowid)
    assert found is not None
    return found


def move(conn: sqlite3.Connection, record: FileRecord, session_id: int, session_uuid: str,
         kind: str) -> None:
    """File ``record`` under another session (a loose file once a record names its session)."""
    conn.execute("UPDATE files SET session_id = ?, kind = ? WHERE id = ?",
                 (session_id, kind, record.file_id))
    record.session_id, record.session_uuid, record.kind = session_id, session_uuid, kind


def session_has_files(conn: sqlite3.Connection, session_id: int) -> bool:
    return conn.execute("SELECT 1 FROM files WHERE session_id = ?",
                        (session_id,)).fetchone() is not None


def record_ingest(conn: sqlite3.Connection, record: FileRecord, new_bad_lines: int,
                  when: str) -> None:
    """Write back how far ``record`` is archived now."""
    conn.execute(
        "UPDATE files SET generation = ?, committed = ?, size = ?, head_hash = ?, tail_hash = ?,"
        " bad_lines = bad_lines + ?, ingested_at = ? WHERE id = ?",
        (record.generation, record.committed, record.size, record.head_hash, record.tail_hash,
         new_bad_lines, when, record.file_id))
    record.bad_lines += new_bad_lines
    record.ingested_at = when


def set_content_hash(conn: sqlite3.Connection, record: FileRecord, value: bytes | None) -> None:
    conn.execute("UPDATE files SET content_hash = ? WHERE id = ?", (value, record.file_id))
    record.content_hash = value


def archived_sizes(conn: sqlite3.Connection) -> dict[str, int]:
    """Path -> archived size of every file: what a catch-up compares the disk against."""
    return dict(conn.execute("SELECT path, size FROM files").fetchall())


def transcripts_of(conn: sqlite3.Connection, session_uuid: str) -> list[tuple[str, int]]:
    """(path, archived size) of the session's own transcripts."""
    return conn.execute(
        "SELECT f.path, f.size FROM files f JOIN sessions s ON s.id = f.session_id"
        " WHERE s.uuid = ? AND f.kind = 'session'", (session_uuid,)).fetchall()


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM files").fetchone()[0])


def count_sessions(conn: sqlite3.Connection) -> int:
    """Sessions with at least one file."""
    return int(conn.execute("SELECT count(DISTINCT session_id) FROM files").fetchone()[0])


def count_of_kind(conn: sqlite3.Connection, session_id: int, kind: str) -> int:
    return int(conn.execute("SELECT count(*) FROM files WHERE session_id = ? AND kind = ?",
                            (session_id, kind)).fetchone()[0])


def delete_session(conn: sqlite3.Connection, session_id: int) -> int:
    """The session's file rows (their frames, digests and entries are deleted first)."""
    return conn.execute("DELETE FROM files WHERE session_id = ?", (session_id,)).rowcount
