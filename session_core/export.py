"""Getting the original bytes back out: export to a stream, restore to Claude Code's folder.

Restores follow the litestream discipline: write a temporary file, fsync, verify its hash against
the archive, rename into place, fsync the directory. An existing different file is never
overwritten.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import BinaryIO

from .errors import ConflictError, DatabaseError
from .queries import FileRecord, main_file, resolve_session, session_files
from .readback import file_bytes


def export_session(conn: sqlite3.Connection, ref: str, out: BinaryIO) -> int:
    """Write the session's own transcript, byte for byte; returns the byte count."""
    session_id, uuid = resolve_session(conn, ref)
    record = main_file(session_files(conn, session_id), uuid)
    written = 0
    for block in file_bytes(conn, record):
        out.write(block)
        written += len(block)
    return written


class RestoreResult:
    __slots__ = ("action", "path")

    def __init__(self, path: Path, action: str) -> None:
        self.path, self.action = path, action  # action: 'written' | 'unchanged'


def _digest_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_verified(conn: sqlite3.Connection, record: FileRecord, target: Path) -> str:
    digest = hashlib.sha256()
    temp = target.with_name(f".{target.name}.session-core-tmp")
    try:
        with open(temp, "wb") as handle:
            for block in file_bytes(conn, record):
                handle.write(block)
                digest.update(block)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        if _digest_of_file(temp) != digest.hexdigest():
            raise DatabaseError(f"restored copy of {target} does not match the archive")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _archived_digest(conn: sqlite3.Connection, record: FileRecord) -> str:
    digest = hashlib.sha256()
    for block in file_bytes(conn, record):
        digest.update(block)
    return digest.hexdigest()


def restore_path(record: FileRecord, session_uuid: str) -> str:
    """Where Claude Code looks for a file of this session, relative to its project folder:
    ``<session>.jsonl`` and ``<session>/subagents/...``, whatever the file was called when it
    was imported (``claude --resume`` finds sessions by id)."""
    name = record.rel_path.rsplit("/", 1)[-1]
    if record.kind == "session":
        return f"{session_uuid}.jsonl"
    if record.rel_path.startswith(f"{session_uuid}/"):
        return record.rel_path
    return f"{session_uuid}/{'subagents' if record.kind == 'subagent' else 'tool-results'}/{name}"


def restore_session(conn: sqlite3.Connection, ref: str, folder: Path) -> list[RestoreResult]:
    """Put every file of a session back under ``folder`` (Claude Code's project folder).

    All targets are checked before anything is written, so a conflict leaves nothing half done.
    """
    session_id, uuid = resolve_session(conn, ref)
    files = session_files(conn, session_id)
    main_file(files, uuid)
    chosen: dict[str, FileRecord] = {}
    for record in files:  # several copies of one file: keep the longest
        rel = restore_path(record, uuid)
        best = chosen.get(rel)
        if best is None or (record.size, record.file_id) > (best.size, best.file_id):
            chosen[rel] = record
    plan: list[tuple[FileRecord, Path, bool]] = []
    for rel, record in sorted(chosen.items()):
        target = folder / rel
        exists = target.exists()
        if exists and (target.is_dir() or _digest_of_file(target) != _archived_digest(conn,
                                                                                       record)):
            raise ConflictError(
                f"{target} exists and differs from the archived copy; nothing was restored",
                "move that file aside (Claude Code may still be writing it) and run restore again",
            )
        plan.append((record, target, exists))
    results = []
    for record, target, exists in plan:
        if exists:
            results.append(RestoreResult(target, "unchanged"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_verified(conn, record, target)
        temp = target.with_name(f".{target.name}.session-core-tmp")
        try:  # a link never replaces a file that appeared since the check (Claude writing)
            os.link(temp, target)
        except FileExistsError as exc:
            raise ConflictError(f"{target} appeared while restoring; it was left as it is",
                                "move it aside and run restore again") from exc
        finally:
            temp.unlink(missing_ok=True)
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        results.append(RestoreResult(target, "written"))
    return results
