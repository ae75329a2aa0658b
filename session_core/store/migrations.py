"""Schema migrations: an ordered, registered list; each step and its bookkeeping in one transaction.

A database whose ``user_version`` is newer than the last step we know was written by a newer
session-core and is refused, never "upgraded" down. An existing archive is backed up before any
step runs, and row counts of the tables a step keeps are compared after it.
"""

from __future__ import annotations

from ..base.clock import utc_stamp
from ..base.errors import DatabaseError, NewerSchemaError
from ..base.sqlite_driver import sqlite3
from .archive import LATEST_VERSION as _OPENED_AT
from .connection import APPLICATION_ID, Database

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..base.settings import Settings


class Migration:
    """One step. ``additive``: it only adds tables or indexes, changing and dropping nothing
    already there, so a hook may apply it (in one ``BEGIN IMMEDIATE`` transaction, no backup:
    it cannot lose a row); any other step waits for the CLI, which backs up first."""

    __slots__ = ("additive", "name", "statements", "version")

    def __init__(self, version: int, name: str, statements: tuple[str, ...],
                 additive: bool = False) -> None:
        self.version, self.name, self.statements = version, name, statements
        self.additive = additive


SCHEMA_V1 = (
    """CREATE TABLE migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        applied_at TEXT NOT NULL)""",
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        cwd TEXT,
        git_branch TEXT,
        cc_version TEXT,
        first_ts TEXT,
        last_ts TEXT,
        title TEXT)""",
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        kind TEXT NOT NULL CHECK (kind IN ('session', 'subagent', 'sidecar')),
        project_folder TEXT NOT NULL,
        rel_path TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        committed INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        head_hash BLOB,
        tail_hash BLOB,
        bad_lines INTEGER NOT NULL DEFAULT 0,
        ingested_at TEXT)""",
    "CREATE INDEX files_session ON files(session_id)",
    """CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id),
        generation INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        raw_len INTEGER NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (file_id, generation, offset))""",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        key BLOB NOT NULL UNIQUE,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        file_id INTEGER NOT NULL REFERENCES files(id),
        generation INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        role TEXT NOT NULL,
        kind TEXT NOT NULL,
        ts TEXT,
        tools TEXT,
        sidechain INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX entries_session ON entries(session_id)",
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TABLE usage (
        message_id TEXT PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        model TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL) WITHOUT ROWID""",
    "CREATE INDEX usage_session ON usage(session_id)",
    """CREATE TABLE costs (
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        start_time INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        PRIMARY KEY (session_id, start_time)) WITHOUT ROWID""",
)

SCHEMA_V2_HOOKS = (
    # The handoff asks for "the most recent other session" on every SessionStart.
    "CREATE INDEX sessions_last_ts ON sessions(last_ts)",
    # What hooks know that transcripts do not: git state at the end, how the session ended,
    # compaction summaries.
    """CREATE TABLE session_state (
        session_uuid TEXT PRIMARY KEY,
        git_branch TEXT,
        git_commit TEXT,
        last_event TEXT,
        last_event_at TEXT,
        end_reason TEXT,
        ended_at TEXT,
        compact_summary BLOB) WITHOUT ROWID""",
    # Chat history as the hooks saw it (prompt at submit, reply at Stop), zstd-compressed:
    # survives a transcript that lags, is deleted, or never gets written.
    """CREATE TABLE chat_turns (
        id INTEGER PRIMARY KEY,
        session_uuid TEXT NOT NULL,
        prompt_id TEXT,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        at TEXT NOT NULL,
        text BLOB NOT NULL,
        text_len INTEGER NOT NULL)""",
    "CREATE INDEX chat_turns_session ON chat_turns(session_uuid, id)",
)


def _to_one_time_format(table: str, column: str) -> str:
    """Times written as ``...+00:00`` (with or without a fraction) in the format of
    ``base.clock`` (``...mmmZ``): stored times are compared as strings."""
    return (f"UPDATE {table} SET {column} = CASE WHEN length({column}) = 25"
            f" THEN substr({column}, 1, 19) || '.000Z' ELSE substr({column}, 1, 23) || 'Z' END"
            f" WHERE {column} LIKE '%+00:00'")


SCHEMA_V3_DIGESTS = (
    # What the handoff reads of a session, kept by ingest in the same transaction as the rows
    # it was folded from: the state of its digest over the first ``offset`` bytes of the
    # file's ``generation`` (zstd-compressed JSON, ``state_len`` bytes raw).
    """CREATE TABLE digests (
        file_id INTEGER PRIMARY KEY REFERENCES files(id),
        generation INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        state BLOB NOT NULL,
        state_len INTEGER NOT NULL)""",
    _to_one_time_format("session_state", "last_event_at"),
    _to_one_time_format("session_state", "ended_at"),
    _to_one_time_format("chat_turns", "at"),
    _to_one_time_format("files", "ingested_at"),
    _to_one_time_format("migrations", "applied_at"),
    "UPDATE meta SET value = CASE WHEN length(value) = 25 THEN substr(value, 1, 19) || '.000Z'"
    " ELSE substr(value, 1, 23) || 'Z' END WHERE key = 'last_ingest' AND value LIKE '%+00:00'",
    "UPDATE meta SET key = 'full_catch_up_at' WHERE key = 'siblings_checked_at'",
    # An archive with files has digests to rebuild (cli.upgrade does, then clears this); a
    # new one has none.
    "INSERT INTO meta(key, value) SELECT 'digests_pending', '1' WHERE EXISTS (SELECT 1 FROM files)",
)

SCHEMA_V4_CONTENT_HASHES = (
    # Each frame's raw bytes hashed (BLAKE2b-16), and each file's content hash (of its current
    # generation's frame hashes in order, and its size): export and restore check both, so
    # damage to a frame, an offset or the order of frames can never hand out other bytes.
    "ALTER TABLE chunks ADD COLUMN raw_hash BLOB",
    "ALTER TABLE files ADD COLUMN content_hash BLOB",
    # Frames already archived are hashed by the next command (cli.upgrade), which clears this.
    "INSERT INTO meta(key, value) SELECT 'hashes_pending', '1' WHERE EXISTS (SELECT 1 FROM chunks)",
)

SCHEMA_V5_RECALL = (
    # Which session changed which file (successful edits only), one row per transcript that
    # changed it (a session's own and each subagent's: each is folded on its own): what a
    # PreToolUse says before an edit, and what ``blame`` lists. Rows are derived from the
    # transcripts by the digest fold, like the digests themselves.
    """CREATE TABLE file_changes (
        path TEXT NOT NULL,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        file_id INTEGER NOT NULL REFERENCES files(id),
        at TEXT,
        action TEXT NOT NULL,
        edits INTEGER NOT NULL,
        request TEXT,
        note TEXT,
        PRIMARY KEY (path, session_id, file_id)) WITHOUT ROWID""",
    # Errors a session hit and then fixed, by a signature of the error (paths, numbers and
    # hashes left out), with what fixed it: what a failed command is told.
    """CREATE TABLE error_fixes (
        signature TEXT NOT NULL,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        at TEXT,
        error TEXT NOT NULL,
        fix TEXT NOT NULL,
        PRIMARY KEY (signature, session_id)) WITHOUT ROWID""",
    # The digests learned to keep more (commits, tests, fixes...): every one is folded again
    # by the next command (cli.upgrade), which fills the two tables above on the way.
    "DELETE FROM digests",
    "INSERT INTO meta(key, value) SELECT 'digests_pending', '1' WHERE EXISTS (SELECT 1 FROM files)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
)

SCHEMA_V6_FORGOTTEN = (
    # Sessions removed on purpose (``session-core forget``): their tombstones, so that neither
    # an import nor a hook's catch-up brings them back from Claude Code's folder. The id and
    # the time only: what the session said is what was meant to go.
    """CREATE TABLE forgotten (
        uuid TEXT PRIMARY KEY,
        forgotten_at TEXT NOT NULL) WITHOUT ROWID""",
    # The index keeps each entry's length now (columnsize): BM25 without it ranks a 50 KB Read
    # result that mentions a word above the short message that is about it, and tool results
    # are indexed whole since the index versions. Its words are derived again from the frames
    # by the next command (cli.upgrade): an archive with entries and no index version is due.
    "DROP TABLE entries_fts",
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        text, content='', tokenize='unicode61 remove_diacritics 2')""",
    "DELETE FROM meta WHERE key = 'index_version'",
    # What changed a file, newest first, without grouping every session that ever did.
    "CREATE INDEX file_changes_path_at ON file_changes(path, at)",
)

