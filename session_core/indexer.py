"""From complete transcript lines to index rows, written in batches.

One row per message record, deduplicated on a 16-byte key (the record's ``uuid``, else the
line's hash) across every file of the archive. Rows are collected and written with
``executemany`` once per batch: statement-per-line cost more than parsing the line did.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .extract import Extracted, extract, make_title, usage_numbers
from .models import Message, Record, parse_record

_PROGRESS = b'"type":"progress"'
_INDEXED_MARKER = re.compile(rb'"type":(?:"(?:user|assistant|system|cost-state)"| )')
_TIMESTAMP = b'"timestamp":"'
BATCH_ENTRIES = 2000  # bounds memory on huge files; one flush per batch
_IN_LIMIT = 500  # host parameters per IN (...) query, well under SQLite's limit


def line_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def entry_key(record: Record, line: bytes) -> bytes:
    """16 bytes that identify a record across files: its uuid, else the line's own hash."""
    text = record.uuid
    if text:
        if len(text) == 36:  # the canonical form Claude Code writes; uuid.UUID() is 10x slower
            try:
                return bytes.fromhex(text.replace("-", ""))
            except ValueError:
                pass
        return line_hash(b"uuid:" + text.encode())
    return line_hash(line)


def is_plain_progress(line: bytes) -> bool:
    """A ``progress`` record that nests no message, told from the raw bytes without parsing.

    Half or more of a transcript's lines are ``progress`` records, and nothing in them is
    indexed. Claude Code writes compact JSON, so every record carries its own top-level
    ``"type":"X"``: a line with the progress marker and none of the markers of a type we index
    cannot be a record we index (escaped quotes inside strings never match). Lines that do not
    end like a JSON object are left to the parser, which reports them.
    """
    return (_PROGRESS in line and line.endswith((b"}", b"}\r"))
            and _INDEXED_MARKER.search(line) is None)


def progress_timestamp(line: bytes) -> str | None:
    """The record's own timestamp: Claude Code writes it as the last key."""
    start = line.rfind(_TIMESTAMP)
    if start < 0:
        return None
    start += len(_TIMESTAMP)
    end = line.find(b'"', start)
    value = line[start:end]
    return value.decode() if 19 <= len(value) <= 40 and value[:1].isdigit() else None


def ensure_session(conn: sqlite3.Connection, session_uuid: str) -> int:
    conn.execute("INSERT OR IGNORE INTO sessions(uuid) VALUES (?)", (session_uuid,))
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (session_uuid,)).fetchone()
    return int(row[0])


@dataclass
class SessionDelta:
    """What one batch learned about a session; merged into its row at flush."""

    first_ts: str | None = None
    last_ts: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    cc_version: str | None = None
    title: str | None = None

    def see_time(self, ts: object) -> None:
        if isinstance(ts, str) and ts:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts

    def see(self, record: Record) -> None:
        self.see_time(record.timestamp)
        if isinstance(record.cwd, str) and record.cwd:
            self.cwd = record.cwd
        if isinstance(record.gitBranch, str) and record.gitBranch:
            self.git_branch = record.gitBranch
        if isinstance(record.version, str) and record.version:
            self.cc_version = record.version


@dataclass
class _Pending:
    key: bytes
    session: str
    offset: int
    length: int
    record: Record
    extracted: Extracted


@dataclass
class IndexTarget:
    """The file being indexed: its row and the session its records default to."""

    file_id: int
    generation: int
    session_uuid: str
    session_id: int
    path: Path


@dataclass
class _Batch:
    entries: list[_Pending] = field(default_factory=list)
    costs: list[tuple[str, int, float]] = field(default_factory=list)
    deltas: dict[str, SessionDelta] = field(default_factory=dict)
    first_progress: bytes = b""
    last_progress: bytes = b""


Submit = Callable[[Callable[[sqlite3.Connection], None]], None]


