"""Getting the original bytes back out: export to a stream, restore to Claude Code's folder.

Restores follow the litestream discipline: write a temporary file, fsync, verify its hash against
the archive, rename into place, fsync the directory (``base.fs.AtomicFile``). An existing
different file is never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..base.errors import ConflictError, DatabaseError, InputError
from ..base.fs import AtomicFile
from ..base.sqlite_driver import sqlite3
from ..store import files, frames, sessions
from ..transcript.layout import is_plain_name, restore_path


def export_session(conn: sqlite3.Connection, ref: str, out: BinaryIO) -> int:
    """Write the session's own transcript, byte for byte; returns the byte count."""
    session = sessions.resolve(conn, ref)
    record = files.main_file(files.of_session(conn, session.session_id), session.uuid)
    written = 0
    for block in frames.read(conn, record):
        out.write(block)
        written += len(block)
    return written


def check_output_target(path: str) -> None:
    """``export -o`` writes a regular file or a new one: never through a symlink (it would be
    replaced, not followed) nor into a device, a FIFO or a folder."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        what = ("a symbolic link" if stat.S_ISLNK(info.st_mode) else
                "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file")
        raise InputError(f"{path} is {what}; export writes regular files only",
                         "name a new file, or a regular file to replace")


class RestoreResult:
    __slots__ = ("action", "path")

    def __init__(self, path: Path, action: str) -> None:
        self.path, self.action = path, action  # action: 'written' | 'unchanged'


def _digest_of_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _archived_digest(conn: sqlite3.Connection, record: files.FileRecord) -> str:
    digest = hashlib.sha256()
    for block in frames.read(conn, record):
        digest.update(block)
    return digest.hexdigest()


def _write_verified(conn: sqlite3.Connection, record: files.FileRecord, target: Path) -> None:
    """The archived bytes at ``target``, checked against the archive before they get the name;
    a file that appeared there meanwhile (Claude Code writing) is never replaced."""
    digest = hashlib.sha256()
    writer = AtomicFile(target, durable=True, exclusive=True)
    try:
        with writer as out:
            for block in frames.read(conn, record):
                out.write(block)
                digest.update(block)
            out.flush()
            if _digest_of_file(writer.temp) != digest.hexdigest():
                raise DatabaseError(f"restored copy of {target} does not match the archive")
    except FileExistsError as exc:
        raise ConflictError(f"{target} appeared while restoring; it was left as it is",
                            "move it aside and run restore again") from exc


def _inside(folder: Path, rel: str) -> Path:
    """``folder / rel``, refused unless every part of ``rel`` is a plain name (an archived
    path is data: it must never lead a restore out of its target folder)."""
    parts = rel.split("/")
    if not all(is_plain_name(part) for part in parts):
        raise InputError(f"archived path {rel[:120]!r} would leave {folder}; nothing restored",
                         "export the session with 'session-core export ID -o FILE' instead")
    return folder.joinpath(*parts)


def restore_session(conn: sqlite3.Connection, ref: str, folder: Path) -> list[RestoreResult]:
    """Put every file of a session back under ``folder`` (Claude Code's project folder).

    All targets are checked before anything is written, so a conflict leaves nothing half done.
    """
    session = sessions.resolve(conn, ref)
    found = files.of_session(conn, session.session_id)
    files.main_file(found, session.uuid)
    chosen: dict[str, files.FileRecord] = {}
    for record in found:  # several copies of one file: keep the longest
        rel = restore_path(record.kind, record.rel_path, session.uuid)
        best = chosen.get(rel)
        if best is None or (record.size, record.file_id) > (best.size, best.file_id):
            chosen[rel] = record
    plan: list[tuple[files.FileRecord, Path, bool]] = []
    for rel, record in sorted(chosen.items()):
        target = _inside(folder, rel)
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
        results.append(RestoreResult(target, "written"))
    return results