SCHEMA_V7_CHECKPOINTS = (
    # A named position in a session (``session-core checkpoint``, or taken by the hooks before
    # a compaction, every N turns, at SessionEnd): the file and how many of its bytes, the last
    # entry's uuid there, and git as it was. No bytes are copied: the frames are lossless, so a
    # branch is cut from them even after Claude Code deleted the transcript.
    """CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        file_id INTEGER NOT NULL REFERENCES files(id),
        generation INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        last_uuid TEXT,
        reason TEXT NOT NULL CHECK (reason IN ('named', 'compact', 'turns', 'end')),
        prompts INTEGER NOT NULL DEFAULT 0,
        git_branch TEXT,
        git_commit TEXT,
        git_dirty INTEGER,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX checkpoints_session ON checkpoints(session_id, created_at)",
    # Sessions session-core wrote itself: a branch cut at a checkpoint, or a merge (a target
    # continued with a note of what a branch found), each linked to where it came from. Ids,
    # not row references: the origin may be forgotten later and the link still says what it was.
    """CREATE TABLE branches (
        session_uuid TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('branch', 'merge')),
        origin_uuid TEXT NOT NULL,
        checkpoint TEXT,
        merged_uuid TEXT,
        name TEXT,
        worktree TEXT,
        cut_bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX branches_origin ON branches(origin_uuid)",
)

