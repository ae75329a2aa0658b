"""Lossless, incremental ingest of one transcript file.

Each file remembers how far it was ingested (``committed``: through the last newline) and a
fingerprint of what was read (hashes of its first and last 4 KiB before that offset), so a call
reads only new bytes. Bytes after the last newline are archived too (export stays byte-exact) but
are rewritten on the next call and not indexed until their newline arrives. A file that shrank or
whose fingerprint changed was rewritten: its bytes go into a new generation (the old one is kept)
and its records are indexed again, deduplicated on ``uuid``.

The whole call is one ``BEGIN IMMEDIATE`` transaction, so concurrent ingests of the same file
serialise and never double-count, and a crash leaves the previous state intact.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import codec
from .config import Settings
from .db import Database
from .indexer import Indexer, IndexTarget, ensure_session, line_hash
from .sources import FileInfo, check_transcript_path, classify, is_provisional

FINGERPRINT_WINDOW = 4096
THREAD_THRESHOLD = 1 << 20  # below this, a worker thread costs more than it saves
MAX_IN_FLIGHT = 4
MAX_WARNINGS = 20


@dataclass
class IngestReport:
    path: Path
    session_uuid: str = ""
    kind: str = ""
    new_bytes: int = 0
    new_entries: int = 0
    pending_bytes: int = 0
    rewritten: bool = False
    bad_lines: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)


@dataclass
class _FileState:
    file_id: int
    session_id: int
    info: FileInfo
    generation: int
    committed: int
    size: int
    head_hash: bytes | None
    tail_hash: bytes | None


def _fingerprint(fd: int, end: int) -> tuple[bytes, bytes]:
    head = os.pread(fd, min(FINGERPRINT_WINDOW, end), 0)
    start = max(0, end - FINGERPRINT_WINDOW)
    tail = os.pread(fd, end - start, start)
    return line_hash(head), line_hash(tail)


def _pieces(fd: int, start: int, end: int, frame_bytes: int, line_mode: bool) -> Iterator[
    tuple[int, bytes]
]:
    """Split [start, end) into frames of at most ``frame_bytes``, cut after a newline if possible.

    A frame never straddles the last newline, so the partial tail after it sits in frames of its
    own, which the next ingest replaces.
    """
    pos = start
    offset = start
    carry = b""
    while pos < end:
        data = os.pread(fd, min(frame_bytes - len(carry), end - pos), pos)
        if not data:  # the file shrank while we read it; the rest waits for the next call
            break
        pos += len(data)
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n") + 1 if line_mode else len(buf)
        if pos >= end or cut == 0:
            if pos >= end and 0 < cut < len(buf):
                yield offset, buf[:cut]
                offset += cut
                buf = buf[cut:]
            yield offset, buf
            offset += len(buf)
            carry = b""
        else:
            yield offset, buf[:cut]
            offset += cut
            carry = buf[cut:]
    if carry:
        yield offset, carry


def _load_state(conn: sqlite3.Connection, path: Path) -> _FileState | None:
    row = conn.execute(
        "SELECT f.id, f.session_id, f.kind, s.uuid, f.project_folder, f.rel_path, f.generation,"
        " f.committed, f.size, f.head_hash, f.tail_hash FROM files f JOIN sessions s"
        " ON s.id = f.session_id WHERE f.path = ?",
        (str(path),),
    ).fetchone()
    if row is None:
        return None
    info = FileInfo(row[2], row[3], row[4], row[5])
    return _FileState(row[0], row[1], info, row[6], row[7], row[8], row[9], row[10])


def _new_state(conn: sqlite3.Connection, path: Path, info: FileInfo) -> _FileState:
    session_id = ensure_session(conn, info.session_uuid)
    cur = conn.execute(
        "INSERT INTO files(path, session_id, kind, project_folder, rel_path) VALUES (?,?,?,?,?)",
        (str(path), session_id, info.kind, info.project_folder, info.rel_path),
    )
    assert cur.lastrowid is not None
    return _FileState(cur.lastrowid, session_id, info, 0, 0, 0, None, None)


def _reclassify(conn: sqlite3.Connection, state: _FileState, path: Path) -> None:
    """A file first seen before any record named its session was filed under its own name;
    once a record names the session, move what was filed provisionally to the real one."""
    info = classify(path)
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


class _Work:
    """A file's database work, in order: inline for small appends (a hook's save), or, for
    large files, on one worker thread that owns the connection while this thread parses.

    zstd and SQLite release the GIL, so compressing and writing overlap with parsing. Few jobs
    are in flight at once, which keeps memory bounded however large the file is.
    """

    def __init__(self, conn: sqlite3.Connection, threaded: bool) -> None:
        self.conn = conn
        self.pool = _worker_pool() if threaded else None
        self.in_flight: deque[Future[None]] = deque()

    def submit(self, job: Callable[[sqlite3.Connection], None]) -> None:
        if self.pool is None:
            job(self.conn)
            return
        while len(self.in_flight) >= MAX_IN_FLIGHT:
            self.in_flight.popleft().result()
        self.in_flight.append(self.pool.submit(job, self.conn))

    def wait(self) -> None:
        """Block until every job ran; the first failure is raised only once none is running,
        so the caller's rollback never races the worker for the connection."""
        failure: BaseException | None = None
        while self.in_flight:
            future = self.in_flight.popleft()
            if failure is not None:
                future.cancel()
            try:
                future.result()
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure


