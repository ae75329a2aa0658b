"""One session's facts as ``list`` and ``show`` report them, put together from its tables."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3
from . import branches, checkpoints, entries, files, sessions, usage


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
        "kind",
        "last_ts",
        "messages",
        "models",
        "origin_uuid",
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
        link = branches.of_session(conn, row.uuid)
        self.kind = "session" if link is None else link.kind
        """``session``, or ``branch``/``merge``: one session-core wrote (``store.branches``)."""
        self.origin_uuid = None if link is None else link.origin_uuid
        if link is not None:  # its copied records are its origin's: their times, no title
            self.last_ts = last_activity(row, link)
            self.title = copy_title(conn, link)
        self.messages, self.prompts, self.tool_calls = conversation_counts(conn, row)
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


_CHAIN = 16
"""Links followed back from a copy to the session its records came from, at most."""


def last_activity(row: sessions.SessionRow, link: branches.Link) -> str:
    """A session session-core wrote was active when it was made (its copied records carry
    their origin's times), or later when resumed; ``cleanup`` counts it so too."""
    return max(row.last_ts or "", link.created_at)


def copy_title(conn: sqlite3.Connection, link: branches.Link) -> str:
    """A branch or merge named for what it is and what it continues: its ``--name`` (a
    merge: its branch's), else its origin's title (its first prompt is the origin's). A
    session is named by its id's first 8 characters, a named branch by its name."""
    origin = _short_name(conn, link.origin_uuid)
    if link.kind == "merge":
        what = _short_name(conn, link.merged_uuid) if link.merged_uuid else "?"
        label, title = f"merge of {what} into {origin}", _origin_title(conn, link.origin_uuid)
    else:
        label = f"branch of {origin}"
        title = link.name or _origin_title(conn, link.origin_uuid)
    return f"{label}: {title}" if title else label


def _short_name(conn: sqlite3.Connection, uuid: str) -> str:
    link = branches.of_session(conn, uuid)
    return link.name if link is not None and link.name else uuid[:8]


def _origin_title(conn: sqlite3.Connection, uuid: str) -> str | None:
    for _ in range(_CHAIN):
        link = branches.of_session(conn, uuid)
        if link is None:
            row = sessions.row_of(conn, uuid)
            return row.title if row is not None else None
        uuid = link.origin_uuid  # a copy of a copy: its first prompt is further back
    return None


def conversation_counts(conn: sqlite3.Connection,
                        row: sessions.SessionRow) -> tuple[int, int, int]:
    """(messages, prompts, tool calls) of the session as its transcripts hold them (what
    ``list`` and ``show`` say, and the resume note). A session session-core wrote also holds
    the records it copied, indexed under the session they came from (``store.entries``
    dedups on keys); a merge's note is session-core's, not a prompt of the user's."""
    messages, prompts, tools = entries.counts(conn, row.session_id)
    link = branches.of_session(conn, row.uuid)
    if link is None:
        return messages, prompts, tools
    if link.kind == "merge" and entries.kind_at(conn, row.session_id, link.cut_bytes) \
            == "prompt":
        prompts -= 1
    before = link.cut_bytes  # the copy's bytes: the origin's, but for a moved cwd
    found = checkpoints.by_name(conn, link.checkpoint) if link.checkpoint else None
    if link.kind == "branch" and found is not None and found.session_uuid == link.origin_uuid:
        before = found.offset
    names = {record.rel_path.rsplit("/", 1)[-1] for record in files.of_session(
        conn, row.session_id) if record.kind != "session"}
    uuid: str | None = link.origin_uuid
    for _ in range(_CHAIN):
        origin = sessions.row_of(conn, uuid) if uuid else None
        if origin is None:
            break
        whole = [record.file_id for record in files.of_session(conn, origin.session_id)
                 if record.kind != "session" and record.rel_path.rsplit("/", 1)[-1] in names]
        more = entries.counts_before(conn, origin.session_id, before, whole)
        messages, prompts, tools = messages + more[0], prompts + more[1], tools + more[2]
        link = branches.of_session(conn, origin.uuid)  # a copy of a copy: further back
        if link is None:
            break
        if link.kind == "merge" and before > link.cut_bytes and entries.kind_at(
                conn, origin.session_id, link.cut_bytes) == "prompt":
            prompts -= 1
        uuid, before = link.origin_uuid, min(before, link.cut_bytes)
    return messages, prompts, tools


def list_sessions(conn: sqlite3.Connection, since: str | None = None,
                  branch: str | None = None, limit: int = 0) -> tuple[list[SessionSummary], int]:
    """Sessions that have a file of their own, newest activity first (a branch or merge: from
    when it was made), active since ``since`` and on ``branch`` when given; the first
    ``limit`` (0: all) summed up, and how many matched. A summary costs a few queries: at
    10,000 sessions, summing up all of them took 0.7 s."""
    made = {link.session_uuid: link for link in branches.every(conn)}
    every = sessions.with_files(conn)
    active = {row.uuid: last_activity(row, made[row.uuid]) if row.uuid in made
              else row.last_ts or "" for row in every}
    if made:  # with_files' order is by the rows' own times
        every.sort(key=lambda row: active[row.uuid], reverse=True)
    rows = [row for row in every
            if (since is None or active[row.uuid] >= since)
            and (branch is None or row.git_branch == branch)]
    return [SessionSummary(conn, row) for row in (rows[:limit] if limit else rows)], len(rows)


def session_summary(conn: sqlite3.Connection, ref: str) -> SessionSummary:
    return SessionSummary(conn, sessions.resolve(conn, ref))
