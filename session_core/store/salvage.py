"""Reading what is still readable out of an archive file that may be damaged.

Recovery reads old archives (quarantined damaged files, backups) through this module, never
through :class:`~.connection.Database`: it works on a private copy (so SQLite's own WAL recovery
or our header repair never touches the file kept as evidence), tolerates a table whose pages
are broken (rows are read by rowid, skipping what cannot be read), and hands out a file's bytes
only as far as its frames are contiguous from byte 0 and each passes its checksum. What it
cannot read it says, in :attr:`Salvage.problems`.
"""

from __future__ import annotations

import os
import shutil

from ..base.errors import CorruptBlobError
from ..base.sqlite_driver import sqlite3
from . import codec
from .connection import APPLICATION_ID, READ_ERRORS, SQLITE_HEADER, decode_leniently

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

_PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
_ROWS_PER_QUERY = 256
_MAX_SKIPS = 64
"""Rowid probes past an unreadable row (doubling the step each time) before a table's scan
gives up on the rest of its range."""


class SalvagedFile:
    """One ``files`` row of the old archive: where it was, what it was, how far it went."""

    __slots__ = ("file_id", "generation", "ingested_at", "kind", "path", "session_uuid", "size")

    def __init__(self, row: tuple[Any, ...], session_uuid: str) -> None:
        (self.file_id, self.path, _, self.kind, self.generation, self.size,
         self.ingested_at) = row
        self.session_uuid = session_uuid


class SalvagedCheckpoint:
    """One ``checkpoints`` row of the old archive, its session and file named by uuid and path
    (ids differ from archive to archive); ``file_id``: the old archive's, to read its bytes."""

    __slots__ = ("created_at", "file_id", "generation", "git", "last_uuid", "name", "offset",
                 "path", "prompts", "reason", "session_uuid")

    def __init__(self, row: tuple[Any, ...], session_uuid: str, path: str) -> None:
        (self.name, _, self.file_id, self.generation, self.offset, self.last_uuid, self.reason,
         self.prompts, branch, commit, dirty, self.created_at) = row
        self.git: tuple[Any, Any, Any] = (branch, commit, None if dirty is None else bool(dirty))
        self.session_uuid, self.path = session_uuid, path


class FrameMeta:
    __slots__ = ("chunk_id", "file_id", "generation", "offset", "raw_len")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.chunk_id, self.file_id, self.generation, self.offset, self.raw_len = row


