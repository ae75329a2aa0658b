"""From complete transcript lines to index rows, written in batches.

One row per message record, deduplicated on a 16-byte key (the record's ``uuid``, else the
line's hash) across every file of the archive. Rows are collected and written with
``executemany`` once per batch: statement-per-line cost more than parsing the line did.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable

try:  # hashlib.blake2b is this object; importing hashlib also loads OpenSSL (~3 ms per hook)
    from _blake2 import blake2b
except ImportError:  # not CPython
    from hashlib import blake2b

from .extract import Extracted, extract, make_title, usage_numbers
from .models import Record, RecordError, is_message, parse_record

_PROGRESS = b'"type":"progress"'
_TYPE_KEY = b'"type":'
_INDEXED_TYPES = (b'"user"', b'"assistant"', b'"system"', b'"cost-state"', b" ")
_TIMESTAMP = b'"timestamp":"'
_TYPE_WINDOW = 1024
BATCH_ENTRIES = 2000  # bounds memory on huge files; one flush per batch


def line_hash(data: bytes) -> bytes:
    return blake2b(data, digest_size=16).digest()


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
    # The top-level type comes in the first few hundred bytes; looking only there keeps the
    # check cheap on long message lines and can only make us parse more, never skip more.
    return (line.find(_PROGRESS, 0, _TYPE_WINDOW) >= 0 and line.endswith((b"}", b"}\r"))
            and not (_names_an_indexed_type or _pick_type_finder())(line))


_names_an_indexed_type: Callable[[bytes], bool] | None = None
"""Any ``"type":`` followed by a type we index, or by a space (not compact JSON: parse)."""


def _pick_type_finder() -> Callable[[bytes], bool]:
    """A regex where ``re`` is loaded anyway (the CLI: twice as fast per line on bulk imports),
    else a loop over ``find``: a hook parses a few lines, not worth ~2 ms of importing ``re``.
    Both give the same answers (tests/test_parsing.py)."""
    global _names_an_indexed_type
    if "re" in sys.modules:
        import re

        pattern = re.compile(rb'"type":(?:"(?:user|assistant|system|cost-state)"| )')
        _names_an_indexed_type = lambda line: pattern.search(line) is not None  # noqa: E731
    else:
        _names_an_indexed_type = find_indexed_type
    return _names_an_indexed_type


def find_indexed_type(line: bytes) -> bool:
    """:data:`_names_an_indexed_type` without ``re``: progress lines hold few ``"type":``."""
    at = line.find(_TYPE_KEY)
    while at >= 0:
        at += len(_TYPE_KEY)
        if line.startswith(_INDEXED_TYPES, at):
            return True
        at = line.find(_TYPE_KEY, at)
    return False


def progress_timestamp(line: bytes) -> str | None:
    """The record's own timestamp: Claude Code writes it as the last key."""
    start = line.rfind(_TIMESTAMP)
    if start < 0:
        return None
    start += len(_TIMESTAMP)
    end = line.find(b'"', start)
    value = line[start:end]
    if 19 <= len(value) <= 40 and value[:1].isdigit() and value.isascii():
        return value.decode("ascii")
    return None


def ensure_session(conn: sqlite3.Connection, session_uuid: str) -> int:
    conn.execute("INSERT OR IGNORE INTO sessions(uuid) VALUES (?)", (session_uuid,))
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (session_uuid,)).fetchone()
    return int(row[0])


class SessionDelta:
    """What one batch learned about a session; merged into its row at flush."""

    __slots__ = ("cc_version", "cwd", "first_ts", "git_branch", "last_ts", "title")

    def __init__(self) -> None:
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        self.cwd: str | None = None
        self.git_branch: str | None = None
        self.cc_version: str | None = None
        self.title: str | None = None

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


class PendingEntry:
    """One message record ready to be written: plain values, so a batch pickles cheaply."""

    __slots__ = (
        "key",
        "kind",
        "length",
        "offset",
        "prompt",
        "role",
        "session",
        "sidechain",
        "text",
        "tools",
        "ts",
        "usage",
    )

    def __init__(self, key: bytes, session: str, offset: int, length: int, role: str, kind: str,
                 ts: str | None, tools: str | None, sidechain: int, text: str,
                 prompt: str | None, usage: tuple[object, ...] | None) -> None:
        self.key, self.session, self.offset, self.length = key, session, offset, length
        self.role, self.kind, self.ts, self.tools = role, kind, ts, tools
        self.sidechain, self.text, self.prompt = sidechain, text, prompt
        self.usage = usage  # (message_id, model, in, out, cache write, read, cost)


class Batch:
    __slots__ = ("costs", "deltas", "entries", "first_progress", "last_progress")

    def __init__(self) -> None:
        self.entries: list[PendingEntry] = []
        self.costs: list[tuple[str, int, float]] = []
        self.deltas: dict[str, SessionDelta] = {}
        self.first_progress = b""
        self.last_progress = b""


class Indexer:
    """Parses complete lines into batches; never touches the database.

    Each full batch goes to ``emit`` (in practice a :class:`BatchWriter`), so a huge file is
    written batch by batch instead of held in memory.
    """

    def __init__(self, default_session: str, tool_text_chars: int,
                 emit: Callable[[Batch], None],
                 parse: Callable[[bytes], Record] = parse_record) -> None:
        self.default_session = default_session
        self.parse = parse
        self.tool_text_chars = tool_text_chars
        self.emit = emit
        self.batch = Batch()
        self.keys: set[bytes] = set()
        self.bad_lines: list[tuple[int, str]] = []
        self.first_session: tuple[str, bool] | None = None  # (sessionId, sidechain agent)

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
            record = self.parse(line)
        except RecordError as exc:
            self.bad_lines.append((offset, str(exc)))
            return
        session = record.sessionId or self.default_session
        if self.first_session is None and record.sessionId:
            self.first_session = (record.sessionId,
                                  bool(record.isSidechain) and bool(record.agentId))
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
        self.batch.entries.append(_pending(key, session, offset, line, record, extracted))
        if len(self.batch.entries) >= BATCH_ENTRIES:
            self.flush()

    def flush(self) -> None:
        for line in (self.batch.first_progress, self.batch.last_progress):
            if line:
                self._delta(self.default_session).see_time(progress_timestamp(line))
        batch, self.batch, self.keys = self.batch, Batch(), set()
        if batch.entries or batch.costs or batch.deltas:
            self.emit(batch)


