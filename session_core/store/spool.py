"""What a hook could not write because another process held the archive: kept in a small
append-only file beside it (``spool.jsonl``) and drained into the tables by the next hook run
or command that gets the lock.

Only what the payload alone carries is spooled: the prompt, the last reply, the compaction
summary, the "session is open" mark. The transcript itself is on disk and is caught up by the
next save. Appends and drains take an exclusive ``flock`` on the file, so a drain never
truncates a line written while it read; a drain that dies after its commit and before the
truncation leaves lines that the next drain recognises as already there.
"""

from __future__ import annotations

import os
import sqlite3

from ..base.jsonlite import dumps, loads
from ..base.locations import SPOOL_NAME
from . import chat, state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .connection import Database

def spool_path(archive_path: str) -> str:
    return os.path.join(os.path.dirname(archive_path), SPOOL_NAME)


def append(archive_path: str, item: dict[str, object]) -> None:
    """One line, written whole under the lock (``OSError`` if even that cannot be written)."""
    import fcntl  # only when the archive is busy

    fd = os.open(spool_path(archive_path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (dumps(item) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(archive_path: str) -> bool:
    try:
        return os.path.getsize(spool_path(archive_path)) > 0
    except OSError:
        return False


def drain(db: Database, compression_level: int) -> int:
    """Write every spooled item into the archive (one transaction), then empty the file;
    returns how many were new. The caller holds nothing: this takes the write lock."""
    import fcntl

    try:
        fd = os.open(spool_path(db.path), os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = b""
        while block := os.read(fd, 1 << 20):
            data += block
        added = 0
        with db.write() as conn:
            for line in data.splitlines():
                try:
                    item = loads(line)
                except ValueError:
                    continue  # a torn line of a process killed mid-write
                if isinstance(item, dict):
                    added += _apply(conn, item, compression_level)
        db.commit_held()  # a hook holds one transaction for its event: in before emptying
        os.ftruncate(fd, 0)
        return added
    finally:
        os.close(fd)


def _apply(conn: sqlite3.Connection, item: dict[str, object], level: int) -> int:
    kind, session, at = item.get("kind"), item.get("session"), item.get("at")
    if not isinstance(session, str) or not isinstance(at, str):
        return 0
    text = item.get("text")
    if kind == "turn" and isinstance(text, str) and item.get("role") in ("user", "assistant"):
        prompt_id = item.get("prompt_id")
        return chat.add_unless_present(conn, session, prompt_id if isinstance(prompt_id, str)
                                       else None, str(item["role"]), at, text, level)
    if kind == "open" and isinstance(item.get("event"), str):
        state.mark_open(conn, session, str(item["event"]), at, only_if_newer=True)
        return 1
    if kind == "compact_summary" and isinstance(text, str):
        state.save_compact_summary(conn, session, text, level)
        return 1
    return 0
