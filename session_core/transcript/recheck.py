"""The index derived again from the archived bytes, and compared with the one the archive has.

The index (entries and their words) is derived data: every row can be made again from the
frames. ``verify`` does exactly that into a scratch archive, through the same salvage-and-merge
path ``recover`` uses, and compares the two entry by entry, so a damaged index block that
SQLite's and FTS5's own checks accept still shows (as search results silently lost or wrong).
"""

from __future__ import annotations

import os
import shutil

from ..base.sqlite_driver import sqlite3
from ..store import entries, meta
from ..store.connection import READ_ERRORS, Database, open_read_only
from ..store.migrations import migrate
from ..store.salvage import Salvage
from ..store.verify import INDEX_COMMANDS, Finding
from .index import recorded_chars
from .merge import merge_archive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.settings import Settings


def settings_of_index(archive_path: str, settings: Settings) -> Settings | None:
    """``settings`` as the archive's index was built with them (its ``tool_text_chars``), so
    that deriving it again gives the same words; None when another extraction built it (an
    archive the next command indexes again: until then there is nothing to compare it with)."""
    try:
        conn = open_read_only(archive_path)
        try:
            recorded = meta.get(conn, meta.INDEX_VERSION)
            empty = not entries.any_entry(conn)
        finally:
            conn.close()
    except READ_ERRORS:
        return settings  # unreadable: the comparison itself reports it
    if recorded is None and empty:
        return settings
    chars = recorded_chars(recorded)
    return None if chars is None else settings.replace(tool_text_chars=chars)


def index_findings(archive_path: str, settings: Settings, sample: int | None = None,
                   work_dir: str | None = None) -> list[Finding]:
    """Entries whose index differs from what their archived lines give (none: it matches).
    ``sample``: derive only that many transcripts, picked at random (``verify --quick``).
    The scratch archive goes to ``work_dir`` (deleted after), by default a private folder in
    the system's temp dir: not beside the archive, whose disk may be full."""
    if work_dir is None:
        import tempfile

        work_dir = tempfile.mkdtemp(prefix="session-core-index-")
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    try:
        return _index_findings(archive_path, settings, work_dir, sample)
    except READ_ERRORS as exc:  # damage the other checks let through: a finding, not a crash
        if "full" in str(exc) or "disk I/O" in str(exc):
            raise OSError(f"no room to derive the index again: {exc}") from exc
        return [Finding(f"the index cannot be read whole ({exc})", INDEX_COMMANDS)]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _snapshot(archive_path: str, work_dir: str) -> str:
    """One moment of the archive (a hook may save meanwhile): both sides of the comparison
    are read from it. An archive SQLite cannot copy is read as it is."""
    target = os.path.join(work_dir, "snapshot.db")
    try:
        source = open_read_only(archive_path)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except READ_ERRORS:
        return archive_path
    return target


def _index_findings(archive_path: str, settings: Settings, work_dir: str,
                    sample: int | None) -> list[Finding]:
    archive_path = _snapshot(archive_path, work_dir)
    rebuilt = Database(os.path.join(work_dir, "rederived.db"))
    try:
        migrate(rebuilt)
        with Salvage(archive_path, os.path.join(work_dir, "salvage")) as salvage:
            only = None
            if sample is not None:
                import random

                paths = sorted(f.path for f in salvage.files() if f.kind == "session")
                only = set(random.sample(paths, min(sample, len(paths))))
            merge_archive(rebuilt, salvage, settings, work_dir, only)
        expected, expected_sessions = entries.fingerprints(rebuilt.conn)
    finally:
        rebuilt.close()
    conn = open_read_only(archive_path)
    try:
        actual, actual_sessions = entries.fingerprints(conn)
    finally:
        conn.close()
    if sample is not None:  # other files' entries were not derived: compare only these
        actual = {key: value for key, value in actual.items() if key in expected}
    return _compare(expected, expected_sessions, actual, actual_sessions)


def _compare(expected: dict[bytes, int], expected_sessions: dict[bytes, str],
             actual: dict[bytes, int], actual_sessions: dict[bytes, str]) -> list[Finding]:
    missing = [key for key in expected if key not in actual]
    extra = [key for key in actual if key not in expected]
    differ = [key for key in expected if key in actual and actual[key] != expected[key]]
    findings = []
    if missing:
        findings.append(Finding(f"{len(missing)} message(s) of the archived bytes are missing"
                                " from the index", INDEX_COMMANDS,
                                {expected_sessions[key] for key in missing}))
    if differ:
        findings.append(Finding(f"the index of {len(differ)} message(s) differs from their"
                                " archived lines", INDEX_COMMANDS,
                                {actual_sessions.get(key, expected_sessions[key])
                                 for key in differ}))
    if extra:
        findings.append(Finding(f"{len(extra)} indexed message(s) have no archived line",
                                INDEX_COMMANDS,
                                {actual_sessions[key] for key in extra if key in actual_sessions}))
    return findings
