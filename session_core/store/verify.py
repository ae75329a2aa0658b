"""Checking an archive file for everything that can be wrong with it, read-only.

``integrity_check`` sees SQLite's B-trees; only decompressing sees damage in frames; only the
full-text index's own check sees damage in its blocks; only comparing rows with their file sees
an entry that points nowhere. Each finding says what it affects (which sessions, which command),
so a user knows what is at stake before running ``recover``. The index re-derived from the
frames is compared one layer up (``transcript.recheck``): deriving it needs the parser.
"""

from __future__ import annotations

from ..base.errors import CorruptBlobError
from ..base.hashing import hash16, hash16_of
from ..base.sqlite_driver import sqlite3
from .archive import LATEST_VERSION
from .codec import decompress
from .connection import APPLICATION_ID, READ_ERRORS, SQLITE_HEADER, open_read_only
from .entries import check_full_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

HEALTHY, DAMAGED, NOT_OURS, MISSING = "healthy", "damaged", "not ours", "missing"
ALL_COMMANDS = "every command"
BYTES_COMMANDS = "export, restore, the handoff"
INDEX_COMMANDS = "search, show, list"
_SHOWN_LINES = 3


class Finding:
    """One problem: what is wrong, which sessions it touches (empty: the archive as a whole or
    unknown), and which commands it makes wrong or fail."""

    __slots__ = ("affects", "sessions", "text")

    def __init__(self, text: str, affects: str, sessions: Iterable[str] = ()) -> None:
        self.text, self.affects, self.sessions = text, affects, sorted(set(sessions))

    def render(self) -> str:
        who = ""
        if self.sessions:
            shown = ", ".join(self.sessions[:5])
            more = f" and {len(self.sessions) - 5} more" if len(self.sessions) > 5 else ""
            who = f"; sessions {shown}{more}"
        return f"{self.text} (affects {self.affects}{who})"


class Report:
    __slots__ = ("findings", "state")

    def __init__(self) -> None:
        self.state = HEALTHY
        self.findings: list[Finding] = []

    def add(self, finding: Finding, state: str = DAMAGED) -> None:
        self.findings.append(finding)
        if self.state == HEALTHY:
            self.state = state


def check_file(path: str, quick: bool = False) -> Report:
    """Everything that can be checked without parsing records. ``quick``: header, ownership,
    schema, ``quick_check`` and the full-text index's check, not every frame."""
    report = Report()
    header = _header(path, report)
    if header is None:
        return report
    try:
        conn = open_read_only(path)
        try:
            _check_open(conn, path, quick, report)
        finally:
            conn.close()
        if report.state == HEALTHY:
            _check_fts(path, report)
    except READ_ERRORS as exc:
        report.add(Finding(f"database: {exc}", ALL_COMMANDS))
    return report


def _header(path: str, report: Report) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        report.add(Finding(f"{path} does not exist", ALL_COMMANDS), MISSING)
        return None
    except OSError as exc:
        report.add(Finding(f"cannot read {path}: {exc}", ALL_COMMANDS))
        return None
    if not header:
        report.add(Finding(f"{path} is empty (0 bytes): its contents are gone", ALL_COMMANDS))
        return None
    if not header.startswith(SQLITE_HEADER):
        report.add(Finding(f"{path} is not a SQLite database: its header is damaged or"
                           " overwritten", ALL_COMMANDS))
        return None
    return header


def _check_open(conn: sqlite3.Connection, path: str, quick: bool, report: Report) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        report.add(Finding(f"{path} is a SQLite database of another program (application_id"
                           f" {app_id:#x}), not an archive", ALL_COMMANDS), NOT_OURS)
        return
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if not 0 < version <= LATEST_VERSION:
        report.add(Finding(f"schema version {version} is unknown (this session-core knows 1 to"
                           f" {LATEST_VERSION})", ALL_COMMANDS))
        return
    pragma = "quick_check" if quick else "integrity_check"
    lines = [" ".join(str(line).split()) for (line,) in conn.execute(f"PRAGMA {pragma}")]
    if lines != ["ok"]:
        shown = "; ".join(lines[:_SHOWN_LINES])
        more = f" (and {len(lines) - _SHOWN_LINES} more)" if len(lines) > _SHOWN_LINES else ""
        report.add(Finding(f"SQLite's {pragma} found {len(lines)} problem(s): {shown}{more}",
                           ALL_COMMANDS))
    if not quick:
        _check_frames(conn, report)
        _check_entries(conn, report)


