"""Folding what an old archive still holds into this one, through the one ingest pipeline.

An old archive (a backup, a quarantined damaged file) is read through ``store.salvage``; each of
its files' verified bytes are written to a temporary copy and ingested under the file's own
path, so they are indexed, digested and deduplicated exactly as a transcript on disk would be.
What is newer never loses to what is older: bytes are taken when this archive lacks the file,
when they extend what it holds, or when they differ and the old archive saw the file later.
"""

from __future__ import annotations

import copy
import os

from ..base.errors import SessionCoreError
from ..base.hashing import blake2b
from ..base.sqlite_driver import sqlite3
from ..store import branches, chat, checkpoints, files, forgotten, frames, meta, sessions, state
from .ingest import ingest_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.settings import Settings
    from ..store.connection import Database
    from ..store.salvage import Salvage, SalvagedCheckpoint, SalvagedFile


class Pending:
    """A checkpoint of an old archive not carried yet, with the hash of the old archive's
    bytes up to it (None: they were unreadable there), to find the generation of this
    archive's copy of the file that holds the same bytes."""

    __slots__ = ("checkpoint", "prefix_hash", "why")

    def __init__(self, checkpoint: SalvagedCheckpoint, prefix_hash: bytes | None) -> None:
        self.checkpoint, self.prefix_hash = checkpoint, prefix_hash
        self.why = ""

    def lost(self) -> str:
        return (f"checkpoint {self.checkpoint.name} of session"
                f" {self.checkpoint.session_uuid}: {self.why}")


class MergeResult:
    """What one old archive gave: files added or extended, chat turns, states; and the files it
    knew, with the size it knew them at (to tell later what could not be recovered)."""

    __slots__ = ("checkpoints", "known", "links", "lost_rows", "marks", "pending", "problems",
                 "sessions", "states", "taken_bytes", "taken_files", "turns")

    def __init__(self) -> None:
        self.checkpoints = 0
        self.links = 0
        self.marks = 0
        """Checkpoints, branch links and cleanup marks (``meta`` ``cleaned:*``) carried."""
        self.pending: list[Pending] = []
        """Checkpoints whose bytes this archive does not hold (yet): the caller may try them
        again once it has ingested more (:func:`carry_checkpoints`), else they are lost."""
        self.lost_rows: list[tuple[str | None, str]] = []
        """(checkpoint name if readable, what) of rows that cannot be carried at all (their
        session or file unreadable)."""
        self.taken_files = 0
        self.taken_bytes = 0
        self.turns = 0
        self.states = 0
        self.sessions: set[str] = set()
        """Sessions some of whose bytes came from this archive."""
        self.known: dict[str, tuple[str, int]] = {}
        """path -> (session uuid, size of its newest generation) as the old archive knew it."""
        self.problems: list[str] = []


def merge_archive(db: Database, salvage: Salvage, settings: Settings, work_dir: str,
                  only: set[str] | None = None) -> MergeResult:
    """``only``: the paths to take (``verify --quick`` derives a sample); default every file,
    and the chat turns and session states too."""
    result = MergeResult()
    old_files = salvage.files()
    for old in old_files:
        if only is not None and old.path not in only:
            continue
        result.known[old.path] = (old.session_uuid, old.size)
        try:
            _merge_file(db, salvage, old, settings, work_dir, result)
        except SessionCoreError as exc:
            result.problems.append(f"{old.path}: {exc.message}")
    if only is None:
        with db.write() as conn:
            result.turns = chat.merge_turns(conn, salvage.chat_turns())
            result.states = state.merge_rows(conn, salvage.session_states())
            result.links = _merge_links(conn, salvage)
            result.marks = _merge_marks(conn, salvage)
        found, result.lost_rows = salvage.checkpoints()
        pending = _pending_checkpoints(db.conn, salvage, old_files, found, work_dir)
        result.pending = carry_checkpoints(db, pending)
        result.checkpoints = len(pending) - len(result.pending)
    result.problems[:0] = salvage.problems
    return result


def _merge_links(conn: sqlite3.Connection, salvage: Salvage) -> int:
    """Branch links this archive lacks (by the session they describe), unless that session
    was forgotten since."""
    added = 0
    for row in salvage.branch_links():
        uuid = row[0]
        if not isinstance(uuid, str) or branches.of_session(conn, uuid) is not None \
                or forgotten.is_forgotten(conn, uuid):
            continue
        try:
            branches.add(conn, branches.Link(row))
        except sqlite3.IntegrityError:  # a damaged value (kind, a missing field)
            continue
        added += 1
    return added


def _merge_marks(conn: sqlite3.Connection, salvage: Salvage) -> int:
    """Cleanup marks this archive lacks: what cleanup removed stays out of the next import."""
    added = 0
    for key, value in salvage.meta_rows(meta.CLEANED_PREFIX):
        if meta.get(conn, key) is None \
                and meta.CleanedMark.parse(key[len(meta.CLEANED_PREFIX):], value) is not None:
            meta.put(conn, key, value)
            added += 1
    return added


