"""Damaged archives moved aside, never deleted: ``quarantine/<time>/archive.db`` (+ ``-wal``).

A quarantined archive may hold the only copy of sessions Claude Code has since deleted, so it
stays until ``recover`` has merged what it could read (``merged`` marker) and even then: the
user deletes it, we never do.
"""

from __future__ import annotations

import os

from ..base.clock import file_stamp
from ..base.fs import ensure_private_dir, fsync_dir, write_atomic
from ..base.locations import ARCHIVE_NAME, QUARANTINE_DIR

MERGED_MARKER = "merged"
REASON_NAME = "reason.txt"


class Quarantined:
    __slots__ = ("database", "folder", "merged")

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.database = os.path.join(folder, ARCHIVE_NAME)
        self.merged = os.path.exists(os.path.join(folder, MERGED_MARKER))


def quarantine_root(archive_dir: str) -> str:
    return os.path.join(archive_dir, QUARANTINE_DIR)


def move_aside(archive_path: str, reason: str) -> str | None:
    """Move the archive and its ``-wal``/``-shm`` into a new quarantine folder; returns the
    folder (None if there was nothing to move). Renames within one file system: atomic per
    file, nothing copied, so it works on a full disk."""
    present = [suffix for suffix in ("", "-wal", "-shm", "-journal")
               if os.path.lexists(archive_path + suffix)]
    if not present:
        return None
    root = ensure_private_dir(quarantine_root(os.path.dirname(archive_path)))
    folder = os.path.join(root, file_stamp())
    os.mkdir(folder, 0o700)
    for suffix in present:
        os.replace(archive_path + suffix, os.path.join(folder, ARCHIVE_NAME + suffix))
    try:  # noqa: SIM105 - contextlib is kept off the hook path
        write_atomic(os.path.join(folder, REASON_NAME), (reason + "\n").encode())
    except OSError:
        pass  # a full disk: the move is what matters
    fsync_dir(os.path.dirname(archive_path))
    return folder


def quarantined(archive_dir: str) -> list[Quarantined]:
    """Every quarantined archive, oldest first."""
    root = quarantine_root(archive_dir)
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    found = [Quarantined(os.path.join(root, name)) for name in names]
    return [item for item in found if os.path.lexists(item.database)]


def mark_merged(item: Quarantined) -> None:
    write_atomic(os.path.join(item.folder, MERGED_MARKER), b"merged by session-core recover\n")
    item.merged = True