_POOL: ThreadPoolExecutor | None = None


def _worker_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-core-writer")
    return _POOL


def _frame_job(state: _FileState, offset: int, data: bytes, level: int
               ) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO chunks(file_id, generation, offset, raw_len, data) VALUES (?,?,?,?,?)",
            (state.file_id, state.generation, offset, len(data), codec.compress(data, level)),
        )
    return job


class _LineSplitter:
    """Feeds complete lines to the indexer; lines spanning frames are joined up to a limit."""

    def __init__(self, indexer: Indexer, start: int, limit: int, report: IngestReport) -> None:
        self.indexer, self.limit, self.report = indexer, limit, report
        self.committed = start  # end of the last complete line
        self.partial: list[bytes] = []
        self.partial_len = 0
        self.partial_start = start

    def feed(self, offset: int, data: bytes) -> None:
        lines = data.split(b"\n")
        last = lines.pop()  # after the final newline: empty, or a line still open
        pos = offset
        for line in lines:
            if self.partial:
                self._close_partial(line)
            elif len(line) <= self.limit:
                self.indexer.line(pos, line)
            pos += len(line) + 1
            self.committed = pos
        if last:
            if self.partial_len == 0:
                self.partial_start = pos
            self.partial_len += len(last)
            self.partial.append(last if self.partial_len <= self.limit else b"")

    def _close_partial(self, end: bytes) -> None:
        start, whole = self.partial_start, self.partial_len + len(end)
        if whole <= self.limit:
            self.indexer.line(start, b"".join([*self.partial, end]))
        else:
            self.report.warn(f"{self.report.path}: a {whole}-byte line at byte {start} is"
                             " archived verbatim but too long to index")
        self.partial, self.partial_len = [], 0


def _store_and_index(conn: sqlite3.Connection, fd: int, path: Path, state: _FileState,
                     size: int, settings: Settings, report: IngestReport) -> int:
    """Archive [committed, size) and index its complete lines; returns the new committed."""
    work = _Work(conn, threaded=size - state.committed > THREAD_THRESHOLD)
    try:
        return _feed(work, fd, path, state, size, settings, report)
    finally:
        work.wait()


