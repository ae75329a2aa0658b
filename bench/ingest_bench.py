"""Ingest benchmark: speed and size of the archive against baselines measured in the same run.

The machine this runs on is noisy, so absolute times mean little: every timing is reported as a
ratio to a plain ``json.loads`` pass over the same bytes, and every size as a ratio to ``zstd -3``
of the same bytes or to the raw JSONL. Two corpora are measured: the shared real transcripts, and
a larger synthetic corpus made of N copies of them whose ids are rewritten, so the archive sees N
distinct sets of sessions instead of deduplicating one.

Run: ``python bench/ingest_bench.py [--copies N] [--repeat R]``. Writes
``bench/results/ingest.json``. Always exits 0: this is a report, not a test.
``--shape shared|subagents|1g|big-transcript|all`` runs ``bench/ingest_shapes.py`` instead
(throughput in process and as whole processes, start-up, peak memory, per corpus shape).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from session_core.cli.backfill import ImportSummary, ingest_paths
from session_core.store.archive import open_archive

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_TRANSCRIPTS = REPO_ROOT.parent / "shared" / "transcripts"
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "ingest.json"

# Bars the archive is held to (see the module docstring for what each ratio compares).
MIN_THROUGHPUT = 0.5  # parse_time / ingest_time
MAX_CHUNKS_VS_ZSTD = 1.2  # sum(length(chunks.data)) / len(zstd -3 of all files)
MAX_DB_VS_RAW = 0.2  # (archive.db + -wal) / raw JSONL bytes

UUID_BYTES_RE = re.compile(
    rb"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
# API ids; ``srvtoolu_`` is matched too because ``\b`` would otherwise leave it untouched.
API_ID_RE = re.compile(rb"\b(msg|req|toolu|srvtoolu)_([A-Za-z0-9_]+)")
BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MIN_API_ID_CHARS = 16  # short test ids ("toolu_1") would collide across copies if kept short


@dataclass
class CorpusResult:
    """Everything measured on one corpus; serialised as-is into the JSON report."""

    name: str
    files: int
    lines: int
    raw_bytes: int
    parse_seconds: list[float] = field(default_factory=list)
    ingest_seconds: list[float] = field(default_factory=list)
    zstd3_bytes: int = 0
    chunk_bytes: int = 0
    chunk_frames: int = 0
    db_bytes: int = 0
    sessions: int = 0
    entries: int = 0
    ingest_warnings: int = 0
    ingest_failures: int = 0

    @property
    def parse_best(self) -> float:
        return min(self.parse_seconds)

    @property
    def ingest_best(self) -> float:
        return min(self.ingest_seconds)

    @property
    def throughput(self) -> float:
        return self.parse_best / self.ingest_best

    @property
    def chunks_vs_zstd(self) -> float:
        return self.chunk_bytes / self.zstd3_bytes

    @property
    def db_vs_raw(self) -> float:
        return self.db_bytes / self.raw_bytes

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            parse_best=self.parse_best,
            ingest_best=self.ingest_best,
            throughput_ratio=self.throughput,
            chunks_vs_zstd3=self.chunks_vs_zstd,
            db_vs_raw=self.db_vs_raw,
            passes={
                "throughput": self.throughput >= MIN_THROUGHPUT,
                "chunks_vs_zstd3": self.chunks_vs_zstd <= MAX_CHUNKS_VS_ZSTD,
                "db_vs_raw": self.db_vs_raw <= MAX_DB_VS_RAW,
            },
        )
        return data


# --- corpora ---------------------------------------------------------------------------------


def ingest_order(files: Iterable[Path]) -> list[Path]:
    """Sessions before their subagents, as ``session_files`` orders a Claude Code folder, so the
    archive sees the same order it would in real use."""
    return sorted(files, key=lambda p: (p.parent.name == "subagents", str(p)))


def shared_corpus(root: Path) -> list[Path]:
    return ingest_order(p for p in root.rglob("*.jsonl") if p.is_file())


def _digest(copy: int, original: bytes) -> bytes:
    return hashlib.blake2b(b"%d:" % copy + original.lower(), digest_size=32).digest()


def _new_uuid(copy: int, original: bytes) -> bytes:
    """A valid v4 UUID derived from the original, so ``uuid.UUID`` keys still parse; case kept so
    the replacement is byte-for-byte as compressible as what it replaces."""
    text = str(uuid.UUID(bytes=_digest(copy, original)[:16], version=4)).encode()
    return text.upper() if original.isupper() else text


def _new_api_id(copy: int, prefix: bytes, body: bytes) -> bytes:
    digest = _digest(copy, prefix + b"_" + body)
    length = max(len(body), MIN_API_ID_CHARS)
    chars = bytes(BASE62[digest[i % len(digest)] % len(BASE62)] for i in range(length))
    return prefix + b"_" + chars


def rewrite_ids(data: bytes, copy: int) -> bytes:
    """Replace every UUID and API id by its per-copy variant; the same original always maps to
    the same variant within a copy, so cross-file references (sessionId, parentUuid,
    tool_use_id, subagent folder names) stay consistent."""
    data = UUID_BYTES_RE.sub(lambda m: _new_uuid(copy, m.group(0)), data)
    return API_ID_RE.sub(lambda m: _new_api_id(copy, m.group(1), m.group(2)), data)


def _copy_rel_path(rel: Path, copy: int) -> Path:
    """``rel`` with its UUIDs rewritten. A loose file whose name holds none gets a copy suffix:
    a file without a ``sessionId`` is filed under its name, and copies must not share a session.
    ``subagents/agent-<agentId>.jsonl`` keeps its name, which matches the records' ``agentId``."""
    renamed = Path(*(rewrite_ids(part.encode(), copy).decode() for part in rel.parts))
    if renamed.name == rel.name and rel.parent.name != "subagents":
        renamed = renamed.with_name(f"{rel.stem}-c{copy:02d}{rel.suffix}")
    return renamed