def _check_fts(path: str, report: Report) -> None:
    """FTS5's own check is an INSERT command, refused on a read-only connection (SQLite before
    3.44 has no other way in): run on a connection of its own once the file is known sound, so
    that closing it (which may checkpoint the WAL, as any reader's would) is routine."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            check_full_text(conn)
        finally:
            conn.close()
    except READ_ERRORS as exc:
        text = str(exc)
        damaged = "malformed" in text or "corrupt" in text
        if not damaged and ("readonly" in text or "disk" in text or "full" in text):
            return  # cannot be checked here (a read-only folder, a full disk), not damage
        report.add(Finding(f"full-text index: {exc}", "search"))


def _sessions_of_file(conn: sqlite3.Connection) -> dict[int, tuple[str, str]]:
    return {fid: (path, uuid) for fid, path, uuid in conn.execute(
        "SELECT f.id, f.path, s.uuid FROM files f JOIN sessions s ON s.id = f.session_id")}


def _check_frames(conn: sqlite3.Connection, report: Report) -> None:
    """Every frame decompresses with its checksum, and each generation's frames run from byte 0
    without gap or overlap; the current generation ends at the file's recorded size."""
    owners = _sessions_of_file(conn)
    current = {fid: (gen, size, sealed) for fid, gen, size, sealed in conn.execute(
        "SELECT id, generation, size, content_hash FROM files")}
    expected: dict[tuple[int, int], int] = {}
    broken: dict[tuple[int, int], str] = {}
    hashes: dict[tuple[int, int], list[bytes | None]] = {}
    for chunk_id, file_id, generation, offset, raw_len, raw_hash in conn.execute(
            "SELECT id, file_id, generation, offset, raw_len, raw_hash FROM chunks"
            " ORDER BY file_id, generation, offset"):
        where = (file_id, generation)
        if where in broken:
            continue
        at = expected.get(where, 0)
        if offset != at:
            broken[where] = f"a {'gap' if offset > at else 'overlap'} at byte {at}"
            continue
        try:
            (blob,) = conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
            if not isinstance(blob, bytes) or not isinstance(raw_len, int):
                raise CorruptBlobError("a frame's row holds values of the wrong type")
            raw = decompress(blob, raw_len)
        except CorruptBlobError:
            broken[where] = f"the frame at byte {offset} fails its checksum"
            continue
        if raw_hash is not None and hash16(raw) != raw_hash:
            broken[where] = f"the frame at byte {offset} differs from what was archived"
            continue
        hashes.setdefault(where, []).append(None if raw_hash is None else bytes(raw_hash))
        expected[where] = offset + raw_len
    for file_id, (generation, size, sealed) in current.items():
        where = (file_id, generation)
        if where in broken:
            continue
        if expected.get(where, 0) != size:
            broken[where] = (f"frames end at byte {expected.get(where, 0)}, the file was"
                             f" archived to {size}")
        elif sealed is not None and all(hashes.get(where, [])) and hash16_of(
                [*(h for h in hashes.get(where, []) if h), size.to_bytes(8, "big")]) != sealed:
            broken[where] = "its frames are not the ones its content hash names"
    for (file_id, generation), what in sorted(broken.items()):
        path, uuid = owners.get(file_id, (f"file #{file_id}", "?"))
        report.add(Finding(f"frame: archived bytes of {path} (generation {generation}): {what}",
                           BYTES_COMMANDS, [uuid]))


def _check_entries(conn: sqlite3.Connection, report: Report) -> None:
    """Parsed rows point inside bytes their file's generation holds."""
    bad: dict[str, int] = {}
    for uuid, count in conn.execute(
            "SELECT s.uuid, count(*) FROM entries e JOIN sessions s ON s.id = e.session_id"
            " LEFT JOIN (SELECT file_id, generation, sum(raw_len) AS held FROM chunks"
            " GROUP BY file_id, generation) c"
            " ON c.file_id = e.file_id AND c.generation = e.generation"
            " WHERE c.held IS NULL OR e.offset < 0 OR e.length <= 0"
            " OR e.offset + e.length > c.held GROUP BY s.uuid"):
        bad[uuid] = count
    if bad:
        report.add(Finding(f"{sum(bad.values())} indexed message(s) point outside their"
                           " archived file", INDEX_COMMANDS, bad))
