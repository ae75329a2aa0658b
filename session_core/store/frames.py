"""The ``chunks`` table: each archived file's bytes as zstd frames, in order, and reading back.

A file's generation is a run of frames covering byte 0 to its archived size without gaps; each
frame records where it starts and how many raw bytes it holds, and carries its own checksum
(``codec``). Reading back checks both, so damage is an error, never silently other bytes.
"""

from __future__ import annotations

from ..base.errors import RECOVER_HINT, DamagedError
from ..base.hashing import hash16, hash16_of
from ..base.sqlite_driver import sqlite3
from . import codec, files

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..base.settings import Settings
    from .connection import Database
    from .files import FileRecord



def append(conn: sqlite3.Connection, file_id: int, generation: int, offset: int, raw: bytes,
           frame: bytes, raw_hash: bytes | None = None) -> None:
    """One frame: ``raw`` bytes at ``offset``, stored compressed as ``frame``, with their hash
    (``raw_hash`` if the caller computed it already, on the compression thread)."""
    conn.execute(
        "INSERT INTO chunks(file_id, generation, offset, raw_len, data, raw_hash)"
        " VALUES (?,?,?,?,?,?)", (file_id, generation, offset, len(raw), frame,
                                  raw_hash if raw_hash is not None else hash16(raw)))


def content_hash(conn: sqlite3.Connection, record: FileRecord) -> bytes | None:
    """The hash of the current generation's frame hashes in offset order and its size: what
    :func:`read` checks a whole file against. None while any frame's hash is unknown."""
    hashes = [row[0] for row in conn.execute(
        "SELECT raw_hash FROM chunks WHERE file_id = ? AND generation = ? ORDER BY offset",
        (record.file_id, record.generation))]
    if any(value is None for value in hashes):
        return None
    return hash16_of([*map(bytes, hashes), record.size.to_bytes(8, "big")])


def seal(conn: sqlite3.Connection, record: FileRecord) -> None:
    """Record the file's content hash after its frames changed (an ingest, a repack)."""
    files.set_content_hash(conn, record, content_hash(conn, record))


def drop_from(conn: sqlite3.Connection, file_id: int, generation: int, offset: int) -> None:
    """Forget the frames from ``offset`` on (the partial tail after the last newline, which the
    next ingest archives again, complete)."""
    conn.execute("DELETE FROM chunks WHERE file_id = ? AND generation = ? AND offset >= ?",
                 (file_id, generation, offset))


class LastFrame:
    """The frame a reader decompressed last, kept for its next read: entries read in file and
    byte order (search's hits) decompress a frame they share once. One frame, so a reader
    holds at most ``frame_bytes`` however many entries it reads. For reads of one snapshot
    (a read transaction): frames are known by where they are, not by their bytes."""

    __slots__ = ("data", "hashed", "key")

    def __init__(self) -> None:
        self.key: tuple[int, int, int] | None = None
        self.data = b""
        self.hashed = False
        """Its bytes were compared with the frame's content hash."""