def _pending_checkpoints(conn: sqlite3.Connection, salvage: Salvage,
                         old_files: list[SalvagedFile], found: list[SalvagedCheckpoint],
                         work_dir: str) -> list[Pending]:
    """The checkpoints this archive lacks (by name; a forgotten session's stay out), each with
    the hash of the old archive's bytes up to it, each generation read once."""
    wanted = [c for c in found if checkpoints.by_name(conn, c.name) is None
              and not forgotten.is_forgotten(conn, c.session_uuid)]
    if not wanted:
        return []
    by_id = {f.file_id: f for f in old_files}
    offsets: dict[tuple[int, int], set[int]] = {}
    for c in wanted:
        offsets.setdefault((c.file_id, c.generation), set()).add(c.offset)
    hashes: dict[tuple[int, int, int], bytes] = {}
    copy_path = os.path.join(work_dir, "checkpointed")
    for (file_id, generation), at in offsets.items():
        old = by_id.get(file_id)
        if old is None:
            continue
        with open(copy_path, "wb") as out:
            length = salvage.write_bytes(old, generation, out)
        for offset in at:
            if offset <= length:
                hashes[(file_id, generation, offset)] = _hash_of_copy(copy_path, offset)
    if os.path.exists(copy_path):
        os.unlink(copy_path)
    return [Pending(c, hashes.get((c.file_id, c.generation, c.offset))) for c in wanted]


def carry_checkpoints(db: Database, pending: list[Pending]) -> list[Pending]:
    """Each checkpoint into this archive, at the generation of its file that holds the same
    bytes up to it; returns those it cannot place (``why`` says what is missing)."""
    left, placed = [], []
    conn = db.conn
    for item in pending:
        c = item.checkpoint
        if checkpoints.by_name(conn, c.name) is not None:
            continue  # carried from another source already
        session_id = sessions.id_of(conn, c.session_uuid)
        here = files.at_path(conn, c.path)
        if session_id is None or here is None or here.session_id != session_id:
            item.why = f"its transcript {c.path} is not in the archive"
            left.append(item)
            continue
        generation = _generation_holding(conn, here, c, item.prefix_hash)
        if generation is None:
            item.why = f"the archive holds no copy of {c.path} with its first {c.offset:,} bytes"
            left.append(item)
            continue
        placed.append((item, session_id, here.file_id, generation))
    if placed:
        with db.write() as conn:
            for item, session_id, file_id, generation in placed:
                c = item.checkpoint
                try:
                    checkpoints.add(conn, c.name, session_id, file_id, generation, c.offset,
                                    c.last_uuid, c.reason, c.prompts, c.git, c.created_at)
                except sqlite3.IntegrityError as exc:  # a damaged value (its reason, its time)
                    item.why = f"its row is damaged ({exc})"
                    left.append(item)
    return left


def _generation_holding(conn: sqlite3.Connection, here: files.FileRecord,
                        c: SalvagedCheckpoint, prefix_hash: bytes | None) -> int | None:
    """The generation of this archive's file whose first ``c.offset`` bytes are those the old
    archive had (its own number first); unverifiable (the old bytes unreadable): its own
    number, if that holds as many bytes."""
    sizes = frames.generation_sizes(conn, here.file_id)
    if prefix_hash is None:
        return c.generation if sizes.get(c.generation, -1) >= c.offset else None
    for generation in sorted(sizes, key=lambda g: (g != c.generation, -g)):
        if sizes[generation] < c.offset:
            continue
        record = copy.copy(here)
        record.generation = generation
        try:
            if _hash_of_archived(conn, record, c.offset) == prefix_hash:
                return generation
        except SessionCoreError:
            continue
    return None


def _merge_file(db: Database, salvage: Salvage, old: SalvagedFile, settings: Settings,
                work_dir: str, result: MergeResult) -> None:
    here = files.at_path(db.conn, old.path)
    # A file this archive lacks takes the old one's history, each generation in order (a
    # rewrite is a newer generation, though this archive ingested the older one just now);
    # a file it has takes the old copy only if that is worth it.
    replaying = here is None
    generations = salvage.generations(old) if replaying else [old.generation]
    copy = os.path.join(work_dir, "salvaged" + os.path.splitext(old.path)[1])
    for generation in generations:
        with open(copy, "wb") as out:
            length = salvage.write_bytes(old, generation, out)
        if length == 0:
            continue
        here = files.at_path(db.conn, old.path)
        if here is not None and not replaying and not _worth_taking(db.conn, here, copy,
                                                                     length, old):
            continue
        report = ingest_file(db, copy, settings, archived_as=old.path)
        if report.new_bytes or report.rewritten:
            result.taken_files += 1
            result.taken_bytes += report.new_bytes
            result.sessions.add(report.session_uuid or old.session_uuid)
    if os.path.exists(copy):
        os.unlink(copy)


def _worth_taking(conn: sqlite3.Connection, here: files.FileRecord, copy: str, length: int,
                  old: SalvagedFile) -> bool:
    """Bytes that extend what this archive holds, or that differ from it and were archived
    later than it was; never a shorter or older copy of the same bytes."""
    common = min(length, here.size)
    same_start = _hash_of_copy(copy, common) == _hash_of_archived(conn, here, common)
    if same_start:
        return length > here.size
    return (old.ingested_at or "") > (here.ingested_at or "")


def _hash_of_copy(path: str, length: int) -> bytes:
    digest = blake2b(digest_size=16)
    with open(path, "rb") as handle:
        left = length
        while left:
            block = handle.read(min(left, 1 << 20))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    return digest.digest()


def _hash_of_archived(conn: sqlite3.Connection, record: files.FileRecord, length: int) -> bytes:
    digest = blake2b(digest_size=16)
    if length:
        for block in frames.read(conn, record, 0, length):
            digest.update(block)
    return digest.digest()


def held_bytes(conn: sqlite3.Connection, path: str) -> int:
    """The most bytes any generation of ``path`` holds in this archive (0: not archived)."""
    record = files.at_path(conn, path)
    if record is None:
        return 0
    return max(frames.generation_sizes(conn, record.file_id).values(), default=0)
