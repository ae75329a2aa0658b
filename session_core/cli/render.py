"""Human-readable renderings for the CLI; JSON output uses the dataclasses directly."""

from __future__ import annotations

import os
from typing import Any

from ..base.clock import local_time
from ..base.sqlite_driver import sqlite3
from ..base.text import clip
from ..store import entries, files, frames, meta
from ..store.archive import Archive
from ..store.migrations import LATEST_VERSION
from ..store.summary import SessionSummary
from .conversation import conversation
from .readable import prepare, printable, read_session
from .session_facts import cost as session_cost
from .session_facts import message_counts


def _short(text: str | None, width: int) -> str:
    return clip(text or "", width, flatten=True, ellipsis=True)


def render_age(seconds: float, words: bool = False) -> str:
    """How long ago: ``3d`` for a table column, ``3 days`` in a sentence (``words``)."""
    seconds = max(0.0, seconds)
    units = (("days", 86400), ("hours", 3600), ("minutes", 60)) if words else \
        (("d", 86400), ("h", 3600), ("m", 60))
    for unit, size in units:
        if seconds >= (2 * size if words else size):
            return f"{seconds / size:.0f} {unit}" if words else f"{int(seconds // size)}{unit}"
    return f"{seconds / 60:.0f} minutes" if words else f"{int(seconds)}s"


def render_sessions(listed: list[SessionSummary]) -> str:
    if not listed:
        return "No sessions archived yet. Run 'session-core import'."
    lines = [f"{'SESSION':36}  {'LAST ACTIVITY':23}  {'PROMPTS':>7}  {'MSGS':>5}"
             f"  {'COST':>8}  {'BRANCH':16}  TITLE"]
    for s in listed:
        when = local_time(s.last_ts)  # with its zone: the reader's, as show and the pages
        cost = session_cost(s)
        lines.append(f"{s.uuid:36}  {when:23}  {s.prompts:>7}  {s.messages:>5}  {cost:>8}"
                     f"  {_short(s.git_branch or '-', 16):16}  {_short(s.title, 50)}")
    return "\n".join(lines)


def render_session(conn: sqlite3.Connection, s: SessionSummary, first: int = 0,
                   last: int = 0) -> str:
    head = [
        f"Session   {s.uuid}",
        f"Title     {_short(printable(s.title or ''), 100)}",
        f"Project   {printable(s.cwd or '-')}  (branch {printable(s.git_branch or '-')})",
        f"Time      {local_time(s.first_ts)} to {local_time(s.last_ts)}",
        f"Claude    {printable(s.cc_version or '-')}; models"
        f" {printable(', '.join(s.models) or '-')}",
        f"Messages  {message_counts(s)}",
        f"Tokens    in {s.input_tokens:,}  out {s.output_tokens:,}  cache write"
        f" {s.cache_creation_tokens:,}  cache read {s.cache_read_tokens:,}",
        f"Cost      {session_cost(s)}"
        f"{' (estimated from list prices)' if s.cost_estimated and s.cost_usd else ''}",
        "",
    ]
    read = prepare(read_session(conn, s.uuid))
    return "\n".join(head + conversation(read, first, last))


def status_data(archive: Archive, conn: sqlite3.Connection) -> dict[str, Any]:
    path = archive.db.path
    parts = [path + suffix for suffix in ("", "-wal")]
    size = sum(os.path.getsize(name) for name in parts if os.path.exists(name))
    raw, stored = frames.totals(conn)
    return {
        "database": str(path),
        "size_bytes": size,
        "sessions": files.count_sessions(conn),
        "files": files.count(conn),
        "messages": entries.count(conn),
        "raw_bytes": raw,
        "compressed_bytes": stored,
        "last_ingest": meta.get(conn, meta.LAST_INGEST),
        "schema_version": archive.db.user_version(),
        "schema_latest": LATEST_VERSION,
    }


def render_status(data: dict[str, Any]) -> str:
    ratio = data["raw_bytes"] / data["compressed_bytes"] if data["compressed_bytes"] else 0
    return "\n".join([
        f"Database     {data['database']}",
        f"Size         {data['size_bytes']:,} bytes",
        f"Sessions     {data['sessions']}  ({data['files']} files)",
        f"Messages     {data['messages']:,}",
        f"Transcripts  {data['raw_bytes']:,} bytes kept in {data['compressed_bytes']:,}"
        f" ({ratio:.1f}x)",
        f"Last ingest  {data['last_ingest'] or 'never'}",
        f"Schema       v{data['schema_version']} (latest known v{data['schema_latest']})",
    ])
