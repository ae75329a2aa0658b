"""Lossless, incremental ingest of one transcript file: the one pipeline from a file's new
bytes to what the store keeps of them.

Each file remembers how far it was ingested (``committed``: through the last newline) and a
fingerprint of what was read (hashes of its first and last 4 KiB before that offset), so a call
reads only new bytes. Those bytes are cut into pieces (``lines.pieces``); each piece becomes a
zstd frame, and each complete line in it is parsed once and handed to both consumers of the
record stream: the index (``index.IndexBuilder``: entries, tokens, costs, session facts) and,
for a session's own transcript, its handoff digest (``digest.fold``). Bytes after the last
newline are archived too (export stays byte-exact) but are rewritten on the next call and not
indexed until their newline arrives. A file that shrank or whose fingerprint changed was
rewritten: its bytes go into a new generation (the old one is kept) and its records are indexed
again, deduplicated on ``uuid``.

The whole call is one ``BEGIN IMMEDIATE`` transaction (a savepoint inside an import's batch),
so concurrent ingests of the same file serialise and never double-count, and a crash leaves
the previous state intact. The digest is saved under a savepoint of its own: a digest that
cannot be folded or saved costs a warning, never the save.
"""

from __future__ import annotations

import os

from ..base.clock import utc_stamp
from ..base.sqlite_driver import sqlite3
from ..store import codec, entries, files, forgotten, frames, meta, sessions, usage
from ..store.connection import translate
from . import layout
from .digest import DIGESTED_KINDS, Digest, could_hold_message, digest_of, fold, save_digest
from .index import Batch, IndexBuilder, index_version, recorded_chars, titles_and_usage
from .lines import LineSplitter, is_plain_progress, line_hash, pieces
from .records import Record, RecordError, parse_record

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import ThreadPoolExecutor

    from ..base.fs import StrPath
    from ..base.settings import Settings
    from ..store.connection import Database

FINGERPRINT_WINDOW = 4096
MAX_WARNINGS = 20
THREADED_COMPRESSION = 256 << 10
"""Below this many new bytes, handing compression to a thread costs more than it saves."""
_POOL: ThreadPoolExecutor | None = None


class ForgottenSession(Exception):
    """Raised inside the write when a file turns out to be of a forgotten session: raising
    rolls back what the file wrote."""

    def __init__(self, session: str) -> None:
        super().__init__(session)
        self.session = session


class IngestReport:
    __slots__ = ("bad_lines", "cleaned", "forgotten", "kind", "new_bytes", "new_entries",
                 "path", "pending_bytes", "rewritten", "session_uuid", "warnings")

    def __init__(self, path: str) -> None:
        self.path = path
        self.session_uuid = ""
        self.kind = ""
        self.new_bytes = 0
        self.new_entries = 0
        self.forgotten = False
        """The file is of a session forgotten on purpose (``session-core forget``): not
        archived."""
        self.cleaned = False
        """The file is of a session ``session-core cleanup`` removed and has not changed
        since: left out."""
        self.pending_bytes = 0
        self.rewritten = False
        self.bad_lines = 0
        self.warnings: list[str] = []

    def __repr__(self) -> str:
        return f"IngestReport({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"

    def warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)


def ingest_file(db: Database, file: StrPath, settings: Settings,
                digest_catch_up: int | None = None,
                archived_as: str | None = None) -> IngestReport:
    """Archive whatever is new in ``file`` and index its complete records, streaming: frames
    and batches are written as they are read, so memory stays bounded on any file.

    ``digest_catch_up``: when the session's saved digest is behind the archived bytes (an
    archive from before digests), fold at most this many archived bytes to bring it up to date,
    else leave it for the next reader; hooks on a tight budget pass a limit.

    ``archived_as``: the path the bytes are archived under, when ``file`` is a copy (recovery
    writes what it salvaged from an old archive to a temporary file).
    """
    source = os.path.abspath(file)
    layout.check_transcript_path(source)
    path = os.path.abspath(archived_as) if archived_as else source
    report = IngestReport(path)
    with open(source, "rb") as handle:
        fd = handle.fileno()
        if _nothing_new(db, fd, path, report):
            return report  # no write lock taken: a parallel session's hook need not wait
        try:
            return _ingest_locked(db, fd, path, settings, report, digest_catch_up)
        except ForgottenSession as exc:  # raised inside the write: all it wrote rolled back
            report.session_uuid, report.forgotten = exc.session, True
            report.new_bytes = report.new_entries = 0
            return report