DERIVED_TABLES = frozenset({"digests", "file_changes", "error_fixes"})
"""Folded from the archived transcripts, never the only copy of anything: a migration may
empty them (the next command folds them again), so they are not counted as lost rows."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", SCHEMA_V1),
    Migration(2, "hook suite state", SCHEMA_V2_HOOKS),
    Migration(3, "handoff digests in the archive", SCHEMA_V3_DIGESTS),
    Migration(4, "content hashes of frames and files", SCHEMA_V4_CONTENT_HASHES),
    Migration(5, "recall of file changes and error fixes", SCHEMA_V5_RECALL),
    Migration(6, "tombstones of forgotten sessions", SCHEMA_V6_FORGOTTEN),
    Migration(7, "checkpoints and branches", SCHEMA_V7_CHECKPOINTS, additive=True),
)


def _check_registry(migrations: tuple[Migration, ...]) -> None:
    names = [m.name for m in migrations]
    if len(set(names)) != len(names):
        raise ValueError("duplicate migration name")
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise ValueError("migration versions must be 1..N in order")


_check_registry(MIGRATIONS)
LATEST_VERSION = MIGRATIONS[-1].version
if LATEST_VERSION != _OPENED_AT:  # archive.py checks the version without importing this module
    raise RuntimeError(f"store.archive.LATEST_VERSION is {_OPENED_AT}, the last migration"
                       f" {LATEST_VERSION}")


def _row_counts(db: Database) -> dict[str, int]:
    tables = [
        row[0]
        for row in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'entries_fts%'"
            " AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: db.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _apply(db: Database, conn: sqlite3.Connection, migration: Migration) -> None:
    """One step, unless it is applied already (re-read inside the lock: another process may
    have migrated meanwhile)."""
    now = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if now >= migration.version:
        return
    if now != migration.version - 1:
        raise DatabaseError(
            f"the archive {db.path} is at schema {now}, cannot apply step {migration.version}",
            "restore the pre-migration backup from .claude/session-core/backups/",
        )
    for statement in migration.statements:
        conn.execute(statement)
    conn.execute("INSERT INTO migrations(version, name, applied_at) VALUES (?, ?, ?)",
                 (migration.version, migration.name, utc_stamp()))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {migration.version}")


def only_additive_from(current: int, migrations: tuple[Migration, ...] = MIGRATIONS) -> bool:
    """Whether every step after ``current`` is additive (what a hook may apply itself)."""
    return all(m.additive for m in migrations if m.version > current)


def migrate_additive(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """A hook's upgrade: the steps after the archive's version, if every one is additive, in
    one write transaction (the version is read again inside the lock: another hook may have
    upgraded meanwhile); no backup and no row counts, since no step changes a row. Raises
    :class:`DatabaseError` (the CLI must upgrade) if any step is not additive."""
    latest = migrations[-1].version
    current = db.user_version()
    if current > latest:
        raise _newer(db, current, latest)
    if current == latest:
        return current
    if current <= 0 or not only_additive_from(current, migrations):
        raise DatabaseError(
            f"the archive {db.path} has schema {current} and needs upgrading to {latest};"
            " hooks do not upgrade it",
            "run 'session-core status' in the project once (it backs up, then upgrades)")
    with db.write() as conn:
        now = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not only_additive_from(now, migrations):  # someone else moved it meanwhile
            raise DatabaseError(f"the archive {db.path} has schema {now}; hooks do not"
                                " upgrade it", "run 'session-core status' in the project once")
        for migration in migrations:
            _apply(db, conn, migration)
    return latest


def _newer(db: Database, current: int, latest: int) -> NewerSchemaError:
    return NewerSchemaError(
        f"the archive {db.path} has schema version {current}; this session-core knows up to"
        f" {latest}",
        "upgrade claude-session-core (pip install -U claude-session-core); the archive was"
        " left untouched",
    )


def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS,
            settings: Settings | None = None) -> int:
    """Bring the archive to the latest schema; returns the version it ends at."""
    latest = migrations[-1].version
    current = db.user_version()
    if current > latest:
        raise _newer(db, current, latest)
    if current == latest:
        return current
    if current > 0:
        from .backup import backup_database  # only for an upgrade: hooks never migrate

        backup_database(db, label=f"pre-migrate-v{current}", settings=settings)
    before = _row_counts(db) if current > 0 else {}
    if current == 0:  # a new archive: every step in one transaction, so no other process
        with db.write() as conn:  # ever opens it half made (at an older schema)
            for migration in migrations:
                _apply(db, conn, migration)
    else:
        for migration in migrations:
            with db.write() as conn:
                _apply(db, conn, migration)
    after = _row_counts(db)
    lost = {t: (n, after.get(t, 0)) for t, n in before.items()
            if after.get(t, 0) < n and t not in DERIVED_TABLES}
    if lost:
        raise DatabaseError(
            f"migration lost rows in {lost}; the pre-migration backup is kept",
            "report this bug; the pre-migration backup is in .claude/session-core/backups/",
        )
    return latest