def build_synthetic(sources: list[Path], root: Path, dest: Path, copies: int) -> list[Path]:
    """Write ``copies`` rewritten copies of ``sources`` under ``dest/copy-NN/`` with the layout
    kept and the UUIDs in directory and file names rewritten like the contents."""
    written: list[Path] = []
    for copy in range(copies):
        for source in sources:
            target = dest / f"copy-{copy:02d}" / _copy_rel_path(source.relative_to(root), copy)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rewrite_ids(source.read_bytes(), copy))
            written.append(target)
    return ingest_order(written)


# --- baselines -------------------------------------------------------------------------------


def parse_all(files: list[Path]) -> int:
    """The parse-only baseline. File reading is included, as ingest must read the files too;
    both sides read from a warm page cache."""
    lines = 0
    for path in files:
        for line in path.read_bytes().split(b"\n"):
            if line.strip():
                json.loads(line)
                lines += 1
    return lines


def zstd3_size(data: bytes) -> tuple[int, str]:
    """Size of ``zstd -3`` of ``data``: the CLI if present (what a user would compare against),
    else the python binding at the same level."""
    binary = shutil.which("zstd")
    if binary:
        out = subprocess.run([binary, "-3", "-q", "-c"], input=data, capture_output=True,
                             check=True).stdout
        banner = subprocess.run([binary, "-V"], capture_output=True, text=True).stdout
        version = re.search(r"v\d+(\.\d+)+", banner)
        return len(out), f"zstd CLI {version.group(0) if version else '(unknown version)'}"
    import zstandard

    return len(zstandard.ZstdCompressor(level=3).compress(data)), (
        f"python zstandard {zstandard.__version__}"
    )


# --- ingest ----------------------------------------------------------------------------------