def _ingest_locked(db: Database, fd: int, path: str, settings: Settings, report: IngestReport,
                   digest_catch_up: int | None) -> IngestReport:
    with db.write() as conn:
        # The size is read under the lock: read before, another writer may have archived
        # past it while we waited, and the file would look truncated.
        size = os.fstat(fd).st_size
        record = files.at_path(conn, path)
        if record is None:
            info = layout.classify(path)
            if forgotten.is_forgotten(conn, info.session_uuid):
                report.session_uuid, report.kind = info.session_uuid, info.kind
                report.forgotten = True  # forgotten on purpose: it stays out
                return report
            if _cleaned_unchanged(conn, fd, path, size, info.session_uuid, drop=True):
                report.session_uuid, report.kind = info.session_uuid, info.kind
                report.cleaned = True
                return report
            record = _new_file(conn, path)
        report.session_uuid, report.kind = record.session_uuid, record.kind
        rewritten = not _unchanged_prefix(fd, record, size)
        if not rewritten and size == record.size:
            report.pending_bytes = size - record.committed
            return report
        _Ingest(db, conn, fd, record, settings, report).run(size, rewritten, digest_catch_up)
    return report


def _nothing_new(db: Database, fd: int, path: str, report: IngestReport) -> bool:
    """The file is as archived. Read without the lock: the size is taken before the record,
    so a writer that archived more meanwhile shows as a record that differs, never as a file
    that looks unchanged."""
    size = os.fstat(fd).st_size
    info = None
    try:
        record = files.at_path(db.conn, path)
        if record is None:
            info = layout.classify(path)
            if not _cleaned_unchanged(db.conn, fd, path, size, info.session_uuid, drop=False):
                return False
    except sqlite3.Error as exc:  # a damaged archive says so as ours, as under the lock
        raise translate(exc, db.path) from exc
    if info is not None:  # a file cleanup left out, as it was
        report.session_uuid, report.kind, report.cleaned = info.session_uuid, info.kind, True
        return True
    assert record is not None
    if size != record.size or not _unchanged_prefix(fd, record, size):
        return False
    report.session_uuid, report.kind = record.session_uuid, record.kind
    report.pending_bytes = size - record.committed
    return True


def compact_file(db: Database, path: StrPath, settings: Settings) -> None:
    """Merge all of a file's small frames now (e.g. when its session ends)."""
    with db.write() as conn:
        record = files.at_path(conn, os.path.abspath(path))
        if record is not None:
            frames.repack(conn, record, settings, force=True)
            frames.seal(conn, record)


def _new_file(conn: sqlite3.Connection, path: str) -> files.FileRecord:
    info = layout.classify(path)
    return files.add(conn, path, sessions.ensure(conn, info.session_uuid), info.kind,
                     info.project_folder, info.rel_path)


def _cleaned_unchanged(conn: sqlite3.Connection, fd: int, path: str, size: int, key: str,
                       drop: bool) -> bool:
    """Whether ``path`` is of a session cleanup removed and the file cleanup saw is as it was
    (a file that has gone since: its session is over, it stays out too). ``drop`` (under the
    lock): a changed one lifts the mark, and the session is archived again, whole."""
    mark = meta.cleaned_mark(conn, key)
    if mark is None:
        return False
    if mark.path == path:
        unchanged = size == mark.size and _fingerprint(fd, size) == (mark.head, mark.tail)
    else:
        unchanged = file_as_marked(mark)
    if not unchanged and drop:
        meta.drop_cleaned(conn, key)
    return unchanged