def _feed(work: _Work, fd: int, path: Path, state: _FileState, size: int,
          settings: Settings, report: IngestReport) -> int:
    splitter = None
    if state.info.line_mode:
        target = IndexTarget(state.file_id, state.generation, state.info.session_uuid,
                             state.session_id, path)
        splitter = _LineSplitter(Indexer(target, settings.tool_text_chars, work.submit),
                                 state.committed, settings.max_indexed_line_bytes, report)
    end = state.committed
    for offset, data in _pieces(fd, state.committed, size, settings.frame_bytes,
                                state.info.line_mode):
        work.submit(_frame_job(state, offset, data, settings.compression_level))
        report.new_bytes += len(data)
        end = offset + len(data)
        if splitter is not None:
            splitter.feed(offset, data)
    if splitter is None:
        return end
    indexer = splitter.indexer
    indexer.flush()
    work.wait()
    report.new_entries = indexer.new_entries
    report.bad_lines = len(indexer.bad_lines)
    for offset, reason in indexer.bad_lines:
        report.warn(f"{path}: line at byte {offset} is not a valid record ({reason});"
                    " archived verbatim, not indexed")
    return splitter.committed


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
    for row in [*run, None]:
        if row is not None and sum(r[2] for r in group) + row[2] <= settings.frame_bytes:
            group.append(row)
            continue
        if len(group) > 1:
            _merge(conn, state, group, settings)
        group = [row] if row is not None else []


def _merge(conn: sqlite3.Connection, state: _FileState, group: list[tuple[int, int, int]],
           settings: Settings) -> None:
    parts = []
    for chunk_id, _offset, raw_len in group:
        frame = conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()[0]
        parts.append(codec.decompress(frame, raw_len))
    data = b"".join(parts)
    conn.executemany("DELETE FROM chunks WHERE id = ?", [(r[0],) for r in group])
    conn.execute(
        "INSERT INTO chunks(file_id, generation, offset, raw_len, data) VALUES (?,?,?,?,?)",
        (state.file_id, state.generation, group[0][1], len(data),
         codec.compress(data, settings.repack_level)),
    )


def compact_file(db: Database, path: Path, settings: Settings) -> None:
    """Merge all of a file's small frames now (e.g. when its session ends)."""
    with db.write() as conn:
        state = _load_state(conn, Path(os.path.abspath(path)))
        if state is not None:
            _repack(conn, state, state.committed, settings, force=True)


def ingest_file(db: Database, path: Path, settings: Settings) -> IngestReport:
    """Archive whatever is new in ``path`` and index its complete records."""
    path = Path(os.path.abspath(path))
    check_transcript_path(path)
    report = IngestReport(path)
    with open(path, "rb") as handle:
        fd = handle.fileno()
        size = os.fstat(fd).st_size
        with db.write() as conn:
            state = _load_state(conn, path)
            if state is None:
                state = _new_state(conn, path, classify(path))
            elif is_provisional(path, state.info):
                _reclassify(conn, state, path)
            report.session_uuid, report.kind = state.info.session_uuid, state.info.kind
            if not _unchanged_prefix(fd, state, size):
                report.rewritten = True
                report.warn(f"{path} was rewritten or truncated; archived as a new generation")
                state.generation += 1
                state.committed = state.size = 0
            elif size == state.size:
                report.pending_bytes = size - state.committed
                return report
            conn.execute(
                "DELETE FROM chunks WHERE file_id = ? AND generation = ? AND offset >= ?",
                (state.file_id, state.generation, state.committed),
            )
            committed = _store_and_index(conn, fd, path, state, size, settings, report)
            stored = state.committed + report.new_bytes
            head, tail = _fingerprint(fd, committed) if committed else (None, None)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            conn.execute(
                "UPDATE files SET generation=?, committed=?, size=?, head_hash=?, tail_hash=?,"
                " bad_lines = bad_lines + ?, ingested_at=? WHERE id = ?",
                (state.generation, committed, stored, head, tail, report.bad_lines, now,
                 state.file_id),
            )
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('last_ingest', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (now,),
            )
            _repack(conn, state, committed, settings)
            report.pending_bytes = stored - committed
    if report.pending_bytes:
        report.warn(f"{path}: {report.pending_bytes} bytes after the last newline are archived"
                    " and wait for their newline to be indexed")
    return report
