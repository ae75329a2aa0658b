"""Writing a session Claude Code can resume from the archive's bytes: a branch cut at a
checkpoint, or a copy of a whole session that a note is appended to (a merge).

The copy is the archived prefix of the session's own transcript, line for line, with every
record's ``sessionId`` set to the new id (Claude Code files and resumes a session by it).
``uuid`` and ``parentUuid`` stay as they are, so the parent chain is whole, as in the copies
Claude Code itself writes when a resume or a fork starts a new file. The subagent transcripts
of the Agent/Task calls the prefix holds come along (``<new>/subagents/``, their
``.meta.json`` too): Claude Code reads them when it shows or resumes those calls. Files go
where Claude Code looks (``transcript.layout``), each written whole under a temporary name
and never over an existing file.
"""

from __future__ import annotations

import os
import uuid as uuid_module
from collections import deque

from ..base.clock import utc_stamp
from ..base.fs import AtomicFile
from ..base.jsonlite import dumps, loads
from ..store import files, frames
from . import layout
from .checkpoint import chain_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

ENVELOPE = ("userType", "cwd", "version", "gitBranch", "entrypoint", "slug")
"""Fields a note record takes from the last entry before it, as Claude Code's own do."""


def new_session_id() -> str:
    """A fresh id, as Claude Code makes them (a random UUID): the copy is a session of its
    own, so both it and its origin can be resumed."""
    return str(uuid_module.uuid4())


class Copied:
    """What :func:`write_session` wrote: the transcript, the subagent files beside it, the
    bytes copied into the transcript (before any note) and the last entry's uuid there."""

    __slots__ = ("cut_bytes", "last_uuid", "paths", "session_uuid", "transcript")

    def __init__(self, session_uuid: str, transcript: str) -> None:
        self.session_uuid, self.transcript = session_uuid, transcript
        self.paths: list[str] = []
        """Every file written, the transcript first."""
        self.cut_bytes = 0
        self.last_uuid: str | None = None


def rewrite_line(line: bytes, old: str, new: str, cwd: tuple[str, str] | None = None) -> bytes:
    """``line`` with the session id ``old`` replaced by ``new`` (``sessionId``, and
    ``session_id`` as local-command records spell it) and, with ``cwd``, that folder moved.
    Claude Code writes compact JSON, so the bytes are replaced in place where that gives the
    same record; else the record is written again. A line that is not a JSON object is kept
    as it was: Claude Code skips it too."""
    try:
        record = loads(line)
    except (ValueError, RecursionError):
        return line
    if not isinstance(record, dict):
        return line
    changed = False
    for key in ("sessionId", "session_id"):
        if record.get(key) == old:
            record[key] = new
            changed = True
    if cwd is not None and record.get("cwd") == cwd[0]:
        record["cwd"] = cwd[1]
        changed = True
    if not changed:
        return line
    fast = line
    for key in ("sessionId", "session_id"):
        fast = fast.replace(f'"{key}":"{old}"'.encode(), f'"{key}":"{new}"'.encode())
    if cwd is not None:
        fast = fast.replace(b'"cwd":' + dumps(cwd[0], ensure_ascii=False).encode(),
                            b'"cwd":' + dumps(cwd[1], ensure_ascii=False).encode())
    try:
        if loads(fast) == record:
            return fast
    except (ValueError, RecursionError):
        pass
    return dumps(record, ensure_ascii=False).encode()


def note_record(text: str, session_uuid: str, parent: dict[str, object] | None) -> bytes:
    """A user message Claude Code resumes with: ``text``, after the entry ``parent`` (the
    last of the chain), in its envelope."""
    record: dict[str, object] = {"parentUuid": parent.get("uuid") if parent else None,
                                 "isSidechain": False}
    for key in ENVELOPE:
        if parent is not None and key in parent:
            record[key] = parent[key]
    record.setdefault("userType", "external")
    record.update({"sessionId": session_uuid, "type": "user",
                   "message": {"role": "user", "content": text},
                   "uuid": str(uuid_module.uuid4()), "timestamp": utc_stamp()})
    return dumps(record, ensure_ascii=False).encode()


