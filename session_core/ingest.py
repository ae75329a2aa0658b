"""Lossless, incremental ingest of one transcript file.

Each file remembers how far it was ingested (``committed``: through the last newline) and a
fingerprint of what was read (hashes of its first and last 4 KiB before that offset), so a call
reads only new bytes. Bytes after the last newline are archived too (export stays byte-exact) but
are rewritten on the next call and not indexed until their newline arrives. A file that shrank or
whose fingerprint changed was rewritten: its bytes go into a new generation (the old one is kept)
and its records are indexed again, deduplicated on ``uuid``.

The whole call is one ``BEGIN IMMEDIATE`` transaction (a savepoint inside an import's batch),
so concurrent ingests of the same file serialise and never double-count, and a crash leaves
the previous state intact.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone

from . import codec
from .config import Settings
from .db import Database
from .indexer import Batch, BatchWriter, ensure_session, line_hash
from .models import Record, parse_record
from .scan import Frame, ScanResult, scan
from .sources import FileInfo, check_transcript_path, classify, is_provisional

TYPE_CHECKING = False  # not typing's: importing typing costs a hook ~2 ms
if TYPE_CHECKING:
    from .paths import StrPath

FINGERPRINT_WINDOW = 4096
MAX_WARNINGS = 20


class IngestReport:
    __slots__ = (
        "bad_lines",
        "kind",
        "new_bytes",
        "new_entries",
        "path",
        "pending_bytes",
        "rewritten",
        "session_uuid",
        "warnings",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self.session_uuid = ""
        self.kind = ""
        self.new_bytes = 0
        self.new_entries = 0
        self.pending_bytes = 0
        self.rewritten = False
        self.bad_lines = 0
        self.warnings: list[str] = []

    def __repr__(self) -> str:
        return f"IngestReport({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"

    def warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)


class _FileState:
    __slots__ = (
        "committed",
        "file_id",
        "generation",
        "head_hash",
        "info",
        "session_id",
        "size",
        "tail_hash",
    )

    def __init__(self, file_id: int, session_id: int, info: FileInfo, generation: int,
                 committed: int, size: int, head_hash: bytes | None,
                 tail_hash: bytes | None) -> None:
        self.file_id, self.session_id, self.info = file_id, session_id, info
        self.generation, self.committed, self.size = generation, committed, size
        self.head_hash, self.tail_hash = head_hash, tail_hash


def _fingerprint(fd: int, end: int) -> tuple[bytes, bytes]:
    head = os.pread(fd, min(FINGERPRINT_WINDOW, end), 0)
    start = max(0, end - FINGERPRINT_WINDOW)
    tail = os.pread(fd, end - start, start)
    return line_hash(head), line_hash(tail)


def _load_state(conn: sqlite3.Connection, path: str) -> _FileState | None:
    row = conn.execute(
        "SELECT f.id, f.session_id, f.kind, s.uuid, f.project_folder, f.rel_path, f.generation,"
        " f.committed, f.size, f.head_hash, f.tail_hash FROM files f JOIN sessions s"
        " ON s.id = f.session_id WHERE f.path = ?",
        (path,),
    ).fetchone()
    if row is None:
        return None
    info = FileInfo(row[2], row[3], row[4], row[5])
    return _FileState(row[0], row[1], info, row[6], row[7], row[8], row[9], row[10])


def _new_state(conn: sqlite3.Connection, path: str, info: FileInfo) -> _FileState:
    session_id = ensure_session(conn, info.session_uuid)
    cur = conn.execute(
        "INSERT INTO files(path, session_id, kind, project_folder, rel_path) VALUES (?,?,?,?,?)",
        (path, session_id, info.kind, info.project_folder, info.rel_path),
    )
    assert cur.lastrowid is not None
    return _FileState(cur.lastrowid, session_id, info, 0, 0, 0, None, None)


def _reclassify(conn: sqlite3.Connection, state: _FileState, path: str,
                named: tuple[str, bool]) -> None:
    """A loose file whose first lines named no session was filed under its own name; once a
    record names the session, move what was filed provisionally to the real one."""
    session, sidechain = named
    kind = "subagent" if sidechain or os.path.basename(path).startswith("agent-") else "session"
    info = FileInfo(kind, session, state.info.project_folder, state.info.rel_path)
    if info == state.info:
        return
    old, new = state.session_id, ensure_session(conn, info.session_uuid)
    state.info, state.session_id = info, new
    conn.execute("UPDATE files SET session_id = ?, kind = ? WHERE id = ?",
                 (new, info.kind, state.file_id))
    conn.execute("UPDATE entries SET session_id = ? WHERE session_id = ? AND file_id = ?",
                 (new, old, state.file_id))
    if conn.execute("SELECT 1 FROM files WHERE session_id = ?", (old,)).fetchone():
        return  # another file shares the provisional name; leave its rows alone
    conn.execute("UPDATE usage SET session_id = ? WHERE session_id = ?", (new, old))
    conn.execute("UPDATE OR IGNORE costs SET session_id = ? WHERE session_id = ?", (new, old))
    conn.execute(
        "UPDATE sessions SET"
        " first_ts = CASE WHEN sessions.first_ts IS NULL OR sessions.first_ts > o.first_ts"
        " THEN o.first_ts ELSE sessions.first_ts END,"
        " last_ts = CASE WHEN sessions.last_ts IS NULL OR sessions.last_ts < o.last_ts"
        " THEN o.last_ts ELSE sessions.last_ts END,"
        " cwd = coalesce(sessions.cwd, o.cwd), git_branch = coalesce(sessions.git_branch,"
        " o.git_branch), cc_version = coalesce(sessions.cc_version, o.cc_version),"
        " title = coalesce(o.title, sessions.title)"
        " FROM (SELECT * FROM sessions WHERE id = ?) AS o WHERE sessions.id = ?",
        (old, new),
    )
    conn.execute("DELETE FROM costs WHERE session_id = ?", (old,))
    conn.execute("DELETE FROM sessions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entries"
                 " WHERE session_id = ?1)", (old,))


def _unchanged_prefix(fd: int, state: _FileState, size: int) -> bool:
    if state.committed == 0:
        return True
    if size < state.committed:
        return False
    return _fingerprint(fd, state.committed) == (state.head_hash, state.tail_hash)


def _scan(fd: int, state: _FileState, size: int, settings: Settings,
          on_frame: Callable[[Frame], None], on_batch: Callable[[Batch], None],
          parse: Callable[[bytes], Record]) -> ScanResult:
    return scan(fd, state.committed, size, line_mode=state.info.line_mode,
                default_session=state.info.session_uuid, frame_bytes=settings.frame_bytes,
                level=settings.compression_level, tool_text_chars=settings.tool_text_chars,
                max_line_bytes=settings.max_indexed_line_bytes, on_frame=on_frame,
                on_batch=on_batch, parse=parse)


def _frame_writer(conn: sqlite3.Connection, state: _FileState) -> Callable[[Frame], None]:
    def write(frame: Frame) -> None:
        conn.execute(
            "INSERT INTO chunks(file_id, generation, offset, raw_len, data) VALUES (?,?,?,?,?)",
            (state.file_id, state.generation, *frame),
        )
    return write


def _batch_writer(db: Database, state: _FileState) -> BatchWriter:
    return BatchWriter(db.conn, state.file_id, state.generation,
                       {state.info.session_uuid: state.session_id}, db.executemany_at_commit)


def _start(conn: sqlite3.Connection, state: _FileState, rewritten: bool,
           report: IngestReport) -> None:
    """Open a new generation for a rewritten file; drop the tail the scan will write again."""
    if rewritten:
        report.rewritten = True
        report.warn(f"{report.path} was rewritten or truncated; archived as a new generation")
        state.generation += 1
        state.committed = state.size = 0
    conn.execute("DELETE FROM chunks WHERE file_id = ? AND generation = ? AND offset >= ?",
                 (state.file_id, state.generation, state.committed))


def _finish(conn: sqlite3.Connection, state: _FileState, result: ScanResult,
            fingerprint: tuple[bytes | None, bytes | None], new_entries: int,
            settings: Settings, report: IngestReport) -> None:
    """Record how far the file is archived, and report what happened."""
    stored = state.committed + result.new_bytes
    report.new_bytes, report.new_entries = result.new_bytes, new_entries
    report.bad_lines, report.pending_bytes = len(result.bad_lines), stored - result.committed
    for offset, reason in result.bad_lines:
        report.warn(f"{report.path}: line at byte {offset} is not a valid record ({reason});"
                    " archived verbatim, not indexed")
    for text in result.warnings:
        report.warn(f"{report.path}: {text}")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    conn.execute(
        "UPDATE files SET generation=?, committed=?, size=?, head_hash=?, tail_hash=?,"
        " bad_lines = bad_lines + ?, ingested_at=? WHERE id = ?",
        (state.generation, result.committed, stored, *fingerprint, report.bad_lines, now,
         state.file_id),
    )
    conn.execute("INSERT INTO meta(key, value) VALUES ('last_ingest', ?)"
                 " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (now,))
    _repack(conn, state, result.committed, settings)
    if report.pending_bytes:
        report.warn(f"{report.path}: {report.pending_bytes} bytes after the last newline are"
                    " archived and wait for their newline to be indexed")


def _new_fingerprint(fd: int, committed: int) -> tuple[bytes | None, bytes | None]:
    return _fingerprint(fd, committed) if committed else (None, None)


def _repack(conn: sqlite3.Connection, state: _FileState, committed: int,
            settings: Settings, force: bool = False) -> None:
    """Merge the trailing run of small frames (one per hook save) into large ones.

    Small frames compress badly (a few hundred bytes each); merged, they reach whole-file ratios.
    Only frames before ``committed`` are merged, so the replaceable tail stays separate.
    """
    rows = conn.execute(
        "SELECT id, offset, raw_len FROM chunks WHERE file_id = ? AND generation = ?"
        " AND offset < ? ORDER BY offset",
        (state.file_id, state.generation, committed),
    ).fetchall()
    small = settings.frame_bytes // 2
    run: list[tuple[int, int, int]] = []
    for row in reversed(rows):
        if row[2] >= small:
            break
        run.append(row)
    if len(run) < (2 if force else settings.repack_after_frames):
        return
    run.reverse()
    group: list[tuple[int, int, int]] = []
    grouped = 0  # raw bytes in group
    for row in [*run, None]:
        if row is not None and grouped + row[2] <= settings.frame_bytes:
            group.append(row)
            grouped += row[2]
            continue
        if len(group) > 1:
            _merge(conn, state, group, settings)
        group, grouped = ([row], row[2]) if row is not None else ([], 0)


def _merge(conn: sqlite3.Connection, state: _FileState, group: list[tuple[int, int, int]],
           settings: Settings) -> None:
    parts = []
    for chunk_id, _offset, raw_len in group:
        frame = conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()[0]
        parts.append(codec.decompress(frame, raw_len))
    data = b"".join(parts)
    conn.executemany("DELETE FROM chunks WHERE id = ?", [(r[0],) for r in group])
    _frame_writer(conn, state)((group[0][1], len(data), codec.compress(data,
                                                                      settings.repack_level)))


def _parser(db: Database) -> Callable[[bytes], Record]:
    """pydantic's faster parser inside a bulk import, where its import cost is paid once."""
    if db.in_bulk:
        from .models_bulk import parse_record_bulk

        return parse_record_bulk
    return parse_record