class Indexer:
    """Parses lines (no database access) and hands each batch to ``submit`` for writing.

    ``submit`` runs the write now, or queues it for the one thread that owns the connection
    while this thread parses on; either way batches are written in order.
    """

    def __init__(self, target: IndexTarget, tool_text_chars: int, submit: Submit) -> None:
        self.target = target
        self.tool_text_chars = tool_text_chars
        self.submit = submit
        self.batch = _Batch()
        self.keys: set[bytes] = set()
        self.session_ids: dict[str, int] = {target.session_uuid: target.session_id}
        self.new_entries = 0
        self.bad_lines: list[tuple[int, str]] = []

    def _delta(self, session: str) -> SessionDelta:
        delta = self.batch.deltas.get(session)
        if delta is None:
            delta = self.batch.deltas[session] = SessionDelta()
        return delta

    def line(self, offset: int, line: bytes) -> None:
        if is_plain_progress(line):
            # Lines are appended in time order: the batch's first and last carry its span.
            if not self.batch.first_progress:
                self.batch.first_progress = line
            self.batch.last_progress = line
            return
        if not line or line.isspace():
            return
        try:
            record = parse_record(line)
        except ValidationError as exc:
            self.bad_lines.append((offset, str(exc.errors()[0].get("msg", "invalid"))))
            return
        session = record.sessionId or self.target.session_uuid
        self._delta(session).see(record)
        if record.type == "cost-state":
            cost, start = record.totalCostUSD, record.startTime
            if isinstance(cost, (int, float)) and isinstance(start, (int, float)):
                self.batch.costs.append((session, int(start), float(cost)))
            return
        extracted = extract(record, self.tool_text_chars)
        if extracted is None:
            return
        key = entry_key(record, line)
        if key in self.keys:
            return
        self.keys.add(key)
        self.batch.entries.append(_Pending(key, session, offset, len(line), record, extracted))
        if len(self.batch.entries) >= BATCH_ENTRIES:
            self.flush()

    def flush(self) -> None:
        for line in (self.batch.first_progress, self.batch.last_progress):
            if line:
                self._delta(self.target.session_uuid).see_time(progress_timestamp(line))
        batch, self.batch, self.keys = self.batch, _Batch(), set()
        self.submit(lambda conn: self._write(conn, batch))

    # Below: runs on whichever thread owns the connection, one batch at a time, in order.

    def _write(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """Entries not archived yet (resume, fork and re-import repeat them), their words and
        usage, recorded costs, and what the sessions learned."""
        existing = _existing(conn, [p.key for p in batch.entries])
        fresh = [p for p in batch.entries if p.key not in existing]
        if fresh:
            self._write_entries(conn, fresh, batch.deltas)
        if batch.costs:
            conn.executemany(
                "INSERT INTO costs(session_id, start_time, cost_usd) VALUES (?,?,?)"
                " ON CONFLICT(session_id, start_time) DO UPDATE SET cost_usd=excluded.cost_usd",
                [(self._session_id(conn, s), start, cost) for s, start, cost in batch.costs])
        for session, d in batch.deltas.items():
            conn.execute(
                "UPDATE sessions SET"
                " first_ts = CASE WHEN first_ts IS NULL OR first_ts > ?1 THEN ?1 ELSE first_ts END,"
                " last_ts = CASE WHEN last_ts IS NULL OR last_ts < ?2 THEN ?2 ELSE last_ts END,"
                " cwd = coalesce(?3, cwd), git_branch = coalesce(?4, git_branch),"
                " cc_version = coalesce(?5, cc_version), title = coalesce(title, ?6)"
                " WHERE id = ?7",
                (d.first_ts, d.last_ts, d.cwd, d.git_branch, d.cc_version, d.title,
                 self._session_id(conn, session)),
            )

    def _session_id(self, conn: sqlite3.Connection, session: str) -> int:
        known = self.session_ids.get(session)
        if known is None:
            known = self.session_ids[session] = ensure_session(conn, session)
        return known

    def _write_entries(self, conn: sqlite3.Connection, fresh: list[_Pending],
                       deltas: dict[str, SessionDelta]) -> None:
        target = self.target
        # We hold the write lock (BEGIN IMMEDIATE), so max(id) is ours to extend.
        next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
        rows, words = [], []
        usage: dict[str, tuple[object, ...]] = {}
        for number, p in enumerate(fresh, start=next_id):
            rec, ext = p.record, p.extracted
            session_id = self._session_id(conn, p.session)
            rows.append((number, p.key, session_id, target.file_id, target.generation,
                         p.offset, p.length, ext.role, ext.kind,
                         rec.timestamp if isinstance(rec.timestamp, str) else None,
                         ",".join(ext.tools) or None, 1 if rec.isSidechain else 0))
            if ext.text:
                words.append((number, ext.text))
            delta = deltas[p.session]
            if ext.prompt and delta.title is None and not rec.isSidechain:
                delta.title = make_title(ext.prompt)
            message = rec.message
            if rec.type == "assistant" and isinstance(message, Message) and isinstance(
                    message.id, str):
                # Every content block repeats the message's usage; the last line is final.
                usage[message.id] = _usage_row(session_id, rec, message)
        conn.executemany(
            "INSERT INTO entries(id, key, session_id, file_id, generation, offset, length, role,"
            " kind, ts, tools, sidechain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO entries_fts(rowid, text) VALUES (?, ?)", words)
        conn.executemany(
            "INSERT INTO usage(message_id, session_id, model, input_tokens, output_tokens,"
            " cache_creation_tokens, cache_read_tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT(message_id) DO UPDATE SET model=excluded.model,"
            " input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens,"
            " cache_creation_tokens=excluded.cache_creation_tokens,"
            " cache_read_tokens=excluded.cache_read_tokens,"
            " cost_usd=coalesce(excluded.cost_usd, cost_usd)",
            [(mid, *row) for mid, row in usage.items()])
        self.new_entries += len(rows)


def _existing(conn: sqlite3.Connection, keys: list[bytes]) -> set[bytes]:
    found: set[bytes] = set()
    for start in range(0, len(keys), _IN_LIMIT):
        part = keys[start:start + _IN_LIMIT]
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in conn.execute(
            f"SELECT key FROM entries WHERE key IN ({marks})", part))
    return found


def _usage_row(session_id: int, record: Record, message: Message) -> tuple[object, ...]:
    numbers = usage_numbers(message.usage) or (0, 0, 0, 0)
    model = message.model if isinstance(message.model, str) else None
    cost = record.costUSD if isinstance(record.costUSD, (int, float)) else None
    return (session_id, model, *numbers, cost)