def agent_id_of(record: files.FileRecord) -> str | None:
    """``abc`` of ``.../subagents/agent-abc.jsonl`` (or its ``.meta.json``); None for other
    files and for compaction helpers, which no call of the conversation started."""
    name = record.rel_path.rsplit("/", 1)[-1]
    for suffix in (".meta.json", layout.TRANSCRIPT_SUFFIX):
        if name.startswith("agent-") and name.endswith(suffix):
            agent = name[len("agent-"):-len(suffix)]
            return None if agent.startswith("acompact") or not agent else agent
    return None


def _subagents_named(conn: sqlite3.Connection, main: files.FileRecord, end: int,
                     session_files: list[files.FileRecord]) -> list[files.FileRecord]:
    """The subagent transcripts (and their ``.meta.json``) whose agent id ``main``'s bytes up
    to ``end`` name, as a whole JSON string: a call's result says ``agentId``, its progress
    records too. One pass over the lines, none held."""
    candidates: dict[str, list[files.FileRecord]] = {}
    for record in session_files:
        agent = agent_id_of(record) if record.kind != "session" else None
        if agent is not None:
            candidates.setdefault(agent, []).append(record)
    named: set[str] = set()
    wanted = {agent: b'"' + agent.encode() + b'"' for agent in candidates}
    for line in frames.read_lines(conn, main, 0, end) if wanted else ():
        for agent in [a for a, quoted in wanted.items() if quoted in line]:
            named.add(agent)
            del wanted[agent]
        if not wanted:
            break
    chosen: dict[str, files.FileRecord] = {}
    for agent in named:
        for record in candidates[agent]:
            name = record.rel_path.rsplit("/", 1)[-1]
            best = chosen.get(name)  # several copies of one file: the longest
            if best is None or record.size > best.size:
                chosen[name] = record
    return [chosen[name] for name in sorted(chosen)]


def _open_for(path: str) -> AtomicFile:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    return AtomicFile(path, durable=True, exclusive=True)


def write_session(conn: sqlite3.Connection, main: files.FileRecord,
                  session_files: list[files.FileRecord], end: int, folder: str,
                  new_uuid: str, *, cwd: tuple[str, str] | None = None,
                  note: str | None = None) -> Copied:
    """``main``'s archived bytes up to ``end`` (a line end) as session ``new_uuid`` in
    ``folder`` (Claude Code's project folder), the subagents those bytes name beside it, and
    ``note`` as one more user message at the end. ``main.generation`` says which of the
    file's generations is read. Streamed: memory is bounded by a line, whatever the size."""
    old = main.session_uuid
    copied = Copied(new_uuid, layout.transcript_in(folder, new_uuid))
    for record in _subagents_named(conn, main, end, session_files):
        path = os.path.join(folder, new_uuid, layout.SUBAGENTS, record.rel_path.rsplit("/", 1)[-1])
        with _open_for(path) as out:
            if record.kind == "sidecar":  # its .meta.json: as it was
                for block in frames.read(conn, record):
                    out.write(block)
            else:
                for line in frames.read_lines(conn, record):
                    if line.strip():
                        out.write(rewrite_line(line, old, new_uuid, cwd) + b"\n")
        copied.paths.append(path)
    recent: deque[bytes] = deque(maxlen=16)
    """The last lines with a uuid: the chain's last entry is among them."""
    with _open_for(copied.transcript) as out:  # last: once it is there, so is all it names
        for line in frames.read_lines(conn, main, 0, end):
            if not line.strip():
                continue
            line = rewrite_line(line, old, new_uuid, cwd)
            out.write(line + b"\n")
            copied.cut_bytes += len(line) + 1
            if b'"uuid"' in line:
                recent.append(line)
        parent = next((found for found in map(chain_record, reversed(recent))
                       if found is not None), None)
        copied.last_uuid = str(parent["uuid"]) if parent else None
        if note is not None:
            out.write(note_record(note, new_uuid, parent) + b"\n")
    copied.paths.insert(0, copied.transcript)
    return copied


def at_generation(record: files.FileRecord, generation: int) -> files.FileRecord:
    """``record`` read as its ``generation`` (a checkpoint taken before the file was found
    rewritten names the older one, whose frames the archive keeps)."""
    record.generation = generation
    return record
