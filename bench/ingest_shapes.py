"""Ingest on three corpus shapes and one big transcript, against parse-only baselines measured
in the same run, in process and as whole processes, with start-up split out and peak memory.

Shapes (``--shape``; ``all`` is the first four):

- ``shared``: the transcripts under ``../shared/transcripts`` (``synth.source_files``: what
  ``session-core import`` accepts);
- ``subagents``: ``synth.synthesize_subagents``: the shared corpus copied (ids rewritten per
  copy) with 20 more subagent transcripts beside every session that has any, tool results of
  10-100 K characters, and ``agent_progress`` records keeping ``progress`` at a third of the
  bytes;
- ``1g``: ``synth.synthesize`` at 1 GiB (whole copies of the shared corpus, ids rewritten);
- ``big-transcript``: ``synth.synthesize_transcript``: one session transcript of ~300 MiB;
- ``shared-x10`` (not in ``all``; for ``--profile``): ``synth.synthesize``, ten copies.

Each shape, in rounds (the order rotated each round), measures four things on the same files:

- parse in process: ``json.loads`` of every line, the files read in 4 MiB blocks (``PARSE``);
- ingest in process: ``ingest_paths`` + ``release_free_pages`` on a fresh archive (its
  opening untimed), as ``bench/ingest_bench.py`` does;
- parse process: ``python -c PARSE FILES`` (the same code, nothing else);
- import process: ``session-core --project TMP import FILES`` on a fresh project, what a user
  runs; both processes get the files in the same batches, as ``xargs`` would split them;

and the start-up of each process alone (``STARTUPS``): ``python -I -S -c pass``, ``python -c
pass``, the parse process's imports and ``session-core``'s imports before ``main`` runs. Peak
RSS is each child's own ``ru_maxrss`` (``os.wait4``: the rusage of that child alone, what
``getrusage(RUSAGE_CHILDREN)`` would give in a fresh parent), the maximum over a round's
batches. Ratios are per round (parse / ingest: above 1 ingest is faster than parsing alone),
reported as the median and range over the rounds.

Corpora are cached under ``--work`` (default ``$TMPDIR/session-core-ingest-shapes``); a rerun
writes none. Archives go to temp folders inside it and are removed after each run.

``--ingest-once SHAPE``: one in-process ingest, for a profiler to watch; ``--profile SHAPE``
runs it under ``py-spy record`` and prints where the time goes (``profile_breakdown``).

Run: ``python bench/ingest_shapes.py [--shape S] [--repeat N] [--repeat-big N] [--work DIR]``
from any folder. Writes ``bench/results/ingest_shapes.json``; always exits 0.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import linecache
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # synth.py beside this file, whatever the cwd

from synth import (  # noqa: E402
    SHARED_TRANSCRIPTS,
    SynthCorpus,
    source_files,
    synthesize,
    synthesize_subagents,
    synthesize_transcript,
)

RESULTS_PATH = BENCH_DIR / "results" / "ingest_shapes.json"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "session-core-ingest-shapes"
SHAPES = ("shared", "subagents", "1g", "big-transcript")
EXTRA_SHAPES = ("shared-x10",)
BIG_SHAPES = {"1g", "big-transcript"}
SUBAGENTS_SIZE = 64 << 20
ONE_G = 1 << 30
BIG_TRANSCRIPT = 300 << 20
ARGV_BYTES = 100_000
"""Batches of paths stay under this many bytes, as ``xargs`` would split them."""
STARTUP_RUNS = 5
"""Runs of each start-up command per round (their median is the round's figure)."""
RSS_BAR_MB = 200.0
"""The issue's bar for the 1 GB import and the 300 MB transcript."""

PARSE = """\
import json, sys
def parse(paths):
    loads, lines = json.loads, 0
    for path in paths:
        with open(path, "rb") as handle:
            rest = b""
            while True:
                block = handle.read(4 << 20)
                if not block:
                    break
                parts = (rest + block).split(b"\\n")
                rest = parts.pop()
                for line in parts:
                    if line.strip():
                        try:
                            loads(line)
                        except ValueError:
                            pass
                        lines += 1
            if rest.strip():
                lines += 1
                try:
                    loads(rest)
                except ValueError:
                    pass
    return lines
"""
"""The parse-only baseline, in process (exec'd) and as ``python -c PARSE + PARSE_MAIN``."""
PARSE_MAIN = "parse(sys.argv[1:])\n"
CLI_IMPORTS = "import re, sys; from session_core.cli.main import main"
"""What the ``session-core`` console script runs before ``main()``."""


def _parse_function() -> Callable[[list[str]], int]:
    space: dict[str, Any] = {}
    exec(compile(PARSE, "<parse-only>", "exec"), space)
    return space["parse"]


parse_files = _parse_function()


# --- corpora ---------------------------------------------------------------------------------


@dataclass
class Shape:
    name: str
    files: list[Path]
    raw_bytes: int
    note: str
    stats: dict = field(default_factory=dict)


def load_shape(name: str, work: Path, seed: int) -> Shape:
    """The shape's files, synthesized into ``work`` the first time."""
    if name == "shared":
        files = source_files(SHARED_TRANSCRIPTS)
        return Shape(name, files, sum(p.stat().st_size for p in files),
                     f"{SHARED_TRANSCRIPTS}")
    corpus: SynthCorpus
    if name == "subagents":
        corpus = synthesize_subagents(work / "subagents", SUBAGENTS_SIZE, seed)
    elif name == "1g":
        corpus = synthesize(work / "1g", ONE_G, seed)
    elif name == "big-transcript":
        corpus = synthesize_transcript(work / "big-transcript", BIG_TRANSCRIPT, seed)
    elif name == "shared-x10":
        shared = sum(p.stat().st_size for p in source_files(SHARED_TRANSCRIPTS))
        corpus = synthesize(work / "shared-x10", int(shared * 9.5), seed)
    else:
        raise ValueError(name)
    how = "cached" if corpus.reused else f"written in {corpus.seconds:.1f} s"
    return Shape(name, corpus.files, corpus.raw_bytes,
                 f"{corpus.copies} copies, seed {seed}, {how}", corpus.stats)


def batches(files: list[Path]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for path in map(str, files):
        if out[-1] and size + len(path) + 1 > ARGV_BYTES:
            out.append([])
            size = 0
        out[-1].append(path)
        size += len(path) + 1
    return out


# --- processes -------------------------------------------------------------------------------


def session_core_command() -> list[str]:
    """The ``session-core`` script of the interpreter running this (the venv's), else PATH's."""
    beside = Path(sys.executable).parent / "session-core"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("session-core")
    return [found] if found else [sys.executable, "-m", "session_core"]


def clean_env(work: Path) -> dict[str, str]:
    """No user settings, no data-dir override: ``--project`` decides, as for a user."""
    env = dict(os.environ)
    env.pop("SESSION_CORE_DATA_DIR", None)
    env["SESSION_CORE_USER_CONFIG"] = str(work / "no-such-config.json")
    return env


SPAWNER = """\
import json, os, sys, time
err_path, runs = sys.argv[1], json.loads(sys.stdin.read())
out = []
for argv in runs:
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    out.append([time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)])
print(json.dumps(out))
"""
"""Runs each argv in turn and reports (seconds, ru_maxrss KiB, exit code) of each: a small
fresh parent, since Linux starts a spawned child's ``ru_maxrss`` at its parent's high-water
mark (``exec`` folds the old address space's in), so a child of this benchmark, which holds
corpora and pydantic, would report this process's memory, not its own."""


def spawn_series(runs: list[list[str]], env: dict[str, str]) -> tuple[list[tuple[float, int]], str]:
    """Each argv of ``runs`` in turn, from ``SPAWNER`` (``python -I -S``): [(wall seconds, peak
    RSS KiB)] and the children's stderr; raises if any failed."""
    with tempfile.NamedTemporaryFile(prefix="stderr-", delete=False) as err:
        err_path = err.name
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", SPAWNER, err_path],
                              input=json.dumps(runs).encode(), env=env, capture_output=True,
                              check=False)
        text = Path(err_path).read_text(encoding="utf-8", errors="replace")
    finally:
        os.unlink(err_path)
    if done.returncode != 0:
        raise RuntimeError(f"spawner failed: {done.stderr.decode(errors='replace')[-2000:]}")
    results = json.loads(done.stdout)
    failed = [(argv[:4], code) for argv, (_, _, code) in zip(runs, results, strict=True) if code]
    if failed:
        raise RuntimeError(f"{failed[0][0]}... exited {failed[0][1]}: {text[-2000:]}")
    return [(seconds, rss) for seconds, rss, _ in results], text


def run_batched(head: list[str], groups: list[list[str]], env: dict[str, str]
                ) -> tuple[float, int, int]:
    """Every batch as one process: (total seconds, peak RSS KiB over them, warnings)."""
    results, err = spawn_series([[*head, *group] for group in groups], env)
    return (sum(seconds for seconds, _ in results), max(rss for _, rss in results),
            err.count("warning:"))


FLOOR, BARE, PARSE_START, CLI_START, CLI_FIXED = (
    "floor (-I -S -c pass)", "bare (-c pass)", "parse process imports",
    "session-core imports", "import of a 5-line file")
STARTUPS = (FLOOR, BARE, PARSE_START, CLI_START, CLI_FIXED)


def startup_commands() -> dict[str, list[str]]:
    """The start-up series but the last, which needs a fresh project per run (``measure``)."""
    py = sys.executable
    return {FLOOR: [py, "-I", "-S", "-c", "pass"], BARE: [py, "-c", "pass"],
            PARSE_START: [py, "-c", "import json, sys"], CLI_START: [py, "-c", CLI_IMPORTS]}


def tiny_transcript(work: Path) -> Path:
    """The first five lines of a real transcript: what an import process costs before any
    volume (imports, a new archive's schema, the lazy imports of ingest, the final report)."""
    source = SHARED_TRANSCRIPTS / "marot-spotter" / "short.jsonl"
    target = work / "tiny" / "55604662-cf2a-4331-851a-ec234028f8ca.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as handle:
        target.write_bytes(b"".join(handle.readline() for _ in range(5)))
    return target


# --- in process ------------------------------------------------------------------------------


def timed(func: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def ingest_in_process(files: list[Path], work: Path) -> tuple[float, dict[str, int]]:
    """One ingest into a fresh archive (opening untimed); (seconds, what the archive holds)."""
    from session_core.cli.backfill import ingest_paths
    from session_core.store.archive import open_archive

    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    os.environ["SESSION_CORE_DATA_DIR"] = str(data_dir)
    (work / "project").mkdir(parents=True, exist_ok=True)
    archive = open_archive(work / "project")
    try:
        summaries = []

        def ingest_body() -> None:  # the name --profile keeps samples under
            summaries.append(ingest_paths(archive, files))
            archive.db.release_free_pages()

        seconds = timed(ingest_body)
        conn = archive.db.conn
        info = {"entries": conn.execute("SELECT count(*) FROM entries").fetchone()[0],
                "sessions": conn.execute("SELECT count(*) FROM sessions").fetchone()[0],
                "warnings": len(summaries[0].warnings),
                "failures": len(summaries[0].failures)}
        db_path = Path(archive.db.path)
    finally:
        archive.close()
    info["db_bytes"] = sum(p.stat().st_size for p in (db_path, Path(f"{db_path}-wal"))
                           if p.exists())
    shutil.rmtree(data_dir, ignore_errors=True)
    os.environ.pop("SESSION_CORE_DATA_DIR", None)
    return seconds, info


# --- one shape -------------------------------------------------------------------------------

PARSE_IN, INGEST_IN, PARSE_PROC, IMPORT_PROC, STARTUP = (
    "parse in process", "ingest in process", "parse process", "import process", "start-up")


def measure(shape: Shape, work: Path, rounds: int, env: dict[str, str],
            log: Callable[[str], None]) -> dict[str, Any]:
    files = shape.files
    paths = [str(p) for p in files]
    groups = batches(files)
    parse_head = [sys.executable, "-c", PARSE + PARSE_MAIN]
    cli = session_core_command()
    starts = startup_commands()
    tiny = tiny_transcript(work)
    lines = parse_files(paths)  # also warms the page cache
    samples: dict[str, list[float]] = collections.defaultdict(list)
    rss: dict[str, list[int]] = collections.defaultdict(list)
    info: dict[str, Any] = {}
    warnings = [0]

    def import_process() -> None:
        project = Path(tempfile.mkdtemp(prefix="import-", dir=work))
        try:
            seconds, peak, warned = run_batched([*cli, "--project", str(project), "import"],
                                                groups, env)
        finally:
            shutil.rmtree(project, ignore_errors=True)
        samples[IMPORT_PROC].append(seconds)
        rss[IMPORT_PROC].append(peak)
        warnings[0] = warned

    def parse_process() -> None:
        seconds, peak, _ = run_batched(parse_head, groups, env)
        samples[PARSE_PROC].append(seconds)
        rss[PARSE_PROC].append(peak)

    def parse_in() -> None:
        samples[PARSE_IN].append(timed(lambda: parse_files(paths)))

    def ingest_in() -> None:
        seconds, got = ingest_in_process(files, work / "inproc")
        samples[INGEST_IN].append(seconds)
        info.update(got)

    def startups() -> None:
        projects = [Path(tempfile.mkdtemp(prefix="tiny-", dir=work))
                    for _ in range(STARTUP_RUNS)]
        series = {**{label: [argv] * STARTUP_RUNS for label, argv in starts.items()},
                  CLI_FIXED: [[*cli, "--project", str(project), "import", str(tiny)]
                              for project in projects]}
        try:
            for label, runs in series.items():
                results, _ = spawn_series(runs, env)
                samples[label].append(statistics.median(seconds for seconds, _ in results))
                rss[label].append(max(kib for _, kib in results))
        finally:
            for project in projects:
                shutil.rmtree(project, ignore_errors=True)

    steps = [parse_in, ingest_in, parse_process, import_process, startups]
    for n in range(rounds):
        order = steps[n % len(steps):] + steps[:n % len(steps)]
        started = time.perf_counter()
        for step in order:
            step()
        log(f"  {shape.name}: round {n + 1}/{rounds} in {time.perf_counter() - started:.1f} s")
    return summarize(shape, lines, len(groups), samples, rss, info, warnings[0])


def _med_range(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(shape: Shape, lines: int, nbatches: int, samples: dict[str, list[float]],
              rss: dict[str, list[int]], info: dict[str, Any], warnings: int) -> dict[str, Any]:
    rounds = len(samples[PARSE_IN])
    parse_start, cli_start, cli_fixed = samples[PARSE_START], samples[CLI_START], samples[CLI_FIXED]
    ratios = {
        "in process (parse / ingest)": [samples[PARSE_IN][i] / samples[INGEST_IN][i]
                                        for i in range(rounds)],
        "whole process (parse / import)": [samples[PARSE_PROC][i] / samples[IMPORT_PROC][i]
                                           for i in range(rounds)],
        "whole process, imports taken out": [
            (samples[PARSE_PROC][i] - nbatches * parse_start[i])
            / (samples[IMPORT_PROC][i] - nbatches * cli_start[i]) for i in range(rounds)],
        "whole process, fixed cost taken out": [
            (samples[PARSE_PROC][i] - nbatches * parse_start[i])
            / (samples[IMPORT_PROC][i] - nbatches * cli_fixed[i]) for i in range(rounds)],
    }
    return {
        "shape": shape.name, "note": shape.note, "stats": shape.stats,
        "files": len(shape.files),
        "subagent_files": sum(p.parent.name == "subagents" for p in shape.files),
        "lines": lines, "raw_bytes": shape.raw_bytes, "batches": nbatches, "rounds": rounds,
        "seconds": {k: _med_range(v) for k, v in samples.items()},
        "samples": dict(samples),
        "ratios": {k: _med_range(v) for k, v in ratios.items()},
        "ratio_samples": ratios,
        "peak_rss_mb": {k: {"median": statistics.median(v) / 1024, "max": max(v) / 1024}
                        for k, v in rss.items()},
        "archive": info, "import_warnings": warnings,
    }


# --- imports, as -X importtime counts them ---------------------------------------------------

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(argv: list[str], env: dict[str, str]) -> dict[str, int]:
    """module -> self microseconds, for one run of ``python -X importtime ARGV``."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env,
                          capture_output=True, check=False)
    found: dict[str, int] = {}
    for line in done.stderr.decode(errors="replace").splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            found[match.group(4)] = found.get(match.group(4), 0) + int(match.group(1))
    return found


def import_split(work: Path, env: dict[str, str]) -> dict[str, Any]:
    """What a real ``session-core import`` of the shared corpus imports: before ``main``
    (what the start-up series times) and lazily inside it, by top-level package, median of 3."""
    files = [str(p) for p in source_files(SHARED_TRANSCRIPTS)]
    runs: list[dict[str, int]] = []
    eager_runs: list[dict[str, int]] = []
    for _ in range(3):
        project = Path(tempfile.mkdtemp(prefix="importtime-", dir=work))
        try:
            runs.append(import_times([session_core_command()[0], "--project", str(project),
                                      "import", *files], env))
        finally:
            shutil.rmtree(project, ignore_errors=True)
        eager_runs.append(import_times(["-c", CLI_IMPORTS], env))
    eager = set(eager_runs[0])

    def by_package(run: dict[str, int], keep: Callable[[str], bool]) -> dict[str, int]:
        out: dict[str, int] = collections.Counter()
        for module, micros in run.items():
            if keep(module):
                out[module.split(".")[0]] += micros
        return out

    def med(dicts: list[dict[str, int]]) -> dict[str, float]:
        keys = set().union(*dicts)
        return {k: statistics.median(d.get(k, 0) for d in dicts) / 1000 for k in keys}

    lazy = med([by_package(r, lambda m: m not in eager) for r in runs])
    before = med([by_package(r, lambda m: m in eager) for r in runs])
    return {"before_main_ms": sum(before.values()), "in_main_ms": sum(lazy.values()),
            "before_main": dict(sorted(before.items(), key=lambda kv: -kv[1])),
            "in_main": dict(sorted(lazy.items(), key=lambda kv: -kv[1]))}


# --- profile ---------------------------------------------------------------------------------

def _in(path: str, *names: str) -> bool:
    return path.endswith(tuple(f"/{n}" for n in names))


CATEGORIES: list[tuple[str, Callable[[str, str, str], bool]]] = [
    # (label, test on (function, file, source line)); the first frame from the leaf that
    # matches a rule decides (rules tried in this order on each frame).
    ("commit (COMMIT: WAL write + fsync)",
     lambda f, p, s: _in(p, "connection.py") and "COMMIT" in s),
    ("FTS5 insert (deferred words, at commit)",
     lambda f, p, s: f == "_end_batch" and "executemany" in s),
    ("release_free_pages", lambda f, p, s: f == "release_free_pages"),
    ("compression (zstd)", lambda f, p, s: "zstandard" in p or _in(p, "codec.py")),
    ("hashing (BLAKE2)", lambda f, p, s: _in(p, "hashing.py") or f == "_fingerprint"
     or (_in(p, "frames.py") and f in ("seal", "content_hash"))),
    ("waiting for the compression thread",
     lambda f, p, s: (f == "result" and "concurrent" in p) or "pending.result()" in s),
    ("frame repack", lambda f, p, s: _in(p, "frames.py") and f in ("repack", "_merge")),
    ("SQLite: frames insert", lambda f, p, s: _in(p, "frames.py")),
    ("SQLite: entries insert", lambda f, p, s: _in(p, "entries.py")),
    ("SQLite: usage, costs, sessions", lambda f, p, s: _in(p, "usage.py", "sessions.py")),
    ("SQLite: files, meta, digests rows",
     lambda f, p, s: _in(p, "files.py", "meta.py", "digests.py", "forgotten.py")),
    ("pydantic import + model build (one-off)", lambda f, p, s: "/pydantic/" in p),
    ("parse + pydantic validation (validate_json)", lambda f, p, s: _in(p, "records_bulk.py")),
    ("record objects (records.py)", lambda f, p, s: _in(p, "records.py", "jsonlite.py")),
    ("digest fold", lambda f, p, s: _in(p, "digest.py", "outcomes.py")),
    ("index extraction (text, tools, usage)",
     lambda f, p, s: _in(p, "extract.py", "index.py", "text.py")),
    ("progress sniffing (is_plain_progress)", lambda f, p, s: f in (
        "is_plain_progress", "names_an_indexed_type", "progress_timestamp")),
    ("line splitting + file reads (LineSplitter, pieces)", lambda f, p, s: _in(p, "lines.py")),
    ("imports (lazy, inside ingest)", lambda f, p, s: "importlib" in p),
    ("ingest loop (ingest.py itself)", lambda f, p, s: _in(p, "ingest.py")),
    ("connection (savepoints, batches)", lambda f, p, s: _in(p, "connection.py")),
]
_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


_RESOLVED: dict[str, str] = {}


def _source_line(path: str, line: int) -> str:
    """The line's text; py-spy names files relative to the ``sys.path`` entry they came from."""
    if path not in _RESOLVED:
        found = path
        if not os.path.isabs(path):
            for entry in (str(BENCH_DIR.parent), *sys.path):
                if entry and os.path.exists(os.path.join(entry, path)):
                    found = os.path.join(entry, path)
                    break
        _RESOLVED[path] = found
    return linecache.getline(_RESOLVED[path], line).strip()


def classify(stack: list[str]) -> str:
    for frame in reversed(stack):
        match = _FRAME.match(frame.strip())
        if not match:
            continue
        func, path, line = match.group(1), match.group(2), int(match.group(3))
        func = func.rpartition(".")[2]
        path = "/" + path if not path.startswith("/") else path
        source = _source_line(path.lstrip("/") if not os.path.exists(path) else path, line)
        for label, test in CATEGORIES:
            if test(func, path, source):
                return label
    return "other"


def profile_breakdown(raw: Path) -> dict[str, Any]:
    """py-spy's ``--format raw`` (collapsed stacks, ``--threads --idle``): samples under the
    timed ingest, by category, for the main thread (the wall) and the compression thread."""
    threads: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    functions: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for text in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack_text, _, count = text.rpartition(" ")
        if not count.isdigit():
            continue
        stack = stack_text.split(";")
        is_pool = any("concurrent/futures/thread.py" in s for s in stack)
        if not is_pool and not any(".ingest_body (" in s for s in stack):
            continue
        if is_pool and not any("_compress_and_hash" in s for s in stack):
            continue  # the pool thread waiting for work
        name = "compression thread" if is_pool else "main"
        threads[name][classify(stack)] += int(count)
        leaf = next((f for f in reversed(stack) if "session_core/" in f), "?")
        functions[name][re.sub(r":\d+\)$", ")", leaf)] += int(count)
    main_total = sum(threads["main"].values()) or 1
    return {name: {"samples": sum(c.values()), "share_of_main_wall": sum(c.values()) / main_total,
                   "categories": {k: v / sum(c.values()) for k, v in c.most_common()},
                   "deepest_session_core_function": {
                       k: v / sum(c.values()) for k, v in functions[name].most_common(15)}}
            for name, c in threads.items()}


def run_profile(shape: Shape, args: argparse.Namespace, log: Callable[[str], None]) -> int:
    spy = Path(sys.executable).parent / "py-spy"
    binary = str(spy) if spy.exists() else shutil.which("py-spy")
    if not binary:
        print("py-spy not found (pip install py-spy)", file=sys.stderr)
        return 0
    out = args.work / f"profile-{shape.name}.txt"
    argv = [binary, "record", "--idle", "--threads", "--rate", str(args.rate), "--format", "raw",
            "--output", str(out), "--", sys.executable, str(Path(__file__).resolve()),
            "--work", str(args.work), "--seed", str(args.seed), "--ingest-once", shape.name,
            "--runs", str(args.runs)]
    log(f"profiling {shape.name}: {' '.join(argv)}")
    subprocess.run(argv, check=True)
    breakdown = profile_breakdown(out)
    for thread, data in breakdown.items():
        print(f"\n{shape.name}, {thread}: {data['samples']} samples"
              f" ({data['share_of_main_wall']:.0%} of the main thread's)")
        for label, share in data["categories"].items():
            print(f"  {share:6.1%}  {label}")
        print("  by the deepest session_core frame:")
        for label, share in data["deepest_session_core_function"].items():
            print(f"  {share:6.1%}  {label}")
    path = RESULTS_PATH.with_name(f"profile-{shape.name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(breakdown, indent=2) + "\n", encoding="utf-8")
    print(f"\nraw stacks in {out}; breakdown in {path}")
    return 0


# --- report ----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render(result: dict[str, Any]) -> str:
    s, r, mem = result["seconds"], result["ratios"], result["peak_rss_mb"]
    mb = result["raw_bytes"] / 1e6
    out = [f"\n== {result['shape']}: {result['files']} files ({result['subagent_files']} under"
           f" subagents/), {result['lines']:,} lines, {mb:.1f} MB, {result['batches']}"
           f" process(es) per whole-process run; {result['rounds']} rounds ({result['note']})"]
    if result["stats"]:
        out.append("   " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in result["stats"].items()))
    out.append(f"   {'':34} {'median':>10} {'min':>10} {'max':>10} {'MB/s':>7}")
    for label in (PARSE_IN, INGEST_IN, PARSE_PROC, IMPORT_PROC, *STARTUPS):
        v = s[label]
        rate = f"{mb / v['median']:7.1f}" if label in (PARSE_IN, INGEST_IN, PARSE_PROC,
                                                       IMPORT_PROC) else ""
        out.append(f"   {label:34} {_ms(v['median']):>10} {_ms(v['min']):>10}"
                   f" {_ms(v['max']):>10} {rate}")
    for label, v in r.items():
        out.append(f"   ratio {label:38} {v['median']:.3f} ({v['min']:.3f}-{v['max']:.3f})")
    n, whole = result["batches"], s[IMPORT_PROC]["median"]
    cli, fixed = s[CLI_START]["median"] * n, s[CLI_FIXED]["median"] * n
    out.append(f"   import process {_ms(whole)}: imports before main {_ms(cli)}"
               f" ({cli / whole:.0%}), fixed cost {_ms(fixed)} ({fixed / whole:.0%}); parse process"
               f" {_ms(s[PARSE_PROC]['median'])}: start-up {_ms(s[PARSE_START]['median'] * n)}")
    for label, v in mem.items():
        out.append(f"   peak RSS {label:24} {v['median']:.1f} MB (max {v['max']:.1f})")
    arch = result["archive"]
    if arch:
        db = arch["db_bytes"]
        out.append(f"   archive: {arch['entries']:,} entries, {arch['sessions']} sessions,"
                   f" db {db / 1e6:.1f} MB = {db / result['raw_bytes']:.3f}x raw;"
                   f" warnings {arch['warnings']}, failures {arch['failures']}")
    return "\n".join(out)


def summary_table(results: list[dict[str, Any]]) -> str:
    head = ("shape", "MB", "in process", "whole process", "w/o imports", "w/o fixed cost",
            "fixed cost share", "peak RSS import")
    rows = [head]
    for res in results:
        r, s = res["ratios"], res["seconds"]
        share = s[CLI_FIXED]["median"] * res["batches"] / s[IMPORT_PROC]["median"]
        cells = [f"{v['median']:.3f} ({v['min']:.2f}-{v['max']:.2f})" for v in r.values()]
        rows.append((res["shape"], f"{res['raw_bytes'] / 1e6:.1f}", *cells, f"{share:.0%}",
                     f"{res['peak_rss_mb'][IMPORT_PROC]['max']:.0f} MB"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="all", choices=[*SHAPES, *EXTRA_SHAPES, "all"])
    parser.add_argument("--repeat", type=int, default=7,
                        help="rounds for shared and subagents (default 7)")
    parser.add_argument("--repeat-big", type=int, default=3,
                        help="rounds for 1g and big-transcript (default 3)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help=f"where corpora are cached (default {DEFAULT_WORK})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ingest-once", metavar="SHAPE", choices=[*SHAPES, *EXTRA_SHAPES],
                        help="ingest SHAPE once in process and exit (for a profiler)")
    parser.add_argument("--profile", metavar="SHAPE", choices=[*SHAPES, *EXTRA_SHAPES],
                        help="--ingest-once SHAPE under py-spy; prints where the time goes")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--runs", type=int, default=5,
                        help="ingests by --ingest-once (each into a fresh archive; default 5)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.repeat_big < 1:
        parser.error("--repeat and --repeat-big must be at least 1")
    args.work = args.work.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    env = clean_env(args.work)
    os.environ["SESSION_CORE_USER_CONFIG"] = env["SESSION_CORE_USER_CONFIG"]
    if args.ingest_once:
        shape = load_shape(args.ingest_once, args.work, args.seed)
        scratch = Path(tempfile.mkdtemp(prefix="once-", dir=args.work))
        try:
            for _ in range(args.runs):
                seconds, info = ingest_in_process(shape.files, scratch)
                print(f"{shape.name}: {shape.raw_bytes / 1e6:.1f} MB ingested in {seconds:.2f} s;"
                      f" {info}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return 0
    if args.profile:
        return run_profile(load_shape(args.profile, args.work, args.seed), args, log)
    started = time.perf_counter()
    names = SHAPES if args.shape == "all" else (args.shape,)
    shapes = []
    for name in names:
        log(f"corpus {name} ...")
        shapes.append(load_shape(name, args.work, args.seed))
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=args.work))
    results = []
    try:
        log("warm-up: one ingest of the shared corpus in process and as a process ...")
        shared = load_shape("shared", args.work, args.seed)
        ingest_in_process(shared.files, scratch / "warm")
        project = Path(tempfile.mkdtemp(prefix="warm-", dir=scratch))
        run_batched([*session_core_command(), "--project", str(project), "import"],
                    batches(shared.files), env)
        log("imports of a real session-core import (-X importtime) ...")
        imports = import_split(scratch, env)
        for shape in shapes:
            rounds = args.repeat_big if shape.name in BIG_SHAPES else args.repeat
            log(f"measuring {shape.name} ({rounds} rounds) ...")
            results.append(measure(shape, scratch, rounds, env, log))
            print(render(results[-1]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    wall = time.perf_counter() - started
    print("\nimports of a real `session-core import` (-X importtime, median of 3):"
          f" {imports['before_main_ms']:.1f} ms before main, {imports['in_main_ms']:.1f} ms"
          " inside it (lazy)")
    for label in ("before_main", "in_main"):
        top = list(imports[label].items())[:8]
        print(f"  {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in top))
    print("\nratios parse / ingest (median over rounds; >= 1: ingest at least as fast as"
          " parsing alone)\n" + summary_table(results))
    print(f"\nwall time {wall:.0f} s; results in {RESULTS_PATH}")
    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
        "executable": sys.executable, "wall_seconds": wall, "imports": imports,
        "rss_bar_mb": RSS_BAR_MB, "shapes": results,
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
