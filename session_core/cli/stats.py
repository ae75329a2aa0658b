"""``session-core stats [SESSION] [--since DATE] [--json] [--html FILE]``: what the archived
sessions of a project (or one session) add up to: active time, turns, tokens and cost by day
and by model, tool use, the files changed most.

Tokens are counted once per ``message.id`` (``store.usage``). A cost Claude Code recorded (its
``cost-state`` total, or an older transcript's ``costUSD``) wins; otherwise each request is
priced from the list prices of ``base.pricing``, and the result says it is an estimate. A
model without a price is counted in tokens and shown as "no price", never guessed.

Days are local. The usage rows have no time of their own: a session within one local day and
within ``--since`` is put on that day from its entries' times; only a session that spans days
(or the ``--since`` time) has its messages' times read back from its transcript.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from ..base.errors import ExitCode
from ..base.fs import AtomicFile
from ..base.pricing import PRICES_AS_OF, estimate_usd
from ..base.text import short_path
from ..store import entries, files, frames, recall, sessions, usage
from ..store.archive import Archive
from ..store.usage import MessageUsage
from ..transcript.records import RecordError, is_message, parse_record
from .search import utc_day

IDLE_CUTOFF_SECONDS = 300
"""A gap between two messages counts up to this much active time: reading a reply or
thinking counts, a laptop left open overnight does not."""
TOP_TOOLS = 20
TOP_FILES = 15
NO_MODEL = "(no model named)"


class Spend:
    """Tokens and cost of a group of messages; the cost in the parts Claude Code recorded and
    the parts estimated, so an output can say which it is."""

    __slots__ = ("cache_creation_tokens", "cache_read_tokens", "estimated_usd", "input_tokens",
                 "messages", "output_tokens", "priced", "recorded_usd", "unpriced")

    def __init__(self) -> None:
        self.messages = self.priced = self.unpriced = 0
        self.input_tokens = self.output_tokens = 0
        self.cache_creation_tokens = self.cache_read_tokens = 0
        self.recorded_usd = self.estimated_usd = 0.0

    def add(self, message: MessageUsage, cost: float | None, estimated: bool) -> None:
        self.messages += 1
        self.input_tokens += message.input_tokens
        self.output_tokens += message.output_tokens
        self.cache_creation_tokens += message.cache_creation_tokens
        self.cache_read_tokens += message.cache_read_tokens
        if cost is None:
            self.unpriced += 1
            return
        self.priced += 1
        if estimated:
            self.estimated_usd += cost
        else:
            self.recorded_usd += cost

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "tokens": self.input_tokens + self.output_tokens + self.cache_creation_tokens
            + self.cache_read_tokens,
            "cost_usd": round(self.recorded_usd + self.estimated_usd, 6) if self.priced else None,
            "cost_recorded_usd": round(self.recorded_usd, 6),
            "cost_estimated_usd": round(self.estimated_usd, 6),
            "cost_estimated": self.estimated_usd > 0,
            "unpriced_messages": self.unpriced,
        }


@lru_cache(maxsize=8192)
def local_day(stamp: str) -> str:
    """A stored UTC time's date where the user is (the TZ of this process, as SQLite's
    ``localtime`` has it for the entries' days)."""
    when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().date().isoformat()


def message_costs(messages: list[MessageUsage],
                  recorded_total: float | None) -> list[tuple[float | None, bool]]:
    """(cost, estimated) of each of a session's messages. A ``cost-state`` total is Claude
    Code's own: it is shared among the messages (by their list price, or by tokens when a
    model has no price) so that days and models add up to it."""
    estimates = [estimate_usd(m.model, m.input_tokens, m.output_tokens,
                              m.cache_creation_tokens, m.cache_read_tokens) for m in messages]
    if recorded_total is None:
        return [(m.cost_usd, False) if m.cost_usd is not None else (e, e is not None)
                for m, e in zip(messages, estimates, strict=True)]
    priced = [e for e in estimates if e is not None]
    weights = priced if len(priced) == len(messages) and sum(priced) > 0 else [
        float(m.input_tokens + m.output_tokens + m.cache_creation_tokens + m.cache_read_tokens)
        for m in messages]
    total = sum(weights)
    return [(recorded_total * (w / total if total else 1 / len(messages)), False)
            for w in weights]


def message_times(archive: Archive, session_id: int) -> dict[str, str]:
    """Each message id's time, read back from the session's transcripts (the last line of a
    message wins, as in ``store.usage``)."""
    conn = archive.db.conn
    times: dict[str, str] = {}
    for record in files.of_session(conn, session_id):
        if not record.line_mode:
            continue
        for line in frames.read_lines(conn, record):
            if b'"usage"' not in line or b'"assistant"' not in line:
                continue
            try:
                parsed = parse_record(line)
            except RecordError:
                continue
            message = parsed.message
            if parsed.type == "assistant" and is_message(message) and \
                    isinstance(message.id, str) and isinstance(parsed.timestamp, str):
                times[message.id] = parsed.timestamp
    return times


