"""Opening an archive for a command, and finishing what an upgrade left to do.

A migration changes the schema in one transaction; rebuilding every session's digest (schema
v3 keeps them in the archive) takes one transaction per session and is done here, by whichever
command opens the archive next, for as long as the archive says it is pending
(``store.meta.DIGESTS_PENDING``): an upgrade cut short (Ctrl-C, a closed terminal, a lock)
resumes, and ``import --all`` finishes the upgrades of the other projects it opens.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from ..base import locations
from ..base.errors import BusyError, DamagedError
from ..base.fs import remove_files_named
from ..store import meta
from ..store.archive import Archive, open_archive

if TYPE_CHECKING:
    from ..base.fs import StrPath

def open_for_command(project: StrPath | None) -> Archive:
    """:func:`open_archive` (it backs up, then upgrades an old archive), upgrade finished."""
    archive = open_archive(project)
    try:
        finish_upgrade(archive)
        _drain_spool(archive)
    except BaseException:
        archive.close()
        raise
    return archive


def _drain_spool(archive: Archive) -> None:
    """What hooks spooled while the archive was busy goes in before the command reads it."""
    from ..store import spool

    if not spool.pending(archive.db.path):
        return
    try:
        spool.drain(archive.db, archive.settings.compression_level)
    except BusyError:
        print(f"warning: {archive.db.path} is busy; spooled turns are written by the next"
              " command or hook", file=sys.stderr)


def _finish_hashes(archive: Archive) -> None:
    """Schema v4: hash the frames archived before it (one transaction per file)."""
    if meta.get(archive.db.conn, meta.HASHES_PENDING) is None:
        return
    from ..store.frames import fill_hashes

    try:
        done, problems = fill_hashes(archive.db)
    except BusyError:
        print(f"warning: {archive.db.path} is busy; the next command finishes its upgrade"
              " (hashing archived frames)", file=sys.stderr)
        return
    with archive.db.write() as conn:
        meta.delete(conn, meta.HASHES_PENDING)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"Hashed the archived frames of {done} file(s) in {archive.db.path}.", file=sys.stderr)


def _finish_reindex(archive: Archive) -> None:
    """An index built by another extraction (older code, another ``tool_text_chars``) has its
    words derived again from the frames, once."""
    from ..transcript.reindex import reindex, reindex_due

    if not reindex_due(archive.db.conn, archive.settings):
        return
    print(f"Indexing {archive.db.path} again (the index was built by another version or with"
          " other settings)…", file=sys.stderr)
    try:
        done = reindex(archive.db, archive.settings)
    except BusyError:
        print(f"warning: {archive.db.path} is busy; the next command finishes its upgrade"
              " (indexing again)", file=sys.stderr)
        return
    except DamagedError as exc:  # the index stays as it was; every command still works
        print(f"warning: not indexed again: {exc.message}; run 'session-core verify'",
              file=sys.stderr)
        return
    print(f"Indexed {done:,} message(s) again.", file=sys.stderr)


def _forget_again(archive: Archive) -> None:
    """A backup restored in the archive's place (a hook set damage aside) may hold sessions
    forgotten since: forget them again."""
    kept = os.path.join(os.path.dirname(archive.db.path), locations.FORGOTTEN_NAME)
    if not os.path.exists(kept):  # nothing was ever forgotten here (and no import paid for it)
        return
    from ..transcript.forget import reapply

    try:
        back = reapply(archive.db, archive.settings)
    except (BusyError, DamagedError) as exc:
        print(f"warning: forgotten sessions not checked ({exc.message}); the next command"
              " does", file=sys.stderr)
        return
    if back:
        print(f"Forgot again {len(back)} session(s) a restored backup held:"
              f" {', '.join(back)}.", file=sys.stderr)


def finish_upgrade(archive: Archive) -> None:
    """Hash the frames, index again what another extraction indexed, fold every digest the
    archive lacks, then drop the digest files the old code kept beside it; says so on stderr
    (stdout stays the command's own)."""
    _finish_hashes(archive)
    _finish_reindex(archive)
    _forget_again(archive)
    if meta.get(archive.db.conn, meta.DIGESTS_PENDING) is None:
        return
    from ..transcript.digest import refresh_digests

    try:
        done, problems = refresh_digests(archive.db, archive.settings.max_indexed_line_bytes)
    except BusyError:
        print(f"warning: {archive.db.path} is busy; the next command finishes its upgrade"
              " (rebuilding session digests)", file=sys.stderr)
        return
    with archive.db.write() as conn:
        meta.delete(conn, meta.DIGESTS_PENDING)
    _drop_legacy_digests(os.path.join(os.path.dirname(archive.db.path),
                                      locations.LEGACY_DIGESTS_DIR))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    what = (f"Upgraded {archive.db.path} from schema v{archive.upgraded_from}"
            if archive.upgraded_from is not None else f"Finished the upgrade of {archive.db.path}")
    print(f"{what} ({done} session digest(s) rebuilt).", file=sys.stderr)


def _drop_legacy_digests(folder: str) -> None:
    """Only the old digest files (``base.locations.ARCHIVE_FOLDER_FILES``), then the folder if
    that empties it: in a folder the user named (``SESSION_CORE_DATA_DIR``) a ``digests/`` may
    hold their own files."""
    with contextlib.suppress(OSError):
        remove_files_named(folder, locations.ARCHIVE_FOLDER_FILES[locations.LEGACY_DIGESTS_DIR])