def timed(func: Callable[[], object]) -> float:
    """Seconds ``func`` takes, after a collection so a previous run's garbage is not billed."""
    gc.collect()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def db_file_bytes(db_path: Path) -> int:
    return sum(p.stat().st_size for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


def ingest_once(files: list[Path], work: Path, result: CorpusResult) -> float:
    """Ingest ``files`` into a fresh archive and record its sizes; returns the ingest time.

    Opening (schema creation) is outside the timing: it is a one-off, not per-byte work.
    """
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    os.environ["SESSION_CORE_DATA_DIR"] = str(data_dir)
    archive = open_archive(work / "project")
    try:
        summaries: list[ImportSummary] = []

        def run() -> None:
            summaries.append(ingest_paths(archive, files))
            archive.db.release_free_pages()

        seconds = timed(run)
        conn = archive.db.conn
        result.chunk_bytes, result.chunk_frames = conn.execute(
            "SELECT coalesce(sum(length(data)), 0), count(*) FROM chunks").fetchone()
        result.sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        result.entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        result.ingest_warnings = len(summaries[0].warnings)
        result.ingest_failures = len(summaries[0].failures)
        db_path = Path(archive.db.path)
    finally:
        archive.close()
    result.db_bytes = db_file_bytes(db_path)
    return seconds


def measure(name: str, files: list[Path], work: Path, repeat: int) -> tuple[CorpusResult, str]:
    """Interleave parse and ingest runs so drift in machine load hits both sides alike."""
    blob = b"".join(p.read_bytes() for p in files)  # also warms the page cache
    result = CorpusResult(name, len(files), parse_all(files), len(blob))
    result.zstd3_bytes, zstd_how = zstd3_size(blob)
    del blob
    (work / "project").mkdir(parents=True, exist_ok=True)
    for _ in range(repeat):
        result.parse_seconds.append(timed(lambda: parse_all(files)))
        result.ingest_seconds.append(ingest_once(files, work, result))
    return result, zstd_how


# --- report ----------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def render(results: list[CorpusResult], repeat: int) -> str:
    """One row per metric, one column per corpus, the bar last: ratios are what to read."""
    rows: list[tuple[str, Callable[[CorpusResult], str], str]] = [
        ("files / lines", lambda r: f"{r.files} / {r.lines}", ""),
        ("sessions / entries in archive", lambda r: f"{r.sessions} / {r.entries}", ""),
        ("raw JSONL", lambda r: _mb(r.raw_bytes), ""),
        (f"parse-only, best of {repeat}", lambda r: f"{r.parse_best:.3f} s", ""),
        (f"ingest, best of {repeat}", lambda r: f"{r.ingest_best:.3f} s", ""),
        ("throughput parse/ingest",
         lambda r: f"{r.throughput:.3f} {_mark(r.throughput >= MIN_THROUGHPUT)}",
         f">= {MIN_THROUGHPUT}"),
        ("archive chunks (frames)", lambda r: f"{_mb(r.chunk_bytes)} ({r.chunk_frames})", ""),
        ("zstd -3 of all files", lambda r: _mb(r.zstd3_bytes), ""),
        ("chunks / zstd3",
         lambda r: f"{r.chunks_vs_zstd:.3f} {_mark(r.chunks_vs_zstd <= MAX_CHUNKS_VS_ZSTD)}",
         f"<= {MAX_CHUNKS_VS_ZSTD}"),
        ("database file (db + wal)", lambda r: _mb(r.db_bytes), ""),
        ("database / raw",
         lambda r: f"{r.db_vs_raw:.3f} {_mark(r.db_vs_raw <= MAX_DB_VS_RAW)}",
         f"<= {MAX_DB_VS_RAW}"),
    ]
    header = ["metric", *(r.name for r in results), "bar"]
    table = [header, *([label, *(cell(r) for r in results), bar] for label, cell, bar in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(results: list[CorpusResult], args: argparse.Namespace, zstd_how: str,
               wall: float) -> None:
    report = {
        "copies": args.copies,
        "repeat": args.repeat,
        "zstd_baseline": zstd_how,
        "wall_seconds": wall,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "bars": {"throughput_min": MIN_THROUGHPUT, "chunks_vs_zstd3_max": MAX_CHUNKS_VS_ZSTD,
                 "db_vs_raw_max": MAX_DB_VS_RAW},
        "corpora": [r.to_json() for r in results],
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest speed and archive size against baselines from the same run.")
    parser.add_argument("--copies", type=int, default=10,
                        help="copies of the shared corpus in the synthetic one (default 10)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per timing; the best is reported (default 3)")
    parser.add_argument("--shape", choices=["shared", "subagents", "1g", "big-transcript", "all"],
                        help="run bench/ingest_shapes.py on this shape instead (its own"
                             " defaults; run it directly for its other options)")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.repeat < 1:
        parser.error("--copies and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.shape:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import ingest_shapes

        return ingest_shapes.main(["--shape", args.shape])
    started = time.perf_counter()
    sources = shared_corpus(SHARED_TRANSCRIPTS)
    if not sources:
        print(f"no *.jsonl under {SHARED_TRANSCRIPTS}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="session-core-bench-") as tmp:
        work = Path(tmp)
        # Never read a real user's settings, never write into a real project or home.
        os.environ["SESSION_CORE_USER_CONFIG"] = str(work / "no-such-config.json")
        shared, zstd_how = measure("shared", sources, work / "shared", args.repeat)
        synthetic_files = build_synthetic(sources, SHARED_TRANSCRIPTS, work / "corpus",
                                          args.copies)
        synthetic, _ = measure(f"synthetic x{args.copies}", synthetic_files,
                               work / "synthetic", args.repeat)
    results = [shared, synthetic]
    wall = time.perf_counter() - started
    print(render(results, args.repeat))
    print(f"\nzstd baseline: {zstd_how}; wall time {wall:.1f} s; results in {RESULTS_PATH}")
    for r in results:
        if r.ingest_failures:
            print(f"note: {r.name}: {r.ingest_failures} file(s) failed to ingest")
    write_json(results, args, zstd_how, wall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
