"""What a hook could not write because another process held the archive: kept in small files
beside it (``spool-<time>-<pid>.jsonl``) and drained into the tables by the next hook run or
command that gets the lock.

Only what the payload alone carries is spooled: the prompt, the last reply, the compaction
summary, the "session is open" mark. The transcript itself is on disk and is caught up by the
next save. Each spooled item is a file of its own, published whole (written, synced, renamed),
so nothing needs a lock: a drain reads only complete files, writes them in one transaction,
commits, and only then deletes them. A drain that dies before deleting leaves files the next
drain recognises as already written.
"""

from __future__ import annotations

import os

from ..base.clock import file_stamp
from ..base.fs import write_atomic
from ..base.jsonlite import dumps, loads
from ..base.locations import SPOOL_PREFIX, SPOOL_SUFFIX
from ..base.sqlite_driver import sqlite3
from . import chat, state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .connection import Database


def append(archive_path: str, item: dict[str, object]) -> None:
    """One item, as a file of its own (``OSError`` if even that cannot be written)."""
    name = f"{SPOOL_PREFIX}{file_stamp()}-{os.getpid()}{SPOOL_SUFFIX}"
    write_atomic(os.path.join(os.path.dirname(archive_path), name),
                 (dumps(item) + "\n").encode(), durable=True)


def spooled(archive_path: str) -> list[str]:
    """The spool files waiting, oldest first (one ``listdir`` of the archive's folder)."""
    folder = os.path.dirname(archive_path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, name) for name in names
                  if name.startswith(SPOOL_PREFIX) and name.endswith(SPOOL_SUFFIX))


def pending(archive_path: str) -> bool:
    return bool(spooled(archive_path))


def drain(db: Database, compression_level: int) -> int:
    """Write every spooled item into the archive (one transaction, committed), then delete
    the files; returns how many items were new."""
    paths = spooled(db.path)
    if not paths:
        return 0
    added = 0
    with db.write() as conn:
        for path in paths:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            for line in data.splitlines():
                try:
                    item = loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict):
                    added += _apply(conn, item, compression_level)
    db.commit_held()  # a hook holds one transaction for its event: in before deleting
    for path in paths:
        try:  # noqa: SIM105 - contextlib is kept off the hook path
            os.unlink(path)
        except OSError:
            pass
    return added


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