def _pending(key: bytes, session: str, offset: int, line: bytes, record: Record,
             extracted: Extracted) -> PendingEntry:
    usage = None
    message = record.message
    if record.type == "assistant" and is_message(message) and isinstance(
            message.id, str):
        numbers = usage_numbers(message.usage) or (0, 0, 0, 0)
        usage = (message.id, message.model if isinstance(message.model, str) else None,
                 *numbers, record.costUSD if isinstance(record.costUSD, (int, float)) else None)
    return PendingEntry(
        key, session, offset, len(line), extracted.role, extracted.kind,
        record.timestamp if isinstance(record.timestamp, str) else None,
        ",".join(extracted.tools) or None, 1 if record.isSidechain else 0,
        extracted.text, None if record.isSidechain else extracted.prompt, usage)


class BatchWriter:
    """Writes batches of one file into the archive; the connection's owner calls it."""

    def __init__(self, conn: sqlite3.Connection, file_id: int, generation: int,
                 sessions: dict[str, int],
                 add_words: Callable[[str, list[tuple[object, ...]]], None]) -> None:
        self.conn = conn
        self.add_words = add_words
        self.file_id = file_id
        self.generation = generation
        self.session_ids = dict(sessions)
        self.new_entries = 0

    def __call__(self, batch: Batch) -> None:
        """Entries not archived yet (resume, fork and re-import repeat them), their words and
        usage, recorded costs, and what the sessions learned."""
        conn = self.conn
        if batch.entries:
            self._write_entries(batch.entries, batch.deltas)
        if batch.costs:
            conn.executemany(
                "INSERT INTO costs(session_id, start_time, cost_usd) VALUES (?,?,?)"
                " ON CONFLICT(session_id, start_time) DO UPDATE SET cost_usd=excluded.cost_usd",
                [(self._session_id(s), start, cost) for s, start, cost in batch.costs])
        for session, d in batch.deltas.items():
            conn.execute(
                "UPDATE sessions SET"
                " first_ts = CASE WHEN first_ts IS NULL OR first_ts > ?1 THEN ?1 ELSE first_ts END,"
                " last_ts = CASE WHEN last_ts IS NULL OR last_ts < ?2 THEN ?2 ELSE last_ts END,"
                " cwd = coalesce(?3, cwd), git_branch = coalesce(?4, git_branch),"
                " cc_version = coalesce(?5, cc_version), title = coalesce(title, ?6)"
                " WHERE id = ?7",
                (d.first_ts, d.last_ts, d.cwd, d.git_branch, d.cc_version, d.title,
                 self._session_id(session)),
            )

    def _session_id(self, session: str) -> int:
        known = self.session_ids.get(session)
        if known is None:
            known = self.session_ids[session] = ensure_session(self.conn, session)
        return known

    def _write_entries(self, batch: list[PendingEntry], deltas: dict[str, SessionDelta]
                       ) -> None:
        """Insert-or-ignore with ids we choose: the rows that exist afterwards in our id range
        are the ones that were new, found without a lookup per key in the common case."""
        conn = self.conn
        # We hold the write lock (BEGIN IMMEDIATE), so max(id) is ours to extend.
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO entries(id, key, session_id, file_id, generation, offset,"
            " length, role, kind, ts, tools, sidechain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(number, p.key, self._session_id(p.session), self.file_id, self.generation,
              p.offset, p.length, p.role, p.kind, p.ts, p.tools, p.sidechain)
             for number, p in enumerate(batch, start=first)])
        inserted = conn.total_changes - before
        fresh = list(enumerate(batch, start=first))
        if inserted < len(batch):  # some were archived already (resume, fork, re-import)
            kept = {r[0] for r in conn.execute(
                "SELECT id FROM entries WHERE id BETWEEN ? AND ?", (first, first + len(batch)))}
            fresh = [(number, p) for number, p in fresh if number in kept]
        words: list[tuple[object, ...]] = []
        usage: dict[object, tuple[object, ...]] = {}
        for number, p in fresh:
            if p.text:
                words.append((number, p.text))
            delta = deltas[p.session]
            if p.prompt and delta.title is None:
                delta.title = make_title(p.prompt)
            if p.usage is not None:
                # Every content block repeats the message's usage; the last line is final.
                usage[p.usage[0]] = (p.usage[0], self._session_id(p.session), *p.usage[1:])
        self.add_words("INSERT INTO entries_fts(rowid, text) VALUES (?, ?)", words)
        conn.executemany(
            "INSERT INTO usage(message_id, session_id, model, input_tokens, output_tokens,"
            " cache_creation_tokens, cache_read_tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT(message_id) DO UPDATE SET model=excluded.model,"
            " input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens,"
            " cache_creation_tokens=excluded.cache_creation_tokens,"
            " cache_read_tokens=excluded.cache_read_tokens,"
            " cost_usd=coalesce(excluded.cost_usd, cost_usd)",
            list(usage.values()))
        self.new_entries += len(fresh)
