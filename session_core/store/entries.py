"""The ``entries`` table and its full-text index ``entries_fts``: one row per message record,
pointing at where its bytes are, and the words of its text.

Entries are deduplicated on ``key`` (the record's uuid, else a hash of its line) across files,
so resumed or forked copies of a session are archived byte for byte but indexed once. The FTS
table is contentless: the words are indexed, the text is read back from the frames.
"""

from __future__ import annotations

from ..base.errors import QueryError
from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Any, Protocol

    from .connection import Database

    class NewEntry(Protocol):
        """What an entry to insert carries (``transcript.index.PendingEntry``)."""

        key: bytes
        session_id: int
        offset: int
        length: int
        role: str
        kind: str
        ts: str | None
        tools: str | None
        sidechain: int
        text: str

_INSERT = ("INSERT OR IGNORE INTO entries(id, key, session_id, file_id, generation, offset,"
           " length, role, kind, ts, tools, sidechain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
_INSERT_WORDS = "INSERT INTO entries_fts(rowid, text) VALUES (?, ?)"


def insert_new(db: Database, file_id: int, generation: int,
               entries: Sequence[NewEntry]) -> list[int]:
    """Insert the entries not archived yet, with their words; returns the positions (in
    ``entries``) of those that were new.

    Insert-or-ignore with ids we choose: the rows that exist afterwards in our id range are the
    new ones, found without a lookup per key in the common case. We hold the write lock
    (``BEGIN IMMEDIATE``), so ``max(id)`` is ours to extend.
    """
    conn = db.conn
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
    before = conn.total_changes
    conn.executemany(_INSERT, [
        (first + n, e.key, e.session_id, file_id, generation, e.offset, e.length, e.role,
         e.kind, e.ts, e.tools, e.sidechain) for n, e in enumerate(entries)])
    fresh = list(range(len(entries)))
    if conn.total_changes - before < len(entries):  # some were archived already
        kept = {r[0] - first for r in conn.execute(
            "SELECT id FROM entries WHERE id BETWEEN ? AND ?", (first, first + len(entries)))}
        fresh = [n for n in fresh if n in kept]
    db.executemany_at_commit(_INSERT_WORDS, [(first + n, entries[n].text) for n in fresh
                                             if entries[n].text])
    return fresh


def move_file(conn: sqlite3.Connection, file_id: int, old: int, new: int) -> None:
    """A file's entries follow it to another session."""
    conn.execute("UPDATE entries SET session_id = ? WHERE session_id = ? AND file_id = ?",
                 (new, old, file_id))


def any_entry(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is not None


class Position:
    """Where an entry's line is: its words are derived from those bytes again."""

    __slots__ = ("entry_id", "file_id", "generation", "length", "offset")

    def __init__(self, row: tuple[int, int, int, int, int]) -> None:
        self.entry_id, self.file_id, self.generation, self.offset, self.length = row


_OF_SESSION = ("session_id = ?1 OR file_id IN (SELECT id FROM files WHERE session_id = ?1)")
"""A session's entries, wherever their bytes are, and every entry whose bytes are in its files."""


def positions(conn: sqlite3.Connection, session_id: int | None = None) -> Iterator[Position]:
    """Every entry's position (or those of one session, :data:`_OF_SESSION`), in file and byte
    order: a file's frames are then read once, front to back."""
    where, params = (f"WHERE {_OF_SESSION}", (session_id,)) if session_id is not None else ("", ())
    for row in conn.execute("SELECT id, file_id, generation, offset, length FROM entries "
                            f"{where} ORDER BY file_id, generation, offset", params):
        yield Position(row)


def sessions_holding(conn: sqlite3.Connection, session_id: int) -> list[str]:
    """Other sessions whose files hold entries of this one (a resumed or forked copy)."""
    return [str(row[0]) for row in conn.execute(
        "SELECT DISTINCT s.uuid FROM entries e JOIN files f ON f.id = e.file_id"
        " JOIN sessions s ON s.id = f.session_id WHERE e.session_id = ?1"
        " AND f.session_id != ?1", (session_id,))]


def filed_elsewhere(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(session an entry is filed under, another session whose file holds its bytes): every
    pair :func:`sessions_holding` finds, for every session at once."""
    return {(str(a), str(b)) for a, b in conn.execute(
        "SELECT DISTINCT s.uuid, o.uuid FROM entries e JOIN files f ON f.id = e.file_id"
        " JOIN sessions s ON s.id = e.session_id JOIN sessions o ON o.id = f.session_id"
        " WHERE e.session_id != f.session_id")}


def owner_of_key(conn: sqlite3.Connection, key: bytes) -> tuple[str, int] | None:
    """(the session the entry of this key is filed under, the file its bytes are in)."""
    row = conn.execute("SELECT s.uuid, e.file_id FROM entries e JOIN sessions s"
                       " ON s.id = e.session_id WHERE e.key = ?", (key,)).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def sessions_of_keys(conn: sqlite3.Connection, keys: Iterable[bytes]) -> set[str]:
    """The sessions the entries of these keys are filed under."""
    found: set[str] = set()
    for key in keys:
        row = conn.execute("SELECT s.uuid FROM entries e JOIN sessions s ON s.id = e.session_id"
                           " WHERE e.key = ?", (key,)).fetchone()
        if row is not None:
            found.add(str(row[0]))
    return found


def clear_words(conn: sqlite3.Connection) -> None:
    """Every word out of the index (the entries stay): the start of deriving them again."""
    conn.execute("INSERT INTO entries_fts(entries_fts) VALUES('delete-all')")


def add_words(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    conn.executemany(_INSERT_WORDS, rows)


def delete_session(conn: sqlite3.Connection, session_id: int) -> int:
    """A session's entry rows, :data:`_OF_SESSION` (their words go when the index is derived
    again: ``transcript.forget``)."""
    return conn.execute(f"DELETE FROM entries WHERE {_OF_SESSION}", (session_id,)).rowcount


class Hit:
    __slots__ = ("file_id", "generation", "key", "kind", "length", "offset", "role", "score",
                 "session", "tools", "ts")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.session, self.role, self.kind, self.ts, self.score, self.file_id,
         self.generation, self.offset, self.length, self.tools, key) = row
        self.key = bytes(key)

    session: str
    role: str
    kind: str
    ts: str | None
    score: float
    """FTS5's BM25 rank: lower is better."""
    file_id: int
    generation: int
    """The file's generation the entry's bytes are in (a rewritten file keeps the old one)."""
    offset: int
    length: int
    tools: str | None
    key: bytes
    """The entry's key: the record read back must be this one (``transcript.index.entry_key``)."""


class Filters:
    """What a search is narrowed to; every field optional."""

    __slots__ = ("branch", "role", "session_id", "since", "tool", "until")

    def __init__(self, session_id: int | None = None, role: str | None = None,
                 tool: str | None = None, since: str | None = None, until: str | None = None,
                 branch: str | None = None) -> None:
        self.session_id, self.role, self.tool = session_id, role, tool
        self.since, self.until, self.branch = since, until, branch


def search(conn: sqlite3.Connection, query: str, limit: int = 20,
           filters: Filters | None = None) -> list[Hit]:
    """Entries matching an FTS5 query, best first (BM25), narrowed by ``filters``."""
    where: list[str] = ["entries_fts MATCH ?"]
    params: list[object] = [query]
    f = filters or Filters()
    tool = f",{f.tool}," if f.tool else None
    for clause, value in (("e.session_id = ?", f.session_id), ("e.role = ?", f.role),
                          ("instr(',' || e.tools || ',', ?) > 0", tool),
                          ("e.ts >= ?", f.since), ("e.ts < ?", f.until),
                          ("s.git_branch = ?", f.branch)):
        if value is not None:
            where.append(clause)
            params.append(value)
    try:
        rows = conn.execute(
            "SELECT s.uuid, e.role, e.kind, e.ts, f.rank, e.file_id, e.generation, e.offset,"
            " e.length, e.tools, e.key"
            " FROM entries_fts f JOIN entries e ON e.id = f.rowid"
            " JOIN sessions s ON s.id = e.session_id WHERE " + " AND ".join(where) +
            " ORDER BY f.rank LIMIT ?", (*params, limit)).fetchall()
    except sqlite3.OperationalError as exc:
        raise QueryError(f"cannot search for {query!r}: {exc}",
                         "quote phrases with double quotes, e.g. '\"fetch_user\"'; see SQLite's"
                         " FTS5 query syntax") from exc
    return [Hit(row) for row in rows]


def latest_of_kind(conn: sqlite3.Connection, session_id: int,
                   kind: str) -> tuple[int, int, int] | None:
    """``(file_id, offset, length)`` of the session's newest entry of ``kind`` in its own
    transcript (a compaction summary, say), or None."""
    row = conn.execute("SELECT file_id, offset, length FROM entries WHERE session_id = ?"
                       " AND kind = ? AND sidechain = 0 ORDER BY ts DESC, offset DESC LIMIT 1",
                       (session_id, kind)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def message_count(conn: sqlite3.Connection, session_uuid: str) -> int:
    """User and assistant records of the session's own conversation (no subagents)."""
    row = conn.execute(
        "SELECT count(*) FROM entries e JOIN sessions s ON s.id = e.session_id WHERE s.uuid = ?"
        " AND e.role IN ('user', 'assistant') AND NOT e.sidechain", (session_uuid,)).fetchone()
    return int(row[0])


def counts(conn: sqlite3.Connection, session_id: int) -> tuple[int, int, int]:
    """(entries, prompts of the main conversation, tool calls) of a session."""
    row = conn.execute(
        "SELECT count(*), sum(kind = 'prompt' AND NOT sidechain),"
        " sum(coalesce(length(tools) - length(replace(tools, ',', '')) + 1, 0))"
        " FROM entries WHERE session_id = ?", (session_id,)).fetchone()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def counts_before(conn: sqlite3.Connection, session_id: int, before: int,
                  whole_files: Sequence[int] = ()) -> tuple[int, int, int]:
    """:func:`counts` of what a copy of the session holds: its entries in its own transcript
    before byte ``before``, and those of ``whole_files`` (the subagents the copy took along).
    A copy's own records are indexed here, under the session they came from (same keys)."""
    marks = ",".join("?" * len(whole_files))
    row = conn.execute(
        "SELECT count(*), sum(e.kind = 'prompt' AND NOT e.sidechain),"
        " sum(coalesce(length(e.tools) - length(replace(e.tools, ',', '')) + 1, 0))"
        " FROM entries e JOIN files f ON f.id = e.file_id WHERE e.session_id = ?"
        " AND ((f.kind = 'session' AND e.offset < ?)"
        + (f" OR e.file_id IN ({marks})" if whole_files else "") + ")",
        (session_id, before, *whole_files)).fetchone()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def kind_at(conn: sqlite3.Connection, session_id: int, offset: int) -> str | None:
    """The kind of the session's entry at ``offset`` of its own transcript (None: none)."""
    row = conn.execute("SELECT e.kind FROM entries e JOIN files f ON f.id = e.file_id"
                       " WHERE e.session_id = ? AND f.kind = 'session' AND e.offset = ?"
                       " LIMIT 1", (session_id, offset)).fetchone()
    return None if row is None else str(row[0])


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])


def check_full_text(conn: sqlite3.Connection) -> None:
    """FTS5's own consistency check of ``entries_fts``; ``sqlite3.Error`` if it fails. It is an
    INSERT command: it needs a connection that may write, though it changes nothing."""
    conn.execute("INSERT INTO entries_fts(entries_fts) VALUES('integrity-check')")


def fingerprints(conn: sqlite3.Connection) -> tuple[dict[bytes, int], dict[bytes, str]]:
    """Per entry key, a hash of everything the index says of it (its row's facts and every
    word position of its text), and the session it is filed under. Keys, not row ids: two
    archives built from the same bytes in another order agree on these, so ``verify`` can
    compare an archive's index with one derived again from its frames."""
    from ..base.hashing import hash16

    def number(*parts: object) -> int:
        return int.from_bytes(hash16(repr(parts).encode()), "big")

    keys: dict[int, bytes] = {}
    found: dict[bytes, int] = {}
    sessions: dict[bytes, str] = {}
    for row_id, key, uuid, role, kind, ts, tools, sidechain in conn.execute(
            "SELECT e.id, e.key, s.uuid, e.role, e.kind, e.ts, e.tools, e.sidechain"
            " FROM entries e JOIN sessions s ON s.id = e.session_id"):
        key = bytes(key)
        keys[row_id], sessions[key] = key, uuid
        found[key] = number(role, kind, ts, tools, sidechain)
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.entries_words"
                 " USING fts5vocab(main, entries_fts, instance)")
    try:
        for term, doc, offset in conn.execute("SELECT term, doc, offset FROM temp.entries_words"):
            key = keys.get(doc, b"missing:%d" % doc)
            found[key] = (found.get(key, 0) + number(term, offset)) % (1 << 128)
    finally:
        conn.execute("DROP TABLE temp.entries_words")
    return found, sessions