class Salvage:
    """A read-only view of an old archive's copy in ``work_dir`` (deleted by :meth:`close`)."""

    def __init__(self, source: str, work_dir: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self._work = work_dir
        os.makedirs(work_dir, mode=0o700, exist_ok=True)
        self._copy = os.path.join(work_dir, "salvage.db")
        self.conn: sqlite3.Connection | None = self._open_copy()
        self._frames: dict[tuple[int, int], list[FrameMeta]] | None = None
        self._session_uuids: dict[Any, Any] | None = None

    # --- opening --------------------------------------------------------------------------

    def _open_copy(self) -> sqlite3.Connection | None:
        try:
            size = os.path.getsize(self.source)
        except OSError as exc:
            self.problems.append(f"cannot read {self.source}: {exc}")
            return None
        if size == 0:
            self.problems.append(f"{self.source} is empty (0 bytes)")
            return None
        shutil.copyfile(self.source, self._copy)
        if os.path.exists(self.source + "-wal"):
            shutil.copyfile(self.source + "-wal", self._copy + "-wal")
        with open(self._copy, "rb") as handle:
            header = handle.read(100)
        if not header.startswith(SQLITE_HEADER):
            return self._open_with_new_header(size)
        conn = self._connect()
        if conn is not None and not _has_schema(conn):
            conn.close()
            return self._open_with_new_header(size)
        return conn

    def _connect(self) -> sqlite3.Connection | None:
        try:
            conn = sqlite3.connect(self._copy, isolation_level=None)
            conn.text_factory = decode_leniently
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except READ_ERRORS as exc:
            self.problems.append(f"SQLite cannot open it: {exc}")
            return None
        if app_id not in (0, APPLICATION_ID):
            self.problems.append(f"not an archive of session-core (application_id {app_id:#x})")
            conn.close()
            return None
        return conn

    def _open_with_new_header(self, size: int) -> sqlite3.Connection | None:
        """The first 100 bytes are gone: try each page size with a fresh header (the schema
        table on page 1 follows the header and usually survives)."""
        self.problems.append("its SQLite header is damaged; read with a rebuilt header")
        has_wal = os.path.exists(self._copy + "-wal")
        for page_size in _PAGE_SIZES:
            if size % page_size:
                continue
            with open(self._copy, "r+b") as handle:
                handle.write(_fresh_header(self._work, page_size, size // page_size, has_wal))
            try:
                conn = sqlite3.connect(self._copy, isolation_level=None)
                conn.text_factory = decode_leniently
                if _has_schema(conn):
                    return conn
                conn.close()
            except READ_ERRORS:
                continue
        self.problems.append("no page size gives a readable schema: nothing can be read")
        return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> Salvage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rows -----------------------------------------------------------------------------

    def rows(self, table: str, columns: str) -> Iterator[tuple[Any, ...]]:
        """Every readable row of ``table`` in rowid order; unreadable stretches are skipped and
        counted in :attr:`problems`."""
        if self.conn is None:
            return
        last, skipped, step = 0, 0, 1
        query = f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        while True:
            got = 0
            try:
                for row in self.conn.execute(query, (last, _ROWS_PER_QUERY)):
                    got, last, skipped, step = got + 1, row[0], 0, 1
                    yield tuple(row[1:])
            except READ_ERRORS as exc:
                if skipped == 0:
                    self.problems.append(f"{table}: rows after rowid {last} unreadable ({exc})")
                if skipped >= _MAX_SKIPS:
                    return
                last, skipped, step = last + step, skipped + 1, step * 2
                continue
            if got < _ROWS_PER_QUERY:
                return

    def _sessions(self) -> dict[Any, Any]:
        if self._session_uuids is None:
            self._session_uuids = dict(self.rows("sessions", "id, uuid"))
        return self._session_uuids

    def has_table(self, name: str) -> bool:
        """The old archive has this table (one from before the schema that added it has not)."""
        if self.conn is None:
            return False
        try:
            return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                     " AND name = ?", (name,)).fetchone() is not None
        except READ_ERRORS as exc:
            self.problems.append(f"{name}: cannot tell whether the table exists ({exc})")
            return False

    def checkpoints(self) -> tuple[list[SalvagedCheckpoint], list[tuple[str | None, str]]]:
        """The checkpoints whose session and file are known, and a description of each row
        that names neither readably (those cannot be carried)."""
        if not self.has_table("checkpoints"):
            return [], []
        sessions = self._sessions()
        paths = {row[0]: row[1] for row in self.rows("files", "id, path")}
        found: list[SalvagedCheckpoint] = []
        unreadable: list[tuple[str | None, str]] = []
        for row in self.rows("checkpoints", "name, session_id, file_id, generation, offset,"
                                            " last_uuid, reason, prompts, git_branch,"
                                            " git_commit, git_dirty, created_at"):
            uuid, path = sessions.get(row[1]), paths.get(row[2])
            if isinstance(row[0], str) and isinstance(uuid, str) and isinstance(path, str) \
                    and isinstance(row[3], int) and isinstance(row[4], int):
                found.append(SalvagedCheckpoint(row, uuid, path))
            else:
                name = row[0] if isinstance(row[0], str) else None
                unreadable.append((name, f"checkpoint {row[0]!r}: its session or file is"
                                         " unreadable"))
        return found, unreadable

    def branch_links(self) -> list[tuple[Any, ...]]:
        """``branches`` (``store.branches`` order), if the old archive has the table."""
        if not self.has_table("branches"):
            return []
        return self._whole("branches", "SELECT session_uuid, kind, origin_uuid, checkpoint,"
                           " merged_uuid, name, worktree, cut_bytes, created_at FROM branches")

    def meta_rows(self, prefix: str) -> list[tuple[str, str]]:
        """The ``meta`` rows whose key starts with ``prefix``."""
        rows = self._whole("meta", "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?",
                           (len(prefix), prefix))
        return [(k, v) for k, v in rows if isinstance(k, str) and isinstance(v, str)]

    def _whole(self, table: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A table without rowid cannot be walked row by row past a bad page (:meth:`rows`):
        it is read whole, or not at all, and what went wrong is one of the problems."""
        if self.conn is None:
            return []
        try:
            rows: list[tuple[Any, ...]] = self.conn.execute(sql, params).fetchall()
        except READ_ERRORS as exc:
            self.problems.append(f"{table}: unreadable ({exc})")
            return []
        return rows

    def files(self) -> list[SalvagedFile]:
        """The old archive's files whose session is known."""
        sessions = self._sessions()
        found = []
        for row in self.rows("files", "id, path, session_id, kind, generation, size,"
                                      " ingested_at"):
            uuid = sessions.get(row[2])
            if isinstance(row[1], str) and isinstance(uuid, str) and isinstance(row[5], int):
                found.append(SalvagedFile(row, uuid))
            else:
                self.problems.append(f"files: row {row[0]} names no readable session or path")
        return found

    def session_uuids(self) -> set[str]:
        return {uuid for (uuid,) in self.rows("sessions", "uuid") if isinstance(uuid, str)}

    def _frames_of(self, file_id: int, generation: int) -> list[FrameMeta]:
        """Read by rowid rather than through the (file, generation, offset) index, which may
        be the damaged part."""
        if self._frames is None:
            self._frames = {}
            for row in self.rows("chunks", "id, file_id, generation, offset, raw_len"):
                meta = FrameMeta(row)
                self._frames.setdefault((meta.file_id, meta.generation), []).append(meta)
            for metas in self._frames.values():
                metas.sort(key=lambda meta: meta.offset)
        return self._frames.get((file_id, generation), [])

    def generations(self, file: SalvagedFile) -> list[int]:
        """The file's generations with frames, oldest first."""
        self._frames_of(file.file_id, file.generation)
        assert self._frames is not None
        return sorted(gen for (fid, gen) in self._frames if fid == file.file_id)

    def write_bytes(self, file: SalvagedFile, generation: int, out: BinaryIO) -> int:
        """Write the generation's bytes from 0 as far as they are contiguous and every frame
        decompresses with its checksum; returns how many were written."""
        assert self.conn is not None
        written = 0
        for meta in self._frames_of(file.file_id, generation):
            if meta.offset < written:
                continue  # a frame already covered (a duplicate left by damage)
            if meta.offset > written:
                break
            try:
                (blob,) = self.conn.execute("SELECT data FROM chunks WHERE rowid = ?",
                                            (meta.chunk_id,)).fetchone()
                data = codec.decompress(bytes(blob), meta.raw_len)
            except (*READ_ERRORS, CorruptBlobError, TypeError):
                break
            out.write(data)
            written += len(data)
        return written

    def chat_turns(self) -> list[tuple[str, str | None, str, str, bytes, int]]:
        """(session uuid, prompt id, role, time, compressed text, raw length) of each turn
        whose text still decompresses."""
        turns = []
        for row in self.rows("chat_turns", "session_uuid, prompt_id, role, at, text, text_len"):
            try:
                codec.decompress(bytes(row[4]), row[5])
            except (CorruptBlobError, TypeError):
                continue
            turns.append((row[0], row[1], row[2], row[3], bytes(row[4]), row[5]))
        return turns

    def session_states(self) -> list[tuple[Any, ...]]:
        """``session_state`` (no rowid: read whole, or not at all)."""
        return self._whole("session_state", "SELECT session_uuid, git_branch, git_commit,"
                           " last_event, last_event_at, end_reason, ended_at, compact_summary"
                           " FROM session_state")


def _has_schema(conn: sqlite3.Connection) -> bool:
    try:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    except READ_ERRORS:
        return False
    return {"files", "chunks", "sessions"} <= names


def _fresh_header(work: str, page_size: int, pages: int, wal: bool) -> bytes:
    """A valid 100-byte header for a database of ``pages`` pages, from a new empty database
    made the way ours are (incremental auto-vacuum), its size field trusted."""
    template = os.path.join(work, f"header-{page_size}.db")
    conn = sqlite3.connect(template)
    conn.execute(f"PRAGMA page_size = {page_size}")
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with open(template, "rb") as handle:
        header = bytearray(handle.read(100))
    os.unlink(template)
    header[18:20] = b"\x02\x02" if wal else b"\x01\x01"
    header[28:32] = pages.to_bytes(4, "big")
    header[32:40] = bytes(8)  # no freelist: its pages are read as unused
    header[52:56] = (3).to_bytes(4, "big")  # auto-vacuum on; the exact largest root is advisory
    header[68:72] = APPLICATION_ID.to_bytes(4, "big")
    header[92:96] = header[24:28]  # "version valid for" = change counter: size field trusted
    return bytes(header)
