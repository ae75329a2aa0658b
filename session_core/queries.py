"""Read-side questions about the archive: which sessions, what is in one, how big is it."""

from __future__ import annotations

import sqlite3

from .errors import NotFoundError


class SessionSummary:
    """One session's facts. A plain class: the SessionStart hook imports this module, and
    ``dataclasses`` alone costs it ~5 ms."""

    __slots__ = (
        "assistant_messages",
        "cache_creation_tokens",
        "cache_read_tokens",
        "cc_version",
        "cost_usd",
        "cwd",
        "first_ts",
        "git_branch",
        "input_tokens",
        "last_ts",
        "messages",
        "models",
        "output_tokens",
        "prompts",
        "subagent_files",
        "title",
        "tool_calls",
        "uuid",
    )

    def __init__(self, uuid: str, cwd: str | None, git_branch: str | None,
                 cc_version: str | None, first_ts: str | None, last_ts: str | None,
                 title: str | None) -> None:
        self.uuid, self.cwd, self.git_branch, self.cc_version = uuid, cwd, git_branch, cc_version
        self.first_ts, self.last_ts, self.title = first_ts, last_ts, title
        self.prompts = self.messages = self.assistant_messages = 0
        self.tool_calls = self.subagent_files = 0
        self.models: list[str] = []
        self.input_tokens = self.output_tokens = 0
        self.cache_creation_tokens = self.cache_read_tokens = 0
        self.cost_usd: float | None = None

    def as_dict(self) -> dict[str, object]:
        """Every field, in declaration order (``--json`` output)."""
        return {name: getattr(self, name) for name in self.__slots__}


_SESSION_COLUMNS = "s.id, s.uuid, s.cwd, s.git_branch, s.cc_version, s.first_ts, s.last_ts, s.title"


def _summary(conn: sqlite3.Connection, row: tuple) -> SessionSummary:  # type: ignore[type-arg]
    sid = row[0]
    summary = SessionSummary(*row[1:])
    counts = conn.execute(
        "SELECT count(*), sum(kind = 'prompt' AND NOT sidechain),"
        " sum(coalesce(length(tools) - length(replace(tools, ',', '')) + 1, 0))"
        " FROM entries WHERE session_id = ?",
        (sid,),
    ).fetchone()
    summary.messages, summary.prompts, summary.tool_calls = (counts[0], counts[1] or 0,
                                                             counts[2] or 0)
    usage = conn.execute(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
        " coalesce(sum(cache_creation_tokens), 0), coalesce(sum(cache_read_tokens), 0),"
        " sum(cost_usd) FROM usage WHERE session_id = ? AND coalesce(model, '') != '<synthetic>'",
        (sid,),
    ).fetchone()
    (summary.assistant_messages, summary.input_tokens, summary.output_tokens,
     summary.cache_creation_tokens, summary.cache_read_tokens) = usage[:5]
    summary.models = [
        r[0] for r in conn.execute(
            "SELECT DISTINCT model FROM usage WHERE session_id = ? AND model IS NOT NULL"
            " AND model != '<synthetic>' ORDER BY model", (sid,))
    ]
    recorded = conn.execute(
        "SELECT sum(cost_usd) FROM costs WHERE session_id = ?", (sid,)
    ).fetchone()[0]
    summary.cost_usd = recorded if recorded is not None else usage[5]
    summary.subagent_files = conn.execute(
        "SELECT count(*) FROM files WHERE session_id = ? AND kind = 'subagent'", (sid,)
    ).fetchone()[0]
    return summary


def list_sessions(conn: sqlite3.Connection) -> list[SessionSummary]:
    """Sessions that have a file of their own, newest activity first."""
    rows = conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE EXISTS (SELECT 1 FROM files f"
        " WHERE f.session_id = s.id) ORDER BY coalesce(s.last_ts, '') DESC, s.uuid"
    ).fetchall()
    return [_summary(conn, row) for row in rows]


def resolve_session(conn: sqlite3.Connection, ref: str) -> tuple[int, str]:
    """A session by full id or unique prefix (as git does for commits)."""
    rows = conn.execute(
        "SELECT id, uuid FROM sessions WHERE uuid = ? OR uuid LIKE ? ESCAPE '\\' LIMIT 3",
        (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
    ).fetchall()
    exact = [r for r in rows if r[1] == ref]
    if exact:
        return exact[0][0], exact[0][1]
    if len(rows) == 1 and ref:
        return rows[0][0], rows[0][1]
    if not rows:
        raise NotFoundError(f"no session '{ref}' in this archive", "run 'session-core list'")
    raise NotFoundError(f"'{ref}' matches several sessions", "give more of the session id")


def session_summary(conn: sqlite3.Connection, ref: str) -> SessionSummary:
    sid, _ = resolve_session(conn, ref)
    row = conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?",
                       (sid,)).fetchone()
    return _summary(conn, row)


class FileRecord:
    __slots__ = (
        "committed",
        "file_id",
        "generation",
        "kind",
        "path",
        "project_folder",
        "rel_path",
        "size",
    )

    def __init__(self, file_id: int, path: str, kind: str, project_folder: str, rel_path: str,
                 generation: int, size: int, committed: int) -> None:
        self.file_id, self.path, self.kind = file_id, path, kind
        self.project_folder, self.rel_path = project_folder, rel_path
        self.generation, self.size, self.committed = generation, size, committed


def session_message_count(conn: sqlite3.Connection, session_uuid: str) -> int:
    """User and assistant records of the session's own conversation (no subagents)."""
    row = conn.execute(
        "SELECT count(*) FROM entries e JOIN sessions s ON s.id = e.session_id WHERE s.uuid = ?"
        " AND e.role IN ('user', 'assistant') AND NOT e.sidechain", (session_uuid,)).fetchone()
    return int(row[0])


_FILE_COLUMNS = "id, path, kind, project_folder, rel_path, generation, size, committed"


def session_files(conn: sqlite3.Connection, session_id: int) -> list[FileRecord]:
    rows = conn.execute(
        f"SELECT {_FILE_COLUMNS} FROM files WHERE session_id = ?"
        " ORDER BY kind = 'session' DESC, rel_path, id",
        (session_id,),
    ).fetchall()
    return [FileRecord(*row) for row in rows]


def file_at(conn: sqlite3.Connection, path: str) -> FileRecord | None:
    """The archived file ingested from ``path`` (absolute), if any."""
    row = conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (path,)).fetchone()
    return None if row is None else FileRecord(*row)


def main_file(files: list[FileRecord], session_uuid: str) -> FileRecord:
    """The session's own transcript: several copies may exist; the longest one wins."""
    mains = [f for f in files if f.kind == "session"]
    if not mains:
        raise NotFoundError(
            f"session {session_uuid} has no transcript of its own in the archive (only"
            " subagent files)", "run 'session-core import' to backfill it")
    return max(mains, key=lambda f: (f.size, f.file_id))


def search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[tuple[str, str, str,
                                                                               str | None]]:
    """(session, role, kind, time) of entries matching an FTS5 query, best first."""
    try:
        return conn.execute(
            "SELECT s.uuid, e.role, e.kind, e.ts FROM entries_fts f JOIN entries e"
            " ON e.id = f.rowid JOIN sessions s ON s.id = e.session_id"
            " WHERE entries_fts MATCH ? ORDER BY f.rank LIMIT ?",
            (query, limit),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        from .errors import InputError

        raise InputError(f"cannot search for {query!r}: {exc}",
                         "quote phrases with double quotes, e.g. '\"fetch_user\"'") from exc
