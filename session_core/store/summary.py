"""One session's facts as ``list`` and ``show`` report them, put together from its tables."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3
from . import entries, files, sessions, usage


class SessionSummary:
    """A plain class with the fields in the order ``--json`` prints them."""

    __slots__ = (
        "assistant_messages",
        "cache_creation_tokens",
        "cache_read_tokens",
        "cc_version",
        "cost_estimated",
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

    def __init__(self, conn: sqlite3.Connection, row: sessions.SessionRow) -> None:
        sid = row.session_id
        self.uuid, self.cwd, self.git_branch, self.cc_version = (row.uuid, row.cwd,
                                                                 row.git_branch, row.cc_version)
        self.first_ts, self.last_ts, self.title = row.first_ts, row.last_ts, row.title
        self.messages, self.prompts, self.tool_calls = entries.counts(conn, sid)
        spent = usage.totals(conn, sid)
        self.assistant_messages = spent.messages
        self.input_tokens, self.output_tokens = spent.input_tokens, spent.output_tokens
        self.cache_creation_tokens = spent.cache_creation_tokens
        self.cache_read_tokens = spent.cache_read_tokens
        self.models = usage.models(conn, sid)
        recorded = usage.recorded_cost(conn, sid)
        self.cost_usd = recorded if recorded is not None else spent.cost_usd
        # Nothing recorded: an estimate from list prices (None if no model has a price).
        self.cost_estimated = self.cost_usd is None and spent.messages > 0
        if self.cost_estimated:
            self.cost_usd = estimated_cost(conn, sid)
        self.subagent_files = files.count_of_kind(conn, sid, "subagent")

    def as_dict(self) -> dict[str, object]:
        """Every field, in declaration order (``--json`` output)."""
        return {name: getattr(self, name) for name in self.__slots__}


def estimated_cost(conn: sqlite3.Connection, session_id: int) -> float | None:
    """The session at list prices, request by request (a long prompt is priced as one);
    messages of a model without a price add nothing, and None if none had one."""
    from ..base.pricing import estimate_usd

    prices = [estimate_usd(m.model, m.input_tokens, m.output_tokens, m.cache_creation_tokens,
                           m.cache_read_tokens) for m in usage.messages(conn, session_id)]
    priced = [p for p in prices if p is not None]
    return sum(priced) if priced else None


def list_sessions(conn: sqlite3.Connection, since: str | None = None,
                  branch: str | None = None, limit: int = 0) -> tuple[list[SessionSummary], int]:
    """Sessions that have a file of their own, newest activity first, active since ``since``
    and on ``branch`` when given; the first ``limit`` (0: all) summed up, and how many matched.
    A summary costs a few queries: at 10,000 sessions, summing up all of them took 0.7 s."""
    rows = [row for row in sessions.with_files(conn)
            if (since is None or (row.last_ts or "") >= since)
            and (branch is None or row.git_branch == branch)]
    return [SessionSummary(conn, row) for row in (rows[:limit] if limit else rows)], len(rows)


def session_summary(conn: sqlite3.Connection, ref: str) -> SessionSummary:
    return SessionSummary(conn, sessions.resolve(conn, ref))
