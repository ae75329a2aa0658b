"""Each session's digest kept beside the archive, brought up to date a few lines at a time.

The handoff folds the previous session's whole transcript into a :class:`~.digest.Digest`; on a
100 MB session that took SessionStart 0.6 s. Folding is incremental (a fold of the first lines,
saved, then the rest folded in, is the fold of all lines), so every Stop folds only what it just
archived and SessionStart only what came after the last Stop.

A saved digest is used only for the bytes it was folded from: same file, generation and path,
and the same fingerprints as ingest keeps (hashes of the first and of the last 4 KiB before its
offset), re-checked against the archive. A rewritten transcript, an archive rebuilt or
restored, or a damaged cache file each mean a fold from the first line, as without a cache.
"""

from __future__ import annotations

import contextlib
import sqlite3

from . import hooklog, live
from .digest import Digest, fold_lines
from .indexer import line_hash
from .ingest import FINGERPRINT_WINDOW
from .queries import FileRecord
from .readback import byte_range, file_lines

CACHE_DIR = "digests"
CACHE_VERSION = 2


def session_digest(conn: sqlite3.Connection, archive_dir: str, session_uuid: str,
                   record: FileRecord, fold_from_start_up_to: int | None = None) -> Digest | None:
    """The digest of the session's archived complete lines.

    ``fold_from_start_up_to``: when there is no usable saved digest and the file is larger than
    this, give up (None) instead of folding it all; hooks on a tight budget pass it.
    """
    row = conn.execute("SELECT committed, head_hash, tail_hash FROM files WHERE id = ?"
                       " AND generation = ?", (record.file_id, record.generation)).fetchone()
    if row is None:  # rewritten meanwhile by another hook: fold what this record names
        return Digest(session_uuid) if record.committed == 0 else fold_lines(
            Digest(session_uuid), file_lines(conn, record, 0, record.committed))
    committed, head, tail = int(row[0]), row[1], row[2]
    path = live.session_file(archive_dir, CACHE_DIR, session_uuid)
    restored = _restore(live.read_json(path), conn, session_uuid, record, committed, head, tail)
    if restored is None:
        if fold_from_start_up_to is not None and committed > fold_from_start_up_to:
            return None
        digest = fold_lines(Digest(session_uuid), file_lines(conn, record, 0, committed))
    else:
        digest, new_lines = restored
        if not new_lines and committed:
            return digest  # the saved digest is current
        fold_lines(digest, new_lines)
    if committed:
        with contextlib.suppress(OSError):  # a cache: the next run folds again
            hooklog.write_json_atomic(path, {
                "version": CACHE_VERSION, "file_id": record.file_id,
                "generation": record.generation, "path": record.path, "offset": committed,
                "head": _hex(head), "tail": _hex(tail), "digest": digest.to_state()})
    return digest


def _restore(saved: dict[str, object], conn: sqlite3.Connection, session_uuid: str,
             record: FileRecord, committed: int, head: bytes | None,
             tail: bytes | None) -> tuple[Digest, list[bytes]] | None:
    """The saved digest and the archived lines after it, or None unless it is provably a fold
    of these very bytes."""
    offset, state = saved.get("offset"), saved.get("digest")
    if not (saved.get("version") == CACHE_VERSION and saved.get("file_id") == record.file_id
            and saved.get("generation") == record.generation and saved.get("path") == record.path
            and type(offset) is int and 0 < offset <= committed and isinstance(state, dict)):
        return None
    if offset == committed:  # nothing new: ingest's own fingerprints of these bytes
        if saved.get("head") != _hex(head) or saved.get("tail") != _hex(tail):
            return None
        new_lines: list[bytes] = []
    else:
        if offset >= FINGERPRINT_WINDOW and saved.get("head") != _hex(head):
            return None  # the first 4 KiB differ (below that, the tail check covers them)
        start = max(0, offset - FINGERPRINT_WINDOW)
        data = b"".join(byte_range(conn, record, start, committed))
        if saved.get("tail") != _hex(line_hash(data[:offset - start])):
            return None
        new_lines = data[offset - start:].split(b"\n")[:-1]  # ends at a newline
    try:
        return Digest.from_state(session_uuid, state), new_lines
    except Exception:  # any shape a damaged file may have: fold from the start instead
        return None


def _hex(value: bytes | None) -> str | None:
    return value.hex() if isinstance(value, bytes) else None