def read(conn: sqlite3.Connection, record: FileRecord, start: int = 0,
         end: int | None = None, content_hashes: bool = True,
         last: LastFrame | None = None) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` (default: the archived size) of the file's generation,
    decompressing only the frames that hold them. Reading to the end also insists that the
    frames end exactly at the recorded size: a frame past it is damage too.

    ``content_hashes=False`` skips comparing each frame's bytes with the hash taken when it was
    archived (zstd's own checksum is still checked): for a reader that checks what it got
    another way, such as search, which compares the record it reads with the entry it looked
    for. Hashing a 4 MiB frame costs more than decompressing it. ``last``: the frame a previous
    read decompressed is taken from there, not decompressed again, and this read's kept."""
    stop = record.size if end is None else end
    expected: int | None = None
    seen: list[bytes] | None = [] if start == 0 and end is None else None
    for offset, raw_len, frame, raw_hash in conn.execute(
        "SELECT offset, raw_len, data, raw_hash FROM chunks WHERE file_id = ? AND generation = ?"
        " AND offset + raw_len > ? ORDER BY offset",
        (record.file_id, record.generation, start),
    ):
        if offset >= stop:
            if end is None:
                raise DamagedError(f"the archive is damaged: its copy of {record.path} holds"
                                    f" bytes past its recorded size {record.size}", RECOVER_HINT)
            break
        if offset != (start if expected is None else expected) and not (
                expected is None and offset < start):
            at = start if expected is None else expected
            raise DamagedError(f"the archive is damaged: its copy of {record.path} has a gap"
                                f" at byte {at}", RECOVER_HINT)
        if not isinstance(frame, bytes) or not isinstance(raw_len, int):
            raise DamagedError(f"the archive is damaged: its copy of {record.path} has a frame"
                               f" of the wrong type at byte {offset}", RECOVER_HINT)
        key = (record.file_id, record.generation, offset)
        if last is not None and last.key == key and len(last.data) == raw_len:
            data, hashed = last.data, last.hashed
        else:
            data, hashed = codec.decompress(frame, raw_len), False
        if content_hashes and raw_hash is not None and not hashed:
            if hash16(data) != raw_hash:
                raise DamagedError(f"the archive is damaged: its copy of {record.path} at byte"
                                   f" {offset} differs from what was archived (content hash)",
                                   RECOVER_HINT)
            hashed = True
        if last is not None:
            last.key, last.data, last.hashed = key, data, hashed
        if seen is not None:
            seen.append(b"" if raw_hash is None else bytes(raw_hash))
        yield data[max(0, start - offset):stop - offset]
        expected = offset + raw_len
    if start < stop and (expected is None or expected < stop):
        raise DamagedError(f"the archive is damaged: its copy of {record.path} ends before"
                            f" byte {stop}", RECOVER_HINT)
    if end is None and expected is not None and expected != record.size:
        raise DamagedError(f"the archive is damaged: its copy of {record.path} ends at"
                            f" {expected}, expected {record.size}", RECOVER_HINT)
    if seen is not None and record.content_hash is not None and all(seen) and \
            hash16_of([*seen, record.size.to_bytes(8, "big")]) != record.content_hash:
        raise DamagedError(f"the archive is damaged: its copy of {record.path} is not the one"
                           " archived (its frames are not those the content hash names)",
                           RECOVER_HINT)


def read_lines(conn: sqlite3.Connection, record: FileRecord, start: int = 0,
               end: int | None = None, content_hashes: bool = True,
               last: LastFrame | None = None) -> Iterator[bytes]:
    """The archived file's lines (without newlines), frames joined where a line spans two;
    from ``start`` (a line start) to ``end`` (a line end; default: the whole file)."""
    carry = b""
    for chunk in read(conn, record, start, end, content_hashes, last):
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        yield from lines
    if carry:
        yield carry


def repack(conn: sqlite3.Connection, record: FileRecord, settings: Settings,
           force: bool = False) -> None:
    """Merge the trailing run of small frames (one per hook save) into large ones.

    Small frames compress badly (a few hundred bytes each); merged, they reach whole-file ratios.
    Only frames before ``committed`` are merged, so the replaceable tail stays separate.
    ``force``: merge any run of two or more (a session that ended), not only a long one.
    """
    rows = conn.execute(
        "SELECT id, offset, raw_len FROM chunks WHERE file_id = ? AND generation = ?"
        " AND offset < ? ORDER BY offset",
        (record.file_id, record.generation, record.committed),
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
            _merge(conn, record, group, settings.repack_level)
        group, grouped = ([row], row[2]) if row is not None else ([], 0)


def _merge(conn: sqlite3.Connection, record: FileRecord, group: list[tuple[int, int, int]],
           level: int) -> None:
    """One frame for the consecutive frames of ``group`` (id, offset, raw length)."""
    parts = []
    for chunk_id, offset, raw_len in group:
        frame, raw_hash = conn.execute("SELECT data, raw_hash FROM chunks WHERE id = ?",
                                       (chunk_id,)).fetchone()
        part = codec.decompress(frame, raw_len)
        if raw_hash is not None and hash16(part) != raw_hash:
            raise DamagedError(f"the archive is damaged: its copy of {record.path} at byte"
                               f" {offset} differs from what was archived (content hash)")
        parts.append(part)
    data = b"".join(parts)
    conn.executemany("DELETE FROM chunks WHERE id = ?", [(r[0],) for r in group])
    append(conn, record.file_id, record.generation, group[0][1], data,
           codec.compress(data, level))


def totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """(raw bytes, stored bytes) of every frame kept."""
    raw, stored = conn.execute("SELECT coalesce(sum(raw_len), 0), coalesce(sum(length(data)), 0)"
                               " FROM chunks").fetchone()
    return int(raw), int(stored)


class FrameRef:
    """Where one stored frame belongs, for ``verify`` to name what a damaged one affects."""

    __slots__ = ("chunk_id", "generation", "offset", "path", "raw_len")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.chunk_id, self.path, self.generation, self.offset, self.raw_len = row


def every_frame(conn: sqlite3.Connection) -> list[FrameRef]:
    rows = conn.execute("SELECT c.id, f.path, c.generation, c.offset, c.raw_len FROM chunks c"
                        " JOIN files f ON f.id = c.file_id ORDER BY c.id").fetchall()
    return [FrameRef(row) for row in rows]


def frame_data(conn: sqlite3.Connection, chunk_id: int) -> bytes:
    return bytes(conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()[0])


def generation_sizes(conn: sqlite3.Connection, file_id: int) -> dict[int, int]:
    """Raw bytes kept per generation of a file (recovery compares them with what was known)."""
    return {int(gen): int(total) for gen, total in conn.execute(
        "SELECT generation, sum(raw_len) FROM chunks WHERE file_id = ? GROUP BY generation",
        (file_id,))}


def fill_hashes(db: Database) -> tuple[int, list[str]]:
    """Hash the frames an archive from before schema v4 holds (one transaction per file), then
    seal each file; returns (files done, problems). A frame that fails its checksum is left
    unhashed and named: ``verify`` and ``recover`` deal with it."""
    from . import files as files_table

    problems: list[str] = []
    todo = [row[0] for row in db.conn.execute(
        "SELECT DISTINCT file_id FROM chunks WHERE raw_hash IS NULL")]
    for file_id in todo:
        with db.write() as conn:
            for chunk_id, raw_len, frame in conn.execute(
                    "SELECT id, raw_len, data FROM chunks WHERE file_id = ? AND raw_hash IS NULL",
                    (file_id,)).fetchall():
                try:
                    raw = codec.decompress(frame, raw_len)
                except DamagedError as exc:
                    problems.append(f"frame #{chunk_id}: {exc.message}")
                    continue
                conn.execute("UPDATE chunks SET raw_hash = ? WHERE id = ?",
                             (hash16(raw), chunk_id))
            record = files_table.by_id(conn, file_id)
            if record is not None:
                seal(conn, record)
    return len(todo), problems


def delete_of_files(conn: sqlite3.Connection, file_ids: list[int]) -> int:
    """Every frame of these files, every generation: their bytes leave the archive."""
    return sum(conn.execute("DELETE FROM chunks WHERE file_id = ?", (i,)).rowcount
               for i in file_ids)


def stored_bytes(conn: sqlite3.Connection, file_ids: list[int]) -> int:
    """Compressed bytes kept of these files, every generation (``cleanup`` weighs a session by
    them)."""
    return sum(int(conn.execute("SELECT coalesce(sum(length(data)), 0) FROM chunks"
                                " WHERE file_id = ?", (i,)).fetchone()[0]) for i in file_ids)
