"""From complete transcript lines to index rows, written in batches.

One row per message record, deduplicated on a 16-byte key (the record's ``uuid``, else the
line's hash) across every file of the archive. Rows are collected and written with
``executemany`` once per batch: statement-per-line cost more than parsing the line did.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
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
    session_id: int
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


class Indexer:
    def __init__(self, conn: sqlite3.Connection, target: IndexTarget, tool_text_chars: int,
                 ) -> None:
        self.conn = conn
        self.target = target
        self.tool_text_chars = tool_text_chars
        self.sessions: dict[str, int] = {target.session_uuid: target.session_id}
        self.deltas: dict[int, SessionDelta] = {}
        self.pending: list[_Pending] = []
        self.keys: set[bytes] = set()
        self.new_entries = 0
        self.bad_lines: list[tuple[int, str]] = []

    def _session_id(self, session_uuid: str) -> int:
        known = self.sessions.get(session_uuid)
        if known is None:
            known = self.sessions[session_uuid] = ensure_session(self.conn, session_uuid)
        return known

    def _delta(self, session_id: int) -> SessionDelta:
        delta = self.deltas.get(session_id)
        if delta is None:
            delta = self.deltas[session_id] = SessionDelta()
        return delta

    def line(self, offset: int, line: bytes) -> None:
        if is_plain_progress(line):
            self._delta(self.target.session_id).see_time(progress_timestamp(line))
            return
        if not line.strip():
            return
        try:
            record = parse_record(line)
        except ValidationError as exc:
            self.bad_lines.append((offset, str(exc.errors()[0].get("msg", "invalid"))))
            return
        session_id = self._session_id(record.sessionId or self.target.session_uuid)
        self._delta(session_id).see(record)
        if record.type == "cost-state":
            self._cost(session_id, record)
            return
        extracted = extract(record, self.tool_text_chars)
        if extracted is None:
            return
        key = entry_key(record, line)
        if key in self.keys:
            return
        self.keys.add(key)
        self.pending.append(_Pending(key, session_id, offset, len(line), record, extracted))
        if len(self.pending) >= BATCH_ENTRIES:
            self.flush()

    def _cost(self, session_id: int, record: Record) -> None:
        cost, start = record.totalCostUSD, record.startTime
        if isinstance(cost, (int, float)) and isinstance(start, (int, float)):
            self.conn.execute(
                "INSERT INTO costs(session_id, start_time, cost_usd) VALUES (?,?,?)"
                " ON CONFLICT(session_id, start_time) DO UPDATE SET cost_usd=excluded.cost_usd",
                (session_id, int(start), float(cost)),
            )

    def _existing(self, keys: list[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for start in range(0, len(keys), _IN_LIMIT):
            part = keys[start:start + _IN_LIMIT]
            marks = ",".join("?" * len(part))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT key FROM entries WHERE key IN ({marks})", part))
        return found

    def flush(self) -> None:
        """Write the batch: entries not archived yet (resume, fork and re-import repeat them),
        their words, their usage, and what the sessions learned."""
        existing = self._existing([p.key for p in self.pending])
        fresh = [p for p in self.pending if p.key not in existing]
        self.pending = []
        self.keys = set()
        if fresh:
            self._write_entries(fresh)
        self._write_sessions()

    def _write_entries(self, fresh: list[_Pending]) -> None:
        target = self.target
        # We hold the write lock (BEGIN IMMEDIATE), so max(id) is ours to extend.
        next_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
        rows, words = [], []
        usage: dict[str, tuple[object, ...]] = {}
        for number, p in enumerate(fresh, start=next_id):
            rec, ext = p.record, p.extracted
            rows.append((number, p.key, p.session_id, target.file_id, target.generation,
                         p.offset, p.length, ext.role, ext.kind,
                         rec.timestamp if isinstance(rec.timestamp, str) else None,
                         ",".join(ext.tools) or None, 1 if rec.isSidechain else 0))
            if ext.text:
                words.append((number, ext.text))
            delta = self.deltas[p.session_id]
            if ext.prompt and delta.title is None and not rec.isSidechain:
                delta.title = make_title(ext.prompt)
            message = rec.message
            if rec.type == "assistant" and isinstance(message, Message) and isinstance(
                    message.id, str):
                # Every content block repeats the message's usage; the last line is final.
                usage[message.id] = _usage_row(p.session_id, rec, message)
        self.conn.executemany(
            "INSERT INTO entries(id, key, session_id, file_id, generation, offset, length, role,"
            " kind, ts, tools, sidechain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.conn.executemany("INSERT INTO entries_fts(rowid, text) VALUES (?, ?)", words)
        self.conn.executemany(
            "INSERT INTO usage(message_id, session_id, model, input_tokens, output_tokens,"
            " cache_creation_tokens, cache_read_tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT(message_id) DO UPDATE SET model=excluded.model,"
            " input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens,"
            " cache_creation_tokens=excluded.cache_creation_tokens,"
            " cache_read_tokens=excluded.cache_read_tokens,"
            " cost_usd=coalesce(excluded.cost_usd, cost_usd)",
            [(mid, *row) for mid, row in usage.items()])
        self.new_entries += len(rows)

    def _write_sessions(self) -> None:
        for session_id, d in self.deltas.items():
            self.conn.execute(
                "UPDATE sessions SET"
                " first_ts = CASE WHEN first_ts IS NULL OR first_ts > ?1 THEN ?1 ELSE first_ts END,"
                " last_ts = CASE WHEN last_ts IS NULL OR last_ts < ?2 THEN ?2 ELSE last_ts END,"
                " cwd = coalesce(?3, cwd), git_branch = coalesce(?4, git_branch),"
                " cc_version = coalesce(?5, cc_version), title = coalesce(title, ?6)"
                " WHERE id = ?7",
                (d.first_ts, d.last_ts, d.cwd, d.git_branch, d.cc_version, d.title, session_id),
            )
        self.deltas = {}


def _usage_row(session_id: int, record: Record, message: Message) -> tuple[object, ...]:
    numbers = usage_numbers(message.usage) or (0, 0, 0, 0)
    model = message.model if isinstance(message.model, str) else None
    cost = record.costUSD if isinstance(record.costUSD, (int, float)) else None
    return (session_id, model, *numbers, cost)
