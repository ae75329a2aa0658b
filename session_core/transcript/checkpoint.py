"""Taking a checkpoint: where a session's archived transcript ends now (its file, generation,
byte offset and last entry's uuid), kept in ``store.checkpoints`` with the git state the caller
read; automatic ones are pruned by the retention settings.

Cheap by design, since the hooks take one before every compaction and at every SessionEnd: no
bytes are copied (the frames are the copy), and the last uuid is read from the file's last
frame, not from the whole file.
"""

from __future__ import annotations

from ..base.clock import utc_stamp
from ..base.errors import NotFoundError
from ..base.jsonlite import loads
from ..base.retention import day_of, kept
from ..store import checkpoints, entries, files, frames, sessions

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    import sqlite3

    from ..base.settings import Settings
    from ..store.checkpoints import Checkpoint
    from ..store.connection import Database

_TAIL_WINDOWS = (64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
"""How far back from the checkpoint the last entry is looked for, widening: an entry is a few
KB, but an ``api-request-blob`` line after it can be 150 KB."""


def last_uuid_before(conn: sqlite3.Connection, record: files.FileRecord, end: int) -> str | None:
    """The uuid of the last main-chain entry (not a sidechain's) in ``record``'s bytes before
    ``end`` (a line end); None if there is none within the widest window."""
    for window in _TAIL_WINDOWS:
        start = max(0, end - window)
        lines = list(frames.read_lines(conn, record, start, end))
        if start > 0:
            lines = lines[1:]  # the first one may be the end of a line
        for line in reversed(lines):
            found = entry_uuid(line)
            if found is not None:
                return found
        if start == 0:
            return None
    return None


def entry_uuid(line: bytes) -> str | None:
    """The line's ``uuid`` if it is an entry of the main conversation."""
    record = chain_record(line)
    if record is None:
        return None
    return str(record["uuid"]) or None


def chain_record(line: bytes) -> dict[str, object] | None:
    """The line's record if it is an entry of the main conversation (a string ``uuid``, not a
    subagent's sidechain): where a checkpoint points and what a branch's note follows."""
    if b'"uuid"' not in line:
        return None
    try:
        record = loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or record.get("isSidechain") is True \
            or not isinstance(record.get("uuid"), str):
        return None
    return record


def take(db: Database, session_uuid: str, reason: str,
         git: tuple[str | None, str | None, bool | None], settings: Settings,
         name: str | None = None) -> Checkpoint | None:
    """A checkpoint at the session's archived end. ``git``: (branch, commit, dirty) as the
    caller read them. An automatic one (``name`` None) is skipped when the session's newest
    checkpoint is at the same place already (a SessionEnd right after a compaction), and the
    session's automatic ones are pruned after it. NotFoundError: nothing of the session is
    archived."""
    conn = db.conn
    session_id = sessions.id_of(conn, session_uuid)
    if session_id is None:
        raise NotFoundError(f"no session '{session_uuid}' in this archive",
                            "run 'session-core list'")
    record = files.main_file(files.of_session(conn, session_id), session_uuid)
    if record.committed == 0:
        raise NotFoundError(f"nothing of session {session_uuid} is archived yet",
                            "wait for its first reply, or run 'session-core import'")
    if name is None:
        newest = checkpoints.latest(conn, session_id)
        if newest is not None and (newest.file_id, newest.generation, newest.offset) == (
                record.file_id, record.generation, record.committed):
            return None
    last = last_uuid_before(conn, record, record.committed)
    prompts = entries.counts(conn, session_id)[1]
    with db.write() as writing:
        made = checkpoints.add(writing, name, session_id, record.file_id, record.generation,
                               record.committed, last, reason if name is None else "named",
                               prompts, git, utc_stamp())
        if name is None:
            prune(writing, session_id, settings)
    return made


def prune(conn: sqlite3.Connection, session_id: int, settings: Settings) -> list[int]:
    """Drop the session's automatic checkpoints that retention does not keep; returns their
    ids. Named ones are never considered."""
    rows = checkpoints.automatic(conn, session_id)
    keep = kept([day_of(at) for _, at in rows], settings.checkpoint_keep_last,
                settings.checkpoint_keep_daily, settings.checkpoint_keep_weekly)
    gone = [row_id for index, (row_id, _) in enumerate(rows) if index not in keep]
    checkpoints.delete_ids(conn, gone)
    return gone


def turns_due(conn: sqlite3.Connection, session_uuid: str, every: int) -> bool:
    """Whether the session has had ``every`` more prompts since its last automatic
    checkpoint (``every`` 0: never): one taken before a compaction counts, so two are never
    taken a turn apart."""
    if every <= 0:
        return False
    session_id = sessions.id_of(conn, session_uuid)
    if session_id is None:
        return False
    prompts = entries.counts(conn, session_id)[1]
    return prompts - checkpoints.automatic_prompts(conn, session_id) >= every
