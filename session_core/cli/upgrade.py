"""Opening an archive for a command, and finishing what an upgrade left to do.

A migration changes the schema in one transaction; rebuilding every session's digest (schema
v3 keeps them in the archive) is one transaction per session, and is finished here, by
whichever command opens the archive next, until the digest files the old code kept beside it
are gone: an upgrade interrupted half-way (Ctrl-C, a closed terminal) resumes, and ``import
--all`` finishes the upgrades of the other projects it opens.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

from ..base import locations
from ..store.archive import Archive, open_archive
from ..store.migrations import DIGESTS_SINCE

if TYPE_CHECKING:
    from ..base.fs import StrPath


def open_for_command(project: StrPath | None) -> Archive:
    """:func:`open_archive` (it backs up, then upgrades an old archive), upgrade finished."""
    archive = open_archive(project)
    try:
        finish_upgrade(archive)
    except BaseException:
        archive.close()
        raise
    return archive


def finish_upgrade(archive: Archive) -> None:
    """Fold every digest the archive lacks, then drop the old digest files; says so on
    stderr (stdout stays the command's own)."""
    folder = os.path.join(os.path.dirname(archive.db.path), locations.LEGACY_DIGESTS_DIR)
    upgraded = archive.upgraded_from is not None and archive.upgraded_from < DIGESTS_SINCE
    if not upgraded and not os.path.isdir(folder):
        return
    from ..transcript.digest import refresh_digests

    done, problems = refresh_digests(archive.db, archive.settings.max_indexed_line_bytes)
    shutil.rmtree(folder, ignore_errors=True)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    what = (f"Upgraded {archive.db.path} from schema v{archive.upgraded_from}" if upgraded
            else f"Finished the upgrade of {archive.db.path}")
    print(f"{what} ({done} session digest(s) rebuilt).", file=sys.stderr)