def file_as_marked(mark: meta.CleanedMark) -> bool:
    """The file of a cleanup mark is as it was when its session was removed, or gone."""
    try:
        handle = open(mark.path, "rb")  # noqa: SIM115 - closed below, on the hook path
    except OSError:
        return True
    with handle:
        size = os.fstat(handle.fileno()).st_size
        return size == mark.size and _fingerprint(handle.fileno(), size) == (mark.head,
                                                                               mark.tail)


def mark_of(path: str, key: str, when: str) -> meta.CleanedMark | None:
    """The file at ``path`` as it is now, for a cleanup mark; None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head, tail = _fingerprint(handle.fileno(), size)
    except OSError:
        return None
    return meta.CleanedMark(key, path, size, head, tail, when)


def holds_archived(record: files.FileRecord) -> bool:
    """Whether the file at ``record.path`` still holds every byte archived of it: there, at
    least as long, and the same where the fingerprint looks (a sidecar, which Claude Code
    rewrites itself, only needs to be there). An older generation kept of a rewritten
    transcript is held only by the archive."""
    try:
        with open(record.path, "rb") as handle:
            if not record.line_mode:
                return True
            size = os.fstat(handle.fileno()).st_size
            return record.generation == 0 and size >= record.committed and \
                _unchanged_prefix(handle.fileno(), record, size)
    except OSError:
        return False


def _fingerprint(fd: int, end: int) -> tuple[bytes, bytes]:
    head = os.pread(fd, min(FINGERPRINT_WINDOW, end), 0)
    start = max(0, end - FINGERPRINT_WINDOW)
    tail = os.pread(fd, end - start, start)
    return line_hash(head), line_hash(tail)


def _unchanged_prefix(fd: int, record: files.FileRecord, size: int) -> bool:
    if record.committed == 0:
        return True
    if size < record.committed:
        return False
    return _fingerprint(fd, record.committed) == (record.head_hash, record.tail_hash)


class _Ingest:
    """One call's work on one file, inside the caller's transaction."""

    def __init__(self, db: Database, conn: sqlite3.Connection, fd: int,
                 record: files.FileRecord, settings: Settings, report: IngestReport) -> None:
        self.db, self.conn, self.fd, self.record = db, conn, fd, record
        self.settings, self.report = settings, report
        # The index's own extraction, not the setting's: a changed setting takes effect when
        # a command indexes everything again (cli.upgrade), so one index never mixes two.
        self.recorded_version = meta.get(conn, meta.INDEX_VERSION)
        self.chars = recorded_chars(self.recorded_version) or settings.tool_text_chars
        self.builder = IndexBuilder(record.session_uuid, self.chars)
        self.parse = _parser(db)
        self.session_ids = {record.session_uuid: record.session_id}
        self.bad_lines: list[tuple[int, str]] = []
        self.provisional = layout.is_provisional(record.path, record.kind, record.session_uuid)
        self.digest: Digest | None = None
        self.version_checked = False

    def run(self, size: int, rewritten: bool, digest_catch_up: int | None) -> None:
        record, report = self.record, self.report
        if rewritten:
            report.rewritten = True
            if record.kind != "sidecar":  # Claude Code rewrites its .meta.json files itself
                report.warn(f"{report.path} was rewritten or truncated; archived as a new"
                            " generation")
            record.generation += 1
            record.committed = record.size = 0
        frames.drop_from(self.conn, record.file_id, record.generation, record.committed)
        if record.kind in DIGESTED_KINDS or self.provisional:
            self.digest = self._digest_so_far(digest_catch_up)
        start = record.committed
        committed, new_bytes = self._read(start, size)
        if self.builder.first_session and self.provisional:
            self._settle(*self.builder.first_session)
        report.session_uuid, report.kind = record.session_uuid, record.kind
        record.size, record.committed = start + new_bytes, committed
        record.head_hash, record.tail_hash = (_fingerprint(self.fd, committed) if committed
                                              else (None, None))
        self._finish(new_bytes)

    def _read(self, start: int, size: int) -> tuple[int, int]:
        """Frames and index rows of [start, size); returns (committed, new bytes)."""
        record, settings = self.record, self.settings
        pool = _compression_thread() if size - start >= THREADED_COMPRESSION else None
        splitter = (LineSplitter(start, settings.max_indexed_line_bytes) if record.line_mode
                    else None)
        new_bytes, level, take_line = 0, settings.compression_level, self._line
        for offset, data in pieces(self.fd, start, size, settings.frame_bytes, record.line_mode):
            # zstd and BLAKE2 release the GIL: a large frame is compressed and hashed while its
            # lines are parsed.
            pending = pool.submit(_compress_and_hash, data, level) if pool else None
            new_bytes += len(data)
            if splitter is not None:
                for line_offset, line in splitter.feed(offset, data):
                    take_line(line_offset, line)
            frame, raw_hash = pending.result() if pending else (codec.compress(data, level), None)
            frames.append(self.conn, record.file_id, record.generation, offset, data, frame,
                          raw_hash)
        self._write(self.builder.take())
        if splitter is None:
            return start + new_bytes, new_bytes
        for at, length in splitter.too_long:
            self.report.warn(f"{self.report.path}: a {length}-byte line at byte {at} is archived"
                             " verbatim but too long to index")
        return splitter.committed, new_bytes

    def _line(self, offset: int, line: bytes) -> None:
        """One complete line, parsed once, to the index and to the digest."""
        builder = self.builder
        if is_plain_progress(line):
            builder.progress(line)
            return
        if not line or line.isspace():
            return
        try:
            parsed = self.parse(line)
        except RecordError as exc:
            self.bad_lines.append((offset, str(exc)))
            return
        named_before = builder.first_session is not None
        info = builder.add(offset, line, parsed)
        digest = self.digest
        if digest is not None and self.provisional and not named_before \
                and builder.first_session is not None:
            # The first line that names a session (a queue-operation, often) decides what the
            # file is filed as, whether or not it holds a message.
            digest.session_uuid, agent = builder.first_session
            digest.sidechain = layout.settled_kind(self.record.path, agent) == "subagent"
        if digest is not None and could_hold_message(parsed, line):
            try:
                fold(digest, parsed, info)
            except Exception as exc:  # the digest is a second consumer: it never fails a save
                self.report.warn(f"{self.report.path}: a record at byte {offset} left out of"
                                 f" the digest: {exc!r}")  # as fold_lines leaves it out
        if builder.full:
            self._write(builder.take())

    def _write(self, batch: Batch | None) -> None:
        """One batch of index rows into the store: entries not archived yet (resume, fork and
        re-import repeat them) with their words and usage, costs, what the sessions learned."""
        if batch is None:
            return
        conn, record = self.conn, self.record
        if not self.version_checked:  # a new archive's index is built by this code: say so
            self.version_checked = True
            if self.recorded_version is None and not entries.any_entry(conn):
                meta.put(conn, meta.INDEX_VERSION, index_version(self.chars))
        for entry in batch.entries:
            entry.session_id = self._session_id(entry.session)
        fresh = [batch.entries[n] for n in entries.insert_new(self.db, record.file_id,
                                                              record.generation, batch.entries)]
        usage.upsert(conn, titles_and_usage(batch, fresh, self.session_ids))
        if batch.costs:
            rows = [(self._session_id(session), start, cost)
                    for session, start, cost, _ in batch.costs]
            usage.upsert_costs(conn, rows)
            usage.upsert_copied_costs(conn, [
                row for row, (session, _, _, after) in zip(rows, batch.costs, strict=True)
                if self._copied(session, after)])
        for session, d in batch.deltas.items():
            sessions.learn(conn, self._session_id(session), d.first_ts, d.last_ts, d.cwd,
                           d.git_branch, d.cc_version, d.title)
        self.report.new_entries += len(fresh)

    def _copied(self, session: str, after: bytes | None) -> bool:
        """Whether a ``cost-state`` record of ``session`` came after an entry filed under
        another session: copied with that session's lines (a branch, a merge, a fork), its
        total is what was spent there (Claude Code's totals run on from it on a resume)."""
        owner = entries.owner_of_key(self.conn, after) if after is not None else None
        return owner is not None and owner[0] != session

    def _session_id(self, session: str) -> int:
        known = self.session_ids.get(session)
        if known is None:
            known = self.session_ids[session] = sessions.ensure(self.conn, session)
        return known

    def _settle(self, session: str, sidechain_agent: bool) -> None:
        """A loose file filed under its own name moves to the session its records name."""
        conn, record = self.conn, self.record
        if forgotten.is_forgotten(conn, session):
            raise ForgottenSession(session)
        kind = layout.settled_kind(record.path, sidechain_agent)
        if (kind, session) == (record.kind, record.session_uuid):
            return
        old, new = record.session_id, sessions.ensure(conn, session)
        files.move(conn, record, new, session, kind)
        entries.move_file(conn, record.file_id, old, new)
        if files.session_has_files(conn, old):
            return  # another file shares the provisional name; leave its rows alone
        usage.move_session(conn, old, new)
        sessions.absorb(conn, old, new)

    def _finish(self, new_bytes: int) -> None:
        """Record how far the file is archived, report what happened, save the digest."""
        conn, record, report = self.conn, self.record, self.report
        report.new_bytes = new_bytes
        report.bad_lines, report.pending_bytes = len(self.bad_lines), record.size - record.committed
        for offset, reason in self.bad_lines:
            report.warn(f"{report.path}: line at byte {offset} is not a valid record ({reason});"
                        " archived verbatim, not indexed")
        now = utc_stamp()
        files.record_ingest(conn, record, len(self.bad_lines), now)
        meta.put(conn, meta.LAST_INGEST, now)
        frames.repack(conn, record, self.settings)
        frames.seal(conn, record)
        if report.pending_bytes:
            report.warn(f"{report.path}: {report.pending_bytes} bytes after the last newline are"
                        " archived and wait for their newline to be indexed")
        if self.digest is not None and record.kind in DIGESTED_KINDS:
            try:
                with self.db.savepoint():
                    save_digest(conn, record, self.digest)
            except Exception as exc:  # a damaged digests table must not cost the save
                report.warn(f"{report.path}: digest not saved: {exc!r}")

    def _digest_so_far(self, catch_up: int | None) -> Digest | None:
        """The digest of what is archived already, to fold the new records into; None when it
        is behind by more than ``catch_up`` bytes (left to the next reader)."""
        try:
            found = digest_of(self.conn, self.record, catch_up,
                              max_line_bytes=self.settings.max_indexed_line_bytes)
            return None if found is None else found[0]
        except Exception as exc:  # damaged state or frames: the save goes on without it
            self.report.warn(f"{self.report.path}: saved digest not updated: {exc!r}")
            return None


def _parser(db: Database) -> Callable[[bytes], Record]:
    """pydantic's faster parser inside a bulk import, where its import cost is paid once."""
    if db.in_bulk:
        from .records_bulk import parse_record_bulk

        return parse_record_bulk
    return parse_record


def _compress_and_hash(data: bytes, level: int) -> tuple[bytes, bytes]:
    return codec.compress(data, level), line_hash(data)


def _compression_thread() -> ThreadPoolExecutor:
    """Imported and started when first needed: a hook's small append never uses it."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-core-zstd")
    return _POOL


def _forget_thread_after_fork() -> None:
    """A forked child (a user's multiprocessing) inherits the pool object but not its thread:
    submitting to it would wait forever, so start afresh."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_thread_after_fork)