def day_of_message(archive: Archive, session_id: int, span: tuple[str, str],
                   since: str | None) -> Callable[[str], str | None]:
    """How to find a message's local day (None: before ``since``). A session inside one day
    and wholly in range needs no look at its transcript."""
    first, last = span
    if local_day(first) == local_day(last) and (since is None or first >= since):
        return lambda message_id: local_day(last)
    times = message_times(archive, session_id)

    def day(message_id: str) -> str | None:
        stamp = times.get(message_id, last)
        return None if since is not None and stamp < since else local_day(stamp)
    return day


class Gathered:
    __slots__ = ("by_day", "by_model", "total")

    def __init__(self) -> None:
        self.total = Spend()
        self.by_day: dict[str, Spend] = {}
        self.by_model: dict[str, Spend] = {}

    def add(self, day: str, message: MessageUsage, cost: float | None, estimated: bool) -> None:
        model = message.model or NO_MODEL
        for spend in (self.total, self.by_day.setdefault(day, Spend()),
                      self.by_model.setdefault(model, Spend())):
            spend.add(message, cost, estimated)


def spending(archive: Archive, session_id: int | None, since: str | None) -> Gathered:
    """Every message in range, priced and put on its day and model."""
    conn = archive.db.conn
    spans = entries.spans(conn, None, session_id)
    recorded = usage.recorded_costs(conn, session_id)
    by_session: dict[int, list[MessageUsage]] = {}
    for message in usage.messages(conn, session_id):
        by_session.setdefault(message.session_id, []).append(message)
    gathered = Gathered()
    for sid, messages in sorted(by_session.items()):
        span = spans.get(sid)
        if span is None or (since is not None and span[1] < since):
            continue
        day = day_of_message(archive, sid, span, since)
        for message, (cost, estimated) in zip(
                messages, message_costs(messages, recorded.get(sid)), strict=True):
            when = day(message.message_id)
            if when is not None:
                gathered.add(when, message, cost, estimated)
    return gathered


def _by_cost(item: tuple[str, Spend]) -> tuple[float, int, str]:
    spend = item[1]
    return (-(spend.recorded_usd + spend.estimated_usd),
            -(spend.input_tokens + spend.output_tokens + spend.cache_creation_tokens
              + spend.cache_read_tokens), item[0])


def gather(archive: Archive, session_ref: str | None, since: str | None) -> dict[str, Any]:
    """Everything ``stats`` reports, as ``--json`` prints it (README, "stats")."""
    conn = archive.db.conn
    session = sessions.resolve(conn, session_ref) if session_ref else None
    session_id = session.session_id if session else None
    days = {d.day: d for d in entries.activity_by_day(conn, IDLE_CUTOFF_SECONDS, since,
                                                        session_id)}
    spent = spending(archive, session_id, since)
    by_day = []
    for day in sorted(set(days) | set(spent.by_day)):
        activity = days.get(day)
        by_day.append({"day": day, "sessions": activity.sessions if activity else 0,
                       "active_seconds": round(activity.active_seconds if activity else 0.0),
                       "turns": activity.prompts if activity else 0,
                       **spent.by_day.get(day, Spend()).as_dict()})
    return {
        "project": archive.project,
        "session": session.uuid if session else None,
        "since": since,
        "idle_cutoff_seconds": IDLE_CUTOFF_SECONDS,
        "prices_as_of": PRICES_AS_OF,
        "totals": {"sessions": len(entries.spans(conn, since, session_id)),
                   "active_seconds": sum(d["active_seconds"] for d in by_day),
                   "turns": sum(d["turns"] for d in by_day), **spent.total.as_dict()},
        "by_day": by_day,
        "by_model": [{"model": model, **spend.as_dict()}
                     for model, spend in sorted(spent.by_model.items(), key=_by_cost)],
        "tools": [{"tool": tool, "calls": calls} for tool, calls in list(
            entries.tool_uses(conn, since, session_id).items())[:TOP_TOOLS]],
        "files": [{"path": f.path, "file": short_path(f.path, archive.project),
                   "edits": f.edits, "sessions": f.sessions, "last_changed": f.last_at}
                  for f in recall.most_changed(conn, since, session_id, TOP_FILES)],
    }


def cmd_stats(archive: Archive, args: argparse.Namespace) -> int:
    from .stats_text import render_stats

    since = utc_day(args.since, "since")
    with archive.db.read():
        data = gather(archive, args.session, since)
    if args.html:
        from .stats_page import render_page

        with AtomicFile(args.html) as out:
            out.write(render_page(data).encode("utf-8"))
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif not args.html:
        print(render_stats(data))
    if args.html:
        print(f"Wrote the report to {args.html}", file=sys.stderr if args.json else sys.stdout)
    return ExitCode.OK
