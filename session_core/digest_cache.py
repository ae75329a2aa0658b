"""Each session's digest kept beside the archive, brought up to date a few lines at a time.

The handoff folds the previous session's whole transcript into a :class:`~.digest.Digest`; on a
100 MB session that took SessionStart 0.6 s. Folding is incremental (a fold of the first lines,
saved, then the rest folded in, is the fold of all lines), so every Stop folds only what it just
archived and SessionStart only what came after the last Stop. The saved state names the file
(id, generation, path) and the offset it reaches; anything else (a rewritten transcript, an
archive rebuilt or restored, a damaged cache file) means a fold from the start, as before.
"""

from __future__ import annotations

import contextlib
import sqlite3

from . import hooklog, live
from .digest import Digest, fold_lines
from .queries import FileRecord
from .readback import file_lines

CACHE_DIR = "digests"
CACHE_VERSION = 1


def session_digest(conn: sqlite3.Connection, archive_dir: str, session_uuid: str,
                   record: FileRecord, fold_from_start_up_to: int | None = None) -> Digest | None:
    """The digest of the session's archived complete lines (``record.committed`` bytes).

    ``fold_from_start_up_to``: when there is no usable saved digest and the file is larger than
    this, give up (None) instead of folding it all; hooks on a tight budget pass it.
    """
    path = live.session_file(archive_dir, CACHE_DIR, session_uuid)
    digest, offset = _restore(live.read_json(path), session_uuid, record)
    if offset == 0 and fold_from_start_up_to is not None and \
            record.committed > fold_from_start_up_to:
        return None
    if offset < record.committed:
        fold_lines(digest, file_lines(conn, record, offset, record.committed))
        with contextlib.suppress(OSError):  # a cache: the next run folds again
            hooklog.write_json_atomic(path, {
                "version": CACHE_VERSION, "file_id": record.file_id,
                "generation": record.generation, "path": record.path,
                "offset": record.committed, "digest": digest.to_state()})
    return digest


def _restore(saved: dict[str, object], session_uuid: str,
             record: FileRecord) -> tuple[Digest, int]:
    """The saved digest and its offset if it belongs to this file's generation, else a new one."""
    offset, state = saved.get("offset"), saved.get("digest")
    if (saved.get("version") == CACHE_VERSION and saved.get("file_id") == record.file_id
            and saved.get("generation") == record.generation and saved.get("path") == record.path
            and isinstance(offset, int) and 0 < offset <= record.committed
            and isinstance(state, dict)):
        try:
            return Digest.from_state(session_uuid, state), offset
        except ValueError:
            pass
    return Digest(session_uuid), 0
