"""A synthetic corpus of any size made of real transcripts: the shared corpus copied many times.

Benchmarks at scale need gigabytes of transcripts, and made-up text would not stress the archive
(compression, the full-text index, snippets) the way real sessions do. So every copy is the
shared corpus byte for byte except its ids: session ids (file and folder names, ``sessionId``),
every other UUID (``uuid``, ``parentUuid``, ``leafUuid``, ``messageId``...), API ids (``msg_``,
``req_``, ``toolu_``, ``srvtoolu_``) and subagent ids (``agentId``, ``agent-<id>.jsonl``) are
rewritten per copy, consistently across a copy's files, so each copy is a distinct set of
sessions and the archive cannot deduplicate one against another. The ids derive from a seed,
the copy number and the original id: the same arguments always write the same bytes.

Written once, reused: ``DIR/synth.json`` records what was made (seed, size, a fingerprint of the
sources, every file); a call with the same arguments finds it and writes nothing.

Two more shapes, made the same way (ids rewritten, deterministic, cached): ``--shape
subagents`` (:func:`synthesize_subagents`: many more subagent transcripts, long tool results,
``agent_progress`` records a third of the bytes) and ``--shape transcript``
(:func:`synthesize_transcript`: one session transcript of ``--size``).

Run: ``python bench/synth.py --size 1G --out DIR [--seed N] [--shape copies|subagents|transcript]``.
Standard library only, and it imports nothing of ``session_core``, so any benchmark (or another
checkout's) can use it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SHARED_TRANSCRIPTS = Path(__file__).resolve().parents[2] / "shared" / "transcripts"
MANIFEST = "synth.json"
GENERATOR = 2
"""Bumped whenever the bytes written for the same arguments change: old corpora are rebuilt."""
COPY_DIR = "copy-{:04d}"
SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

UUID_RE = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
API_ID_RE = rb"(?:agent_)?(?:msg|req|toolu|srvtoolu)_[A-Za-z0-9_]+"
"""API ids; ``srvtoolu_`` and ``agent_msg_`` (progress records' ``toolUseID``) are listed on
their own, since an id is only matched where no letter or ``_`` precedes it."""
API_PREFIX_RE = re.compile(rb"^((?:agent_)?(?:msg|req|toolu|srvtoolu)_)(.*)$", re.S)
BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MIN_API_ID_CHARS = 16
"""Short test ids ("toolu_1") are lengthened, or copies would collide."""
AGENT_ID_RE = re.compile(rb'"agentId":"([A-Za-z0-9-]+)"')
AGENT_FILE_RE = re.compile(r"^agent-([A-Za-z0-9-]+)\.jsonl$")
SESSION_ID_RE = re.compile(rb'"sessionId":"(' + UUID_RE + rb')"')
RECORD_KEYS = ("sessionId", "uuid", "message", "leafUuid", "messageId", "snapshot")


@dataclass
class SynthCorpus:
    """What :func:`synthesize` made (or found made): enough for a benchmark to import it and to
    map a synthetic session back to the real one it copies."""

    root: Path
    files: list[Path]
    """Every transcript, sessions before subagents (the order Claude Code's folder is read in)."""
    raw_bytes: int
    copies: int
    seed: int
    sessions: dict[str, str] = field(default_factory=dict)
    """Synthetic session id -> the original session id it is a copy of."""
    reused: bool = False
    seconds: float = 0.0
    """Time spent writing (0 when reused)."""
    stats: dict = field(default_factory=dict)
    """What the shape's generator counted (subagent files, progress share...)."""


def parse_size(text: str) -> int:
    """``1G``, ``500M``, ``2048K`` or bytes; binary units (1G = 2**30 bytes)."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1:] if value[-1:] in SIZE_UNITS and value[-1:] else ""
    number = value[:-1] if unit else value
    try:
        size = math.ceil(float(number) * SIZE_UNITS[unit])
    except ValueError:
        raise ValueError(f"not a size: {text!r} (write 1G, 500M, 2048K or bytes)") from None
    if size <= 0:
        raise ValueError(f"the size must be positive, not {text!r}")
    return size


def is_transcript(path: Path) -> bool:
    """A transcript's first line is a record (a ``type`` and a field records carry): what
    ``session-core import`` accepts; a hook log that merely ends in ``.jsonl`` is left out."""
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                first = json.loads(line)
            except ValueError:
                return False
            return (isinstance(first, dict) and isinstance(first.get("type"), str)
                    and any(key in first for key in RECORD_KEYS))
    return False


def import_order(paths: list[Path]) -> list[Path]:
    """Sessions before their subagents, as Claude Code's folder is read, so an import sees
    a subagent's parent first."""
    return sorted(paths, key=lambda p: (p.parent.name == "subagents", str(p)))


def source_files(root: Path) -> list[Path]:
    return import_order([p for p in root.rglob("*.jsonl") if p.is_file() and is_transcript(p)])


class _Template:
    """A source file split once at its ids: even pieces literal bytes, odd pieces ids. A copy is
    the pieces joined with each id mapped, far cheaper than a regex callback per id per copy."""

    __slots__ = ("pieces", "rel", "sessions")

    def __init__(self, rel: Path, data: bytes, pattern: re.Pattern[bytes]) -> None:
        self.rel = rel
        self.pieces = pattern.split(data)
        self.sessions = sorted({m.group(1).decode() for m in SESSION_ID_RE.finditer(data)})


class _Ids:
    """The per-copy id mapping: deterministic in (seed, copy, original), memoised per copy."""

    def __init__(self, seed: int, agent_ids: set[bytes], salt: bytes = b"") -> None:
        self.key = hashlib.blake2b(b"synth-seed:%d" % seed + salt, digest_size=32).digest()
        self.agent_ids = agent_ids
        self.tag = b"-1"
        self.memo: dict[bytes, bytes] = {}

    def start(self, copy: int) -> None:
        self.start_tag(b"%d" % copy)

    def start_tag(self, tag: bytes) -> None:
        """A fresh mapping keyed on ``tag`` (a copy number, or a copy's subagent instance)."""
        self.tag, self.memo = tag, {}

    def _digest(self, original: bytes) -> bytes:
        return hashlib.blake2b(self.tag + b":" + original.lower(), key=self.key,
                               digest_size=32).digest()

    def __call__(self, original: bytes) -> bytes:
        new = self.memo.get(original)
        if new is None:
            new = self.memo[original] = self._make(original)
        return new

    def _make(self, original: bytes) -> bytes:
        digest = self._digest(original)
        if original in self.agent_ids:  # "a7be2f0", "acompact-f46190": keep the form
            head, _, tail = original.rpartition(b"-")
            body = tail if head else original[1:]
            hexed = digest.hex().encode()[:len(body)]
            return (head + b"-" + hexed) if head else original[:1] + hexed
        api = API_PREFIX_RE.match(original)
        if api:  # an API id; a UUID has no underscore
            prefix, body = api.group(1), api.group(2)
            length = max(len(body), MIN_API_ID_CHARS)
            chars = bytes(BASE62[digest[i % len(digest)] % len(BASE62)] for i in range(length))
            return prefix + chars
        # A valid v4 UUID, so parsers keep accepting it; case kept, so it compresses alike.
        text = str(uuid.UUID(bytes=digest[:16], version=4)).encode()
        return text.upper() if original.isupper() else text

    def path(self, rel: Path, copy: int) -> Path:
        """``rel`` with the ids in its folder and file names mapped like the contents."""
        parts = []
        for part in rel.parts:
            raw = part.encode()
            for match in re.finditer(UUID_RE, raw):
                raw = raw.replace(match.group(0), self(match.group(0)))
            agent = AGENT_FILE_RE.match(raw.decode())
            if agent and agent.group(1).encode() in self.agent_ids:
                raw = b"agent-" + self(agent.group(1).encode()) + b".jsonl"
            parts.append(raw.decode())
        return Path(COPY_DIR.format(copy), *parts)


def _templates(sources: Path, files: list[Path]) -> tuple[list[_Template], set[bytes]]:
    """Every source file split at its ids, and the subagent ids among those ids."""
    datas = [p.read_bytes() for p in files]
    agent_ids = {m.group(1) for data in datas for m in AGENT_ID_RE.finditer(data)}
    agent_ids |= {m.group(1).encode() for p in files if (m := AGENT_FILE_RE.match(p.name))}
    words = [UUID_RE, API_ID_RE]
    words += [re.escape(a) for a in sorted(agent_ids, key=len, reverse=True)]
    pattern = re.compile(rb"(?<![0-9A-Za-z_])(" + b"|".join(words) + rb")(?![0-9A-Za-z])")
    templates = [_Template(p.relative_to(sources), d, pattern) for p, d in zip(files, datas,
                                                                               strict=True)]
    return templates, agent_ids


def _fingerprint(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _load_manifest(out: Path) -> dict | None:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _reusable(out: Path, manifest: dict | None, wanted: dict) -> bool:
    """Same arguments, same sources, every file there at its size: nothing to write."""
    if manifest is None or any(manifest.get(k) != v for k, v in wanted.items()):
        return False
    try:
        return sum((out / rel).stat().st_size for rel in manifest["files"]) == manifest["raw_bytes"]
    except (OSError, KeyError, TypeError):
        return False


def _clear(out: Path) -> None:
    """Remove an earlier corpus, never anything else: a folder holding files that are not ours
    is refused rather than emptied."""
    if not out.exists():
        return
    ours = {MANIFEST}
    for entry in out.iterdir():
        if entry.name in ours:
            entry.unlink()
        elif entry.is_dir() and re.fullmatch(r"copy-\d{4}", entry.name):
            shutil.rmtree(entry)
        else:
            raise FileExistsError(f"{out} holds {entry.name}, which synth.py did not write;"
                                  " give --out an empty or new folder")


def synthesize(out: Path, size: int, seed: int = 0,
               sources: Path = SHARED_TRANSCRIPTS) -> SynthCorpus:
    """At least ``size`` bytes of transcripts under ``out`` (whole copies of ``sources``), or
    the corpus already there when it was made from the same arguments and sources."""
    out = Path(out)
    files = source_files(sources)
    if not files:
        raise FileNotFoundError(f"no transcripts under {sources}")
    wanted = {"generator": GENERATOR, "size": size, "seed": seed,
              "sources": _fingerprint(sources, files)}
    manifest = _load_manifest(out)
    if _reusable(out, manifest, wanted):
        assert manifest is not None
        return SynthCorpus(out, [out / rel for rel in manifest["files"]], manifest["raw_bytes"],
                           manifest["copies"], seed, manifest["sessions"], reused=True)
    started = time.perf_counter()
    _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    templates, agent_ids = _templates(sources, files)
    ids = _Ids(seed, agent_ids)
    written: list[Path] = []
    sessions: dict[str, str] = {}
    raw_bytes = copies = 0
    while raw_bytes < size:
        ids.start(copies)
        for template in templates:
            pieces = template.pieces[:]
            for i in range(1, len(pieces), 2):
                pieces[i] = ids(pieces[i])
            rel = ids.path(template.rel, copies)
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = b"".join(pieces)
            target.write_bytes(data)
            raw_bytes += len(data)
            written.append(rel)
            for original in template.sessions:
                sessions[ids(original.encode()).decode()] = original
        copies += 1
    ordered = [p.relative_to(out) for p in import_order([out / rel for rel in written])]
    record = dict(wanted, copies=copies, raw_bytes=raw_bytes,
                  files=[str(p) for p in ordered], sessions=sessions)
    temp = out / (MANIFEST + ".tmp")
    temp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(temp, out / MANIFEST)  # last: a corpus cut off half-way is never reused
    return SynthCorpus(out, [out / p for p in ordered], raw_bytes, copies, seed, sessions,
                       seconds=time.perf_counter() - started)


# --- the subagent-heavy shape ----------------------------------------------------------------

SUBAGENT_GENERATOR = 1
"""Like ``GENERATOR``, for :func:`synthesize_subagents`."""
AGENTS_PER_SESSION = 20
LENGTHEN_FROM = 512
"""Tool results of at least this many characters are lengthened; shorter ones (an error, "ok")
stay as they are."""
RESULT_CHARS = (10_000, 100_000)
"""A lengthened tool result's length: log-uniform between these (characters)."""
PROGRESS_SHARE = 1 / 3
_PROGRESS_MARK = b'"type":"progress"'


def _dumps(record: object) -> bytes:
    """Compact JSON with the text as is, as Claude Code writes it (``JSON.stringify``)."""
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate: escaped, as JSON.stringify would
        return json.dumps(record, separators=(",", ":")).encode()


def _is_progress(line: bytes) -> bool:
    """The record's own type is ``progress`` (its nested messages have types of their own)."""
    if _PROGRESS_MARK not in line:
        return False
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("type") == "progress"


def _tool_texts(templates: list[_Template]) -> str:
    """Every tool result's text in the sources, in file order: what lengthened results are
    continued with, so the added text is real tool output."""
    texts: list[str] = []
    for template in templates:
        for line in b"".join(template.pieces).split(b"\n"):
            if b'"tool_result"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            for holder, key in _result_texts(record):
                texts.append(holder[key])
    return "\n".join(texts)


def _result_texts(record: object) -> list[tuple[dict, str]]:
    """(dict, key) of each tool result's text in a record: the string content itself, or the
    first text block of a list content."""
    message = record.get("message") if isinstance(record, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    found: list[tuple[dict, str]] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        inner = block.get("content")
        if isinstance(inner, str):
            found.append((block, "content"))
        elif isinstance(inner, list):
            texts = [b for b in inner if isinstance(b, dict) and b.get("type") == "text"
                     and isinstance(b.get("text"), str)]
            if texts:
                found.append((texts[0], "text"))
    return found


def _lengthen(record: dict, rng: random.Random, pool: str) -> int:
    """Continue each long enough tool result of ``record`` with real tool output up to a
    length drawn from ``RESULT_CHARS``; returns how many were lengthened."""
    done = 0
    low, high = (math.log(n) for n in RESULT_CHARS)
    for holder, key in _result_texts(record):
        text = holder[key]
        target = int(math.exp(rng.uniform(low, high)))
        if len(text) < LENGTHEN_FROM or target <= len(text) + 1:
            continue
        need, start = target - len(text) - 1, rng.randrange(len(pool))
        more = pool[start:start + need]
        while len(more) < need:
            more += "\n" + pool[:need - len(more) - 1]
        holder[key] = text + "\n" + more
        done += 1
    return done


def _parents(templates: list[_Template]) -> dict[Path, list[_Template]]:
    """Each session transcript that has a ``subagents/`` folder (its rel path) -> the subagent
    transcripts to multiply (compaction agents left out: one per compaction, not per task)."""
    rels = {t.rel for t in templates}
    found: dict[Path, list[_Template]] = {}
    for template in templates:
        rel = template.rel
        if rel.parent.name != "subagents" or rel.name.startswith("agent-acompact"):
            continue
        parent = rel.parent.parent.with_suffix(".jsonl")
        if parent in rels:
            found.setdefault(parent, []).append(template)
    return found


def _task_ids(template: _Template) -> dict[str, bytes]:
    """agentId -> the id of the Task call that started it, from a parent's agent_progress."""
    found: dict[str, bytes] = {}
    for line in b"".join(template.pieces).split(b"\n"):
        if b'"agent_progress"' not in line:
            continue
        record = json.loads(line)
        data = record.get("data") if isinstance(record, dict) else None
        if isinstance(data, dict) and isinstance(record.get("parentToolUseID"), str):
            found.setdefault(str(data.get("agentId")), record["parentToolUseID"].encode())
    return found


def _echo(record: dict, agent: str, prompt: str, task_id: str, parent_uuid: str | None,
          new_uuid: str, tool_use_id: str) -> dict:
    """The parent transcript's ``agent_progress`` record of one subagent message, laid out as
    Claude Code 2.1 writes it (the subagent's message nested whole)."""
    head = {k: record[k] for k in ("cwd", "sessionId", "version", "gitBranch", "slug")
            if k in record}
    nested = {"type": record.get("type"), "message": record.get("message"),
              "uuid": record.get("uuid"), "timestamp": record.get("timestamp")}
    return {"parentUuid": parent_uuid, "isSidechain": False, "userType": "external", **head,
            "type": "progress",
            "data": {"message": nested, "normalizedMessages": [], "type": "agent_progress",
                     "prompt": prompt, "agentId": agent},
            "toolUseID": tool_use_id, "parentToolUseID": task_id, "uuid": new_uuid,
            "timestamp": record.get("timestamp")}


def _last_uuid(data: bytes) -> str | None:
    for line in reversed(data.rstrip(b"\n").split(b"\n")):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("uuid"), str):
            return record["uuid"]
    return None


def _reuse(out: Path, wanted: dict, seed: int) -> SynthCorpus | None:
    manifest = _load_manifest(out)
    if not _reusable(out, manifest, wanted):
        return None
    assert manifest is not None
    return SynthCorpus(out, [out / rel for rel in manifest["files"]], manifest["raw_bytes"],
                       manifest["copies"], seed, manifest["sessions"], reused=True,
                       stats=manifest.get("stats", {}))


def _save_manifest(out: Path, record: dict) -> None:
    temp = out / (MANIFEST + ".tmp")
    temp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(temp, out / MANIFEST)  # last: a corpus cut off half-way is never reused


def synthesize_subagents(out: Path, size: int, seed: int = 0,
                         sources: Path = SHARED_TRANSCRIPTS,
                         agents_per_session: int = AGENTS_PER_SESSION) -> SynthCorpus:
    """A subagent-heavy corpus of at least ``size`` bytes: whole copies of ``sources`` (ids
    rewritten per copy, as :func:`synthesize`), each with ``agents_per_session`` more subagent
    transcripts beside every session that has any, and long tool results.

    Each added subagent is one of that session's own subagent transcripts (cycled) with every
    id but the sessionId rewritten per instance (a 17-character agentId, file
    ``agent-<agentId>.jsonl``), and every tool result of ``LENGTHEN_FROM`` characters or more
    continued with real tool output (the sources' tool results) to 10-100 K characters. The
    parent transcript gets ``agent_progress`` records (the subagent's message nested whole, as
    Claude Code writes them) appended for as many of the added messages as keep ``progress``
    records at a third of the corpus's bytes."""
    out = Path(out)
    files = source_files(sources)
    if not files:
        raise FileNotFoundError(f"no transcripts under {sources}")
    wanted = {"shape": "subagents", "generator": SUBAGENT_GENERATOR, "size": size, "seed": seed,
              "agents_per_session": agents_per_session, "sources": _fingerprint(sources, files)}
    reused = _reuse(out, wanted, seed)
    if reused is not None:
        return reused
    started = time.perf_counter()
    _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    templates, agent_ids = _templates(sources, files)
    parents = _parents(templates)
    if not parents:
        raise FileNotFoundError(f"no session under {sources} has a subagents/ folder")
    pool = _tool_texts(templates)
    session_originals = {s.encode() for t in templates for s in t.sessions}
    progress_lines = {t.rel: [_is_progress(line) for line in b"".join(t.pieces).split(b"\n")]
                      for t in templates}
    task_ids = {rel: _task_ids(next(t for t in templates if t.rel == rel)) for rel in parents}
    ids, inst = _Ids(seed, agent_ids), _Ids(seed, agent_ids, salt=b":subagent")
    written: list[Path] = []
    sessions: dict[str, str] = {}
    raw_bytes = progress_bytes = copies = added = lengthened = echoes = 0

    def mapped(original: bytes) -> bytes:
        return ids(original) if original in session_originals else inst(original)

    while raw_bytes < size:
        ids.start(copies)
        held: dict[Path, bytearray] = {}  # parents get their echoes before being written
        for template in templates:
            pieces = template.pieces[:]
            for i in range(1, len(pieces), 2):
                pieces[i] = ids(pieces[i])
            data = b"".join(pieces)
            for line, progress in zip(data.split(b"\n"), progress_lines[template.rel],
                                      strict=True):
                if progress:
                    progress_bytes += len(line) + 1
            raw_bytes += len(data)
            for original in template.sessions:
                sessions[ids(original.encode()).decode()] = original
            rel = ids.path(template.rel, copies)
            if template.rel in parents:
                held[rel] = bytearray(data if data.endswith(b"\n") or not data
                                      else data + b"\n")
                raw_bytes += len(held[rel]) - len(data)
                continue
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
            written.append(rel)
        for parent_rel, subagents in sorted(parents.items()):
            parent_out = ids.path(parent_rel, copies)
            parent = held[parent_out]
            last_uuid = _last_uuid(bytes(parent))
            folder = ids.path(parent_rel.with_suffix("") / "subagents", copies)
            for k in range(agents_per_session):
                source = subagents[k % len(subagents)]
                original_agent = source.rel.stem.removeprefix("agent-")
                tag = b"%d:%s:%d" % (copies, str(parent_rel).encode(), k)
                inst.start_tag(tag)
                agent = "a" + hashlib.blake2b(tag, key=inst.key, digest_size=8).hexdigest()[:16]
                inst.memo[original_agent.encode()] = agent.encode()
                rng = random.Random(int.from_bytes(hashlib.blake2b(
                    tag, key=inst.key, digest_size=8).digest(), "big"))
                pieces = source.pieces[:]
                for i in range(1, len(pieces), 2):
                    pieces[i] = mapped(pieces[i])
                task_id = ids(task_ids[parent_rel].get(original_agent, b"toolu_task")).decode()
                lines: list[bytes] = []
                prompt, last_msg = "", ""
                for n, line in enumerate(b"".join(pieces).split(b"\n")):
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        lines.append(line)
                        continue
                    count = _lengthen(record, rng, pool)
                    if count:
                        lengthened += count
                        line = _dumps(record)
                    lines.append(line)
                    raw_bytes += len(line) + 1
                    message = record.get("message")
                    if isinstance(message, dict):
                        if not prompt and isinstance(message.get("content"), str):
                            prompt = message["content"]
                        if isinstance(message.get("id"), str):
                            last_msg = message["id"]
                    if record.get("type") not in ("user", "assistant"):
                        continue
                    if progress_bytes >= PROGRESS_SHARE * raw_bytes:
                        continue
                    digest = hashlib.blake2b(b"echo:%s:%d" % (tag, n), key=inst.key,
                                             digest_size=32).digest()
                    echo_uuid = str(uuid.UUID(bytes=digest[:16], version=4))
                    use_id = "agent_" + (last_msg or "msg_" + digest.hex()[:24])
                    echo = _dumps(_echo(record, agent, prompt, task_id, last_uuid, echo_uuid,
                                        use_id)) + b"\n"
                    parent += echo
                    last_uuid = echo_uuid
                    raw_bytes += len(echo)
                    progress_bytes += len(echo)
                    echoes += 1
                rel = folder / f"agent-{agent}.jsonl"
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_bytes(b"\n".join(lines) + b"\n")
                written.append(rel)
                added += 1
        for rel, data in held.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(bytes(data))
            written.append(rel)
        copies += 1
    ordered = [p.relative_to(out) for p in import_order([out / rel for rel in written])]
    stats = {"subagent_files": sum(p.parent.name == "subagents" for p in ordered),
             "added_subagents": added, "tool_results_lengthened": lengthened,
             "agent_progress_added": echoes, "progress_share": progress_bytes / raw_bytes}
    _save_manifest(out, dict(wanted, copies=copies, raw_bytes=raw_bytes,
                             files=[str(p) for p in ordered], sessions=sessions, stats=stats))
    return SynthCorpus(out, [out / p for p in ordered], raw_bytes, copies, seed, sessions,
                       seconds=time.perf_counter() - started, stats=stats)


# --- one big transcript ----------------------------------------------------------------------

TRANSCRIPT_GENERATOR = 1
"""Like ``GENERATOR``, for :func:`synthesize_transcript`."""
BIG_PROJECT = "-home-dev-projects-big-session"


def synthesize_transcript(out: Path, size: int, seed: int = 0,
                          sources: Path = SHARED_TRANSCRIPTS) -> SynthCorpus:
    """One session transcript of at least ``size`` bytes: every session transcript of
    ``sources`` (not subagents, not sidechain files), in order, again and again, ids rewritten
    per copy as :func:`synthesize` does and every sessionId set to one id. Written as
    ``copy-0000/<BIG_PROJECT>/<id>.jsonl``, streamed (memory stays at one copy)."""
    out = Path(out)
    files = source_files(sources)
    if not files:
        raise FileNotFoundError(f"no transcripts under {sources}")
    wanted = {"shape": "transcript", "generator": TRANSCRIPT_GENERATOR, "size": size,
              "seed": seed, "sources": _fingerprint(sources, files)}
    reused = _reuse(out, wanted, seed)
    if reused is not None:
        return reused
    started = time.perf_counter()
    _clear(out)
    templates, agent_ids = _templates(sources, files)
    mains = [t for t in templates if t.rel.parent.name != "subagents" and t.sessions
             and b'"isSidechain":true' not in b"".join(t.pieces).split(b"\n", 1)[0]]
    ids = _Ids(seed, agent_ids)
    ids.start_tag(b"transcript")
    session = str(uuid.UUID(bytes=ids._digest(b"session")[:16], version=4))
    rel = Path(COPY_DIR.format(0), BIG_PROJECT, f"{session}.jsonl")
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    raw_bytes = copies = 0
    with open(out / rel, "wb") as handle:
        while raw_bytes < size:
            ids.start(copies)
            for template in mains:
                for original in template.sessions:
                    ids.memo[original.encode()] = session.encode()
                pieces = template.pieces[:]
                for i in range(1, len(pieces), 2):
                    pieces[i] = ids(pieces[i])
                data = b"".join(pieces)
                if data and not data.endswith(b"\n"):
                    data += b"\n"
                handle.write(data)
                raw_bytes += len(data)
            copies += 1
    stats = {"source_transcripts": len(mains)}
    sessions = {session: ",".join(s for t in mains for s in t.sessions)}
    _save_manifest(out, dict(wanted, copies=copies, raw_bytes=raw_bytes, files=[str(rel)],
                             sessions=sessions, stats=stats))
    return SynthCorpus(out, [out / rel], raw_bytes, copies, seed, sessions,
                       seconds=time.perf_counter() - started, stats=stats)


SHAPES = {"copies": synthesize, "subagents": synthesize_subagents,
          "transcript": synthesize_transcript}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic corpus of real transcripts"
                                     " (the shared corpus copied, ids rewritten per copy).")
    parser.add_argument("--size", default="1G", help="at least this much (1G = 2**30 bytes)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write (reused when"
                        " it already holds a corpus made with the same arguments)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", type=Path, default=SHARED_TRANSCRIPTS)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="copies",
                        help="copies: whole copies of the sources (default); subagents: the"
                        " same with many more subagent transcripts, long tool results and"
                        " agent_progress records; transcript: one session transcript")
    args = parser.parse_args(argv)
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    corpus = SHAPES[args.shape](args.out, size, args.seed, args.sources)
    how = "reused" if corpus.reused else f"written in {corpus.seconds:.1f} s"
    print(f"{corpus.root}: {len(corpus.files)} files, {corpus.raw_bytes / 1e6:.1f} MB,"
          f" {corpus.copies} copies, {len(corpus.sessions)} sessions, seed {corpus.seed} ({how})")
    if corpus.stats:
        print("  " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in corpus.stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