def compact_file(db: Database, path: StrPath, settings: Settings) -> None:
    """Merge all of a file's small frames now (e.g. when its session ends)."""
    with db.write() as conn:
        state = _load_state(conn, os.path.abspath(path))
        if state is not None:
            _repack(conn, state, state.committed, settings, force=True)


def ingest_file(db: Database, file: StrPath, settings: Settings) -> IngestReport:
    """Archive whatever is new in ``path`` and index its complete records, streaming: frames
    and batches are written as they are read, so memory stays bounded on any file."""
    path = os.path.abspath(file)
    check_transcript_path(path)
    report = IngestReport(path)
    with open(path, "rb") as handle:
        fd = handle.fileno()
        with db.write() as conn:
            # The size is read under the lock: read before, another writer may have archived
            # past it while we waited, and the file would look truncated.
            size = os.fstat(fd).st_size
            state = _load_state(conn, path)
            if state is None:
                state = _new_state(conn, path, classify(path))
            report.session_uuid, report.kind = state.info.session_uuid, state.info.kind
            rewritten = not _unchanged_prefix(fd, state, size)
            if not rewritten and size == state.size:
                report.pending_bytes = size - state.committed
                return report
            _start(conn, state, rewritten, report)
            writer = _batch_writer(db, state)
            result = _scan(fd, state, size, settings, _frame_writer(conn, state), writer,
                           _parser(db))
            if result.first_session and is_provisional(path, state.info):
                _reclassify(conn, state, path, result.first_session)
            report.session_uuid, report.kind = state.info.session_uuid, state.info.kind
            _finish(conn, state, result, _new_fingerprint(fd, result.committed),
                    writer.new_entries, settings, report)
    return report
