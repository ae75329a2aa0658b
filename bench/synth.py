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

Run: ``python bench/synth.py --size 1G --out DIR [--seed N]``. Standard library only, and it
imports nothing of ``session_core``, so any benchmark (or another checkout's) can use it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
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

    def __init__(self, seed: int, agent_ids: set[bytes]) -> None:
        self.key = hashlib.blake2b(b"synth-seed:%d" % seed, digest_size=32).digest()
        self.agent_ids = agent_ids
        self.copy = -1
        self.memo: dict[bytes, bytes] = {}

    def start(self, copy: int) -> None:
        self.copy, self.memo = copy, {}

    def _digest(self, original: bytes) -> bytes:
        return hashlib.blake2b(b"%d:" % self.copy + original.lower(), key=self.key,
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
    datas = [p.read_bytes() for p in files]
    agent_ids = {m.group(1) for data in datas for m in AGENT_ID_RE.finditer(data)}
    agent_ids |= {m.group(1).encode() for p in files if (m := AGENT_FILE_RE.match(p.name))}
    words = [UUID_RE, API_ID_RE]
    words += [re.escape(a) for a in sorted(agent_ids, key=len, reverse=True)]
    pattern = re.compile(rb"(?<![0-9A-Za-z_])(" + b"|".join(words) + rb")(?![0-9A-Za-z])")
    templates = [_Template(p.relative_to(sources), d, pattern) for p, d in zip(files, datas,
                                                                               strict=True)]
    del datas
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic corpus of real transcripts"
                                     " (the shared corpus copied, ids rewritten per copy).")
    parser.add_argument("--size", default="1G", help="at least this much (1G = 2**30 bytes)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write (reused when"
                        " it already holds a corpus made with the same arguments)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", type=Path, default=SHARED_TRANSCRIPTS)
    args = parser.parse_args(argv)
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    corpus = synthesize(args.out, size, args.seed, args.sources)
    how = "reused" if corpus.reused else f"written in {corpus.seconds:.1f} s"
    print(f"{corpus.root}: {len(corpus.files)} files, {corpus.raw_bytes / 1e6:.1f} MB,"
          f" {corpus.copies} copies, {len(corpus.sessions)} sessions, seed {corpus.seed} ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
