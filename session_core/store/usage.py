"""The ``usage`` and ``costs`` tables: tokens once per ``message.id`` (every content-block line
repeats a message's usage; the last one wins), and costs as Claude Code recorded them."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

_NOT_SYNTHETIC = "coalesce(model, '') != '<synthetic>'"
"""API-error turns carry the model ``<synthetic>``: no tokens were spent."""


def upsert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    """Rows of (message_id, session_id, model, input, output, cache write, cache read, cost)."""
    conn.executemany(
        "INSERT INTO usage(message_id, session_id, model, input_tokens, output_tokens,"
        " cache_creation_tokens, cache_read_tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?)"
        " ON CONFLICT(message_id) DO UPDATE SET model=excluded.model,"
        " input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens,"
        " cache_creation_tokens=excluded.cache_creation_tokens,"
        " cache_read_tokens=excluded.cache_read_tokens,"
        " cost_usd=coalesce(excluded.cost_usd, cost_usd)", rows)


def upsert_costs(conn: sqlite3.Connection, rows: list[tuple[int, int, float]]) -> None:
    """Rows of (session_id, start_time, cost): Claude Code's own running total per start."""
    conn.executemany(
        "INSERT INTO costs(session_id, start_time, cost_usd) VALUES (?,?,?)"
        " ON CONFLICT(session_id, start_time) DO UPDATE SET cost_usd=excluded.cost_usd", rows)


def upsert_copied_costs(conn: sqlite3.Connection, rows: list[tuple[int, int, float]]) -> None:
    """Rows of (session_id, start_time, cost) of ``cost-state`` records a session's file copied
    from another session (a branch, a merge, a fork): the running total it started from, spent
    by that session. Kept as its negative under the start time ``-1 - start_time``, so that
    every sum of a session's costs is what was spent on it after its copy (Claude Code goes on
    from the copied total when the copy is resumed); the last copied record of a start wins."""
    upsert_costs(conn, [(session_id, -1 - start, -cost) for session_id, start, cost in rows])


def move_session(conn: sqlite3.Connection, old: int, new: int) -> None:
    """Everything counted for a provisional session moves to the real one."""
    conn.execute("UPDATE usage SET session_id = ? WHERE session_id = ?", (new, old))
    conn.execute("UPDATE OR IGNORE costs SET session_id = ? WHERE session_id = ?", (new, old))
    conn.execute("DELETE FROM costs WHERE session_id = ?", (old,))


class Totals:
    __slots__ = ("cache_creation_tokens", "cache_read_tokens", "cost_usd", "input_tokens",
                 "messages", "output_tokens")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.messages, self.input_tokens, self.output_tokens, self.cache_creation_tokens,
         self.cache_read_tokens, self.cost_usd) = row

    messages: int
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None
    """Summed per-message ``costUSD`` (older transcripts), None when none recorded one."""


def totals(conn: sqlite3.Connection, session_id: int) -> Totals:
    return Totals(conn.execute(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
        " coalesce(sum(cache_creation_tokens), 0), coalesce(sum(cache_read_tokens), 0),"
        f" sum(cost_usd) FROM usage WHERE session_id = ? AND {_NOT_SYNTHETIC}",
        (session_id,)).fetchone())


def models(conn: sqlite3.Connection, session_id: int) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT model FROM usage WHERE session_id = ? AND model IS NOT NULL"
        " AND model != '<synthetic>' ORDER BY model", (session_id,))]


def recorded_cost(conn: sqlite3.Connection, session_id: int) -> float | None:
    """The session's cost from Claude Code's ``cost-state`` records, if it wrote any."""
    value = conn.execute("SELECT sum(cost_usd) FROM costs WHERE session_id = ?",
                         (session_id,)).fetchone()[0]
    return None if value is None else float(value)


class MessageUsage:
    __slots__ = ("cache_creation_tokens", "cache_read_tokens", "cost_usd", "input_tokens",
                 "message_id", "model", "output_tokens", "session_id")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.message_id, self.session_id, self.model, self.input_tokens, self.output_tokens,
         self.cache_creation_tokens, self.cache_read_tokens, self.cost_usd) = row

    message_id: str
    session_id: int
    model: str | None
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None
    """The message's own ``costUSD`` (older transcripts), else None."""


def messages(conn: sqlite3.Connection, session_id: int | None = None) -> list[MessageUsage]:
    """Each message's tokens, one row per message id (``<synthetic>`` ones are no spend):
    what is priced request by request (a long prompt costs more per token) and put on the
    day its transcript says, which only the transcript knows."""
    return [MessageUsage(row) for row in conn.execute(
        "SELECT message_id, session_id, model, input_tokens, output_tokens,"
        " cache_creation_tokens, cache_read_tokens, cost_usd FROM usage"
        f" WHERE (?1 IS NULL OR session_id = ?1) AND {_NOT_SYNTHETIC}", (session_id,))]


def recorded_costs(conn: sqlite3.Connection, session_id: int | None = None) -> dict[int, float]:
    """Per session, its total from Claude Code's ``cost-state`` records (sessions without one
    are left out): a recorded total wins over any estimate."""
    return {int(sid): float(cost) for sid, cost in conn.execute(
        "SELECT session_id, sum(cost_usd) FROM costs WHERE ?1 IS NULL OR session_id = ?1"
        " GROUP BY session_id", (session_id,))}


def delete_session(conn: sqlite3.Connection, session_id: int) -> None:
    """A session's tokens and recorded costs."""
    conn.execute("DELETE FROM usage WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM costs WHERE session_id = ?", (session_id,))
