"""Folding what an old archive still holds into this one, through the one ingest pipeline.

An old archive (a backup, a quarantined damaged file) is read through ``store.salvage``; each of
its files' verified bytes are written to a temporary copy and ingested under the file's own
path, so they are indexed, digested and deduplicated exactly as a transcript on disk would be.
What is newer never loses to what is older: bytes are taken when this archive lacks the file,
when they extend what it holds, or when they differ and the old archive saw the file later.
"""

from __future__ import annotations

import os

from ..base.errors import SessionCoreError
from ..base.hashing import blake2b
from ..base.sqlite_driver import sqlite3
from ..store import chat, files, frames, state
from .ingest import ingest_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.settings import Settings
    from ..store.connection import Database
    from ..store.salvage import Salvage, SalvagedFile


class MergeResult:
    """What one old archive gave: files added or extended, chat turns, states; and the files it
    knew, with the size it knew them at (to tell later what could not be recovered)."""

    __slots__ = ("known", "problems", "sessions", "states", "taken_bytes", "taken_files",
                 "turns")

    def __init__(self) -> None:
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
    for old in salvage.files():
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
    result.problems[:0] = salvage.problems
    return result


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