_IN_RANGE = "ts IS NOT NULL AND (?1 IS NULL OR ts >= ?1) AND (?2 IS NULL OR session_id = ?2)"
"""Entries from a time on (``?1``, None: all) of one session (``?2``, None: every one)."""


def spans(conn: sqlite3.Connection, since: str | None = None,
          session_id: int | None = None) -> dict[int, tuple[str, str]]:
    """Per session with entries from ``since`` on, its first and last time among them: a
    session inside one day and one range needs no message-by-message look at its times."""
    return {int(sid): (first, last) for sid, first, last in conn.execute(
        f"SELECT session_id, min(ts), max(ts) FROM entries WHERE {_IN_RANGE}"
        " GROUP BY session_id", (since, session_id))}


class DayActivity:
    __slots__ = ("active_seconds", "day", "prompts", "sessions")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.day, self.sessions, self.prompts, self.active_seconds = row

    day: str
    """Local date (SQLite's ``localtime``: the TZ of the process, as Python's)."""
    sessions: int
    prompts: int
    """Prompts of the main conversations: turns a person took."""
    active_seconds: float
    """Gaps between a session's consecutive entries (its subagents' included), each counted up
    to the idle cutoff, on the day of the later one."""


def activity_by_day(conn: sqlite3.Connection, idle_seconds: float, since: str | None = None,
                    session_id: int | None = None) -> list[DayActivity]:
    """Per local day: sessions, prompts and active time. A gap is capped, not dropped, so a
    pause to read counts and a laptop left open overnight counts only the cutoff."""
    return [DayActivity(row) for row in conn.execute(
        "SELECT date(ts, 'localtime') AS day, count(DISTINCT session_id),"
        " coalesce(sum(kind = 'prompt' AND NOT sidechain), 0),"
        " coalesce(sum(min(coalesce(gap, 0), ?3)), 0)"
        " FROM (SELECT session_id, ts, kind, sidechain, (julianday(ts) - julianday(lag(ts)"
        " OVER (PARTITION BY session_id ORDER BY ts))) * 86400.0 AS gap"
        f" FROM entries WHERE {_IN_RANGE}) GROUP BY day ORDER BY day",
        (since, session_id, idle_seconds))]


def tool_uses(conn: sqlite3.Connection, since: str | None = None,
              session_id: int | None = None) -> dict[str, int]:
    """Calls per tool, most used first (an entry's ``tools`` lists each call it makes)."""
    counts: dict[str, int] = {}
    for tools, n in conn.execute(f"SELECT tools, count(*) FROM entries WHERE {_IN_RANGE}"
                                 " AND tools IS NOT NULL GROUP BY tools", (since, session_id)):
        for tool in tools.split(","):
            if tool:
                counts[tool] = counts.get(tool, 0) + int(n)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
