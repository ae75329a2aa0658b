"""What the index keeps of parsed records, gathered in batches: entries, tokens, costs, and what
each session's records said of it. Pure: ``ingest`` hands it records and writes what it
gathers to the store (``store.entries``, ``store.usage``, ``store.sessions``).
"""

from __future__ import annotations

from .extract import EXTRACT_VERSION, Extracted, extract, make_title, usage_numbers
from .lines import line_hash, progress_timestamp
from .records import Record, is_message

BATCH_ENTRIES = 2000
"""Entries per batch: bounds memory on huge files; one write to the store per batch."""


def index_version(tool_text_chars: int) -> str:
    """What the index's words depend on: the extraction and how much tool text it takes."""
    return f"{EXTRACT_VERSION}:{tool_text_chars}"


def recorded_chars(version: str | None) -> int | None:
    """The ``tool_text_chars`` an index of this code's extraction was built with (None: no
    version recorded, or another extraction's)."""
    extraction, _, chars = (version or "").partition(":")
    return int(chars) if extraction == str(EXTRACT_VERSION) and chars.isdigit() else None


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


class SessionDelta:
    """What one batch learned about a session; merged into its row when written."""

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
    """One message record ready to be written (``store.entries.insert_new``); ``session_id`` is
    filled in by whoever knows the session's row id."""

    __slots__ = ("key", "kind", "length", "offset", "prompt", "role", "session", "session_id",
                 "sidechain", "text", "tools", "ts", "usage")

    def __init__(self, key: bytes, session: str, offset: int, line: bytes, record: Record,
                 extracted: Extracted) -> None:
        self.key, self.session, self.offset, self.length = key, session, offset, len(line)
        self.session_id = 0
        self.role, self.kind = extracted.role, extracted.kind
        self.ts = record.timestamp if isinstance(record.timestamp, str) else None
        self.tools = ",".join(extracted.tools) or None
        self.sidechain = 1 if record.isSidechain else 0
        self.text = extracted.text
        self.prompt = None if record.isSidechain else extracted.prompt
        self.usage: tuple[object, ...] | None = None
        """(message_id, model, input, output, cache write, cache read, cost) of an assistant
        line: every content-block line repeats its message's usage; the last one is final."""
        message = record.message
        if record.type == "assistant" and is_message(message) and isinstance(message.id, str):
            numbers = usage_numbers(message.usage) or (0, 0, 0, 0)
            self.usage = (message.id, message.model if isinstance(message.model, str) else None,
                          *numbers,
                          record.costUSD if isinstance(record.costUSD, (int, float)) else None)


class Batch:
    __slots__ = ("costs", "deltas", "entries")

    def __init__(self) -> None:
        self.entries: list[PendingEntry] = []
        self.costs: list[tuple[str, int, float, bytes | None]] = []
        """(session, start time, cost, the key of the entry before it in its file) from
        ``cost-state`` records: one after a copied entry was copied with it."""
        self.deltas: dict[str, SessionDelta] = {}

    def delta(self, session: str) -> SessionDelta:
        found = self.deltas.get(session)
        if found is None:
            found = self.deltas[session] = SessionDelta()
        return found


class IndexBuilder:
    """Gathers one file's records into batches, deduplicated on their key within a batch (the
    store ignores keys it already holds)."""

    def __init__(self, default_session: str, tool_text_chars: int) -> None:
        self.default_session = default_session
        self.tool_text_chars = tool_text_chars
        self.batch = Batch()
        self.keys: set[bytes] = set()
        self.first_session: tuple[str, bool] | None = None
        """(sessionId, is a sidechain agent's) of the first record that named a session."""
        self._first_progress = b""
        self._last_progress = b""
        self.last_key: bytes | None = None
        """The key of the last entry added (across batches)."""

    def progress(self, line: bytes) -> None:
        """A progress line, not parsed: lines are appended in time order, so the batch's first
        and last carry its span."""
        if not self._first_progress:
            self._first_progress = line
        self._last_progress = line

    def add(self, offset: int, line: bytes, record: Record) -> Extracted | None:
        """Take a parsed record; returns what was extracted of it (None: archived raw only)."""
        session = record.sessionId or self.default_session
        if self.first_session is None and record.sessionId:
            self.first_session = (record.sessionId,
                                  bool(record.isSidechain) and bool(record.agentId))
        self.batch.delta(session).see(record)
        if record.type == "cost-state":
            cost, start = record.totalCostUSD, record.startTime
            if isinstance(cost, (int, float)) and isinstance(start, (int, float)):
                self.batch.costs.append((session, int(start), float(cost), self.last_key))
            return None
        extracted = extract(record, self.tool_text_chars)
        if extracted is None:
            return None
        key = self.last_key = entry_key(record, line)
        if key not in self.keys:
            self.keys.add(key)
            self.batch.entries.append(PendingEntry(key, session, offset, line, record, extracted))
        return extracted

    @property
    def full(self) -> bool:
        return len(self.batch.entries) >= BATCH_ENTRIES

    def take(self) -> Batch | None:
        """The batch so far (None if it learned nothing), and a fresh one."""
        for line in (self._first_progress, self._last_progress):
            if line:
                self.batch.delta(self.default_session).see_time(progress_timestamp(line))
        batch, self.batch, self.keys = self.batch, Batch(), set()
        self._first_progress = self._last_progress = b""
        if batch.entries or batch.costs or batch.deltas:
            return batch
        return None


def titles_and_usage(batch: Batch, fresh: list[PendingEntry],
                     session_ids: dict[str, int]) -> list[tuple[object, ...]]:
    """Of the entries that were new: the first prompt of each session becomes its title (in
    ``batch.deltas``), and their usage rows, last line per message id."""
    usage: dict[object, tuple[object, ...]] = {}
    for entry in fresh:
        delta = batch.deltas[entry.session]  # add() saw the record before keeping its entry
        if entry.prompt and delta.title is None:
            delta.title = make_title(entry.prompt)
        if entry.usage is not None:
            usage[entry.usage[0]] = (entry.usage[0], session_ids[entry.session],
                                     *entry.usage[1:])
    return list(usage.values())
