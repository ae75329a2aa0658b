"""Recall benchmark (issue 11): does ``session-core search`` find the session a user means, and
how fast, next to a bare interpreter and, at 1 GB, next to grep and ripgrep over the raw files.

Search is how a user gets back to what was done, so two things matter: the session where it
happened should come first (or at least in the first five: a screen of results), and the
answer should come about as fast as grepping the transcripts would. Recall is measured on a
hand-checked query set (``bench/recall_queries.json``: identifiers, exact error messages and
questions in a user's words, each with the session that should rank first) over the shared
real transcripts, archived the way a user would (``session-core --project TMP import FILES``).
A hit is by session: the expected session first (hit@1) or among the first five sessions
(hit@5) of ``search --json``'s hits taken in rank order.

Times are ratios to baselines taken in the same run, interleaved, since the machine is noisy:
the whole command (``session-core search --json QUERY``, a process like a user's) against
``python -I -S -c pass`` (the floor of any Python process) and ``python -c pass``; in process,
``session_core.cli.search.results`` and the JSON it is printed as, on an open archive (the
store's work alone).

``--big``: the same over a corpus of at least ``--size`` (1G) made by ``bench/synth.py`` (the
shared corpus copied, ids rewritten per copy) and imported into an archive of its own. Both
are cached under ``--work`` and rebuilt only when the corpus arguments or the package's
sources change (an index change must not be measured on an archive the old code built).
Reported: the import's time, the archive's size against the raw bytes, and for ~10 queries
the search against ``grep -F -c -r WORD DIR`` and ``rg -F -c WORD DIR`` over the raw files
(the page cache warmed first: every file read once), WORD being a fixed string of the query.

Run: ``python bench/recall_bench.py [--repeat N] [--big [--size 1G] [--work DIR]
[--reimport]]``, from any folder. Writes ``bench/results/recall.json``. Always exits 0: this
is a report, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # synth.py beside this file, whatever the cwd

from synth import (  # noqa: E402
    SHARED_TRANSCRIPTS,
    SynthCorpus,
    parse_size,
    source_files,
    synthesize,
)

REPO_ROOT = BENCH_DIR.parent
QUERIES_PATH = BENCH_DIR / "recall_queries.json"
RESULTS_PATH = BENCH_DIR / "results" / "recall.json"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "session-core-recall-bench"
GROUPS = ("identifiers", "errors", "natural")
TOP = 5
ARGV_BYTES = 100_000
"""Import batches stay under this many bytes of paths, as ``xargs`` would split them."""
BASELINE_EVERY = 8
"""In the recall run, the two interpreter baselines run again after every this many queries."""
BARE, FLOOR = "python -c pass", "python -I -S -c pass"
CLI, INPROC = "session-core search --json", "in process"
GREP, RG = "grep -F -c -r WORD DIR", "rg -F -c WORD DIR"
"""The 1 GB run's series."""


# --- commands ------------------------------------------------------------------------------


def session_core_command() -> list[str]:
    """The ``session-core`` script of the interpreter running this (the venv's), else PATH's."""
    beside = Path(sys.executable).parent / "session-core"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("session-core")
    if found:
        return [found]
    return [sys.executable, "-m", "session_core"]


def clean_env(work: Path) -> dict[str, str]:
    """No user settings, no data-dir override: ``--project`` alone decides where the archive
    is, as for a user."""
    env = dict(os.environ)
    env.pop("SESSION_CORE_DATA_DIR", None)
    env["SESSION_CORE_USER_CONFIG"] = str(work / "no-such-config.json")
    return env


def run_timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of one process, output captured (a pipe for every series alike)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    return time.perf_counter() - start, done


def import_files(project: Path, files: list[Path], env: dict[str, str]) -> float:
    """``session-core --project PROJECT import FILES...`` in batches; the total seconds."""
    total = 0.0
    batch: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal total, batch, size
        if not batch:
            return
        seconds, done = run_timed([*session_core_command(), "--project", str(project), "import",
                                   *batch], env)
        if done.returncode != 0:
            raise RuntimeError(f"import failed ({done.returncode}):"
                               f" {done.stderr.decode(errors='replace')[-2000:]}")
        total += seconds
        batch, size = [], 0

    for path in files:
        if size + len(str(path)) + 1 > ARGV_BYTES:
            flush()
        batch.append(str(path))
        size += len(str(path)) + 1
    flush()
    return total


def write_settings(project: Path, tool_text_chars: int | None) -> None:
    """``--tool-text-chars``: the project's own setting, as a user would write it, so the same
    run can show what an index of only the first N characters of each tool text finds."""
    if tool_text_chars is None:
        return
    config = project / ".claude" / "session-core.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"tool_text_chars": tool_text_chars}) + "\n", encoding="utf-8")


def archive_file(project: Path) -> Path:
    return project / ".claude" / "session-core" / "archive.db"


def archive_bytes(project: Path) -> int:
    """The archive as it takes disk: the database and its WAL."""
    db = archive_file(project)
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


# --- the query set and hits ----------------------------------------------------------------


@dataclass
class Query:
    """One line of ``recall_queries.json``, and what this run found for it."""

    group: str
    name: str
    query: str
    word: str
    expect: str
    beyond_2000: bool = False
    big: bool = False
    ranked: list[str] = field(default_factory=list)
    """Sessions of the whole command's hits, in rank order."""
    hits: int = 0
    problem: str = ""
    in_process_ranked: list[str] = field(default_factory=list)
    process_seconds: list[float] = field(default_factory=list)
    in_process_seconds: list[float] = field(default_factory=list)

    @property
    def rank(self) -> int | None:
        return self.ranked.index(self.expect) + 1 if self.expect in self.ranked else None

    @property
    def hit1(self) -> bool:
        return self.rank == 1

    @property
    def hit5(self) -> bool:
        rank = self.rank
        return rank is not None and rank <= TOP


def load_queries(path: Path) -> list[Query]:
    data = json.loads(path.read_text(encoding="utf-8"))
    keys = Query.__dataclass_fields__.keys() & {"group", "name", "query", "word", "expect",
                                                "beyond_2000", "big"}
    queries = [Query(**{k: v for k, v in item.items() if k in keys}) for item in data["queries"]]
    for q in queries:
        if q.group not in GROUPS or q.word.lower() not in q.query.lower():
            raise ValueError(f"{path}: query {q.name!r}: group {q.group!r} or word {q.word!r}")
    return queries


def ranked_sessions(hits: Iterable[dict[str, Any]]) -> list[str]:
    """Sessions in the order their first hit comes: ``search`` groups hits by session, the
    session of the best hit first."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(hit["session_id"], None)
    return list(seen)


# --- in process ----------------------------------------------------------------------------


class InProcess:
    """The search command's own functions on an archive opened once: what a search costs the
    store and the snippets, without the interpreter's start and the imports."""

    def __init__(self, project: Path, env: dict[str, str]) -> None:
        os.environ.pop("SESSION_CORE_DATA_DIR", None)
        os.environ["SESSION_CORE_USER_CONFIG"] = env["SESSION_CORE_USER_CONFIG"]
        from session_core.cli import main as cli_main
        from session_core.cli import search
        from session_core.cli.upgrade import open_for_command

        self.project = str(project)
        self.parser = cli_main.build_parser()
        self.search = search
        self.archive = open_for_command(self.project)

    def run(self, query: str) -> tuple[float, list[dict[str, Any]]]:
        args = self.parser.parse_args(["search", "--project", self.project, "--json", query])
        gc.collect()
        start = time.perf_counter()
        groups = self.search.results(self.archive, args)
        hits = [hit for group in groups for hit in group["hits"]]
        json.dumps(hits, indent=2, ensure_ascii=False)
        return time.perf_counter() - start, hits

    def close(self) -> None:
        self.archive.close()


# --- statistics ----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def spread(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "n": len(samples)}


def fmt_spread(samples: list[float]) -> str:
    s = spread(samples)
    return f"{ms(s['median'])} ms ({ms(s['min'])}-{ms(s['max'])})"


def rate(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / len(flags):.0f}%)" if flags else "-"


# --- the recall run ------------------------------------------------------------------------


def run_search(project: Path, query: str, env: dict[str, str]) -> tuple[float, list | None, str]:
    """One ``session-core search --json``: seconds, its hits (None if it failed), the problem."""
    seconds, done = run_timed([*session_core_command(), "--project", str(project), "search",
                               "--json", query], env)
    if done.returncode != 0:
        return seconds, None, (f"exit {done.returncode}: "
                               + done.stderr.decode(errors="replace").strip()[:300])
    try:
        return seconds, json.loads(done.stdout), ""
    except ValueError:
        return seconds, None, "stdout is not JSON"


def recall_run(queries: list[Query], project: Path, env: dict[str, str], repeat: int,
               log: Callable[[str], None]) -> dict[str, list[float]]:
    """Every query ``repeat`` times as a whole process and in process, round-robin with the
    order rotated each round; the baselines between every few queries of every round."""
    baselines: dict[str, list[float]] = {BARE: [], FLOOR: []}
    commands = {BARE: [sys.executable, "-c", "pass"],
                FLOOR: [sys.executable, "-I", "-S", "-c", "pass"]}
    for argv in commands.values():  # warm-up
        run_timed(argv, env)
    inproc = InProcess(project, env)
    try:
        for q in queries:  # warm-up, and the answers (the same every round: checked)
            _, hits, q.problem = run_search(project, q.query, env)
            q.ranked = ranked_sessions(hits or [])
            q.hits = len(hits or [])
            try:
                _, in_hits = inproc.run(q.query)
                q.in_process_ranked = ranked_sessions(in_hits)
            except Exception as exc:  # a query the store refuses: recorded, not fatal
                q.problem = q.problem or f"in process: {type(exc).__name__}: {exc}"
        for round_no in range(repeat):
            shift = round_no * len(queries) // max(repeat, 1)
            order = queries[shift:] + queries[:shift]
            for n, q in enumerate(order):
                if n % BASELINE_EVERY == 0:
                    for name, argv in commands.items():
                        baselines[name].append(run_timed(argv, env)[0])
                seconds, hits, _ = run_search(project, q.query, env)
                q.process_seconds.append(seconds)
                if hits is not None and ranked_sessions(hits) != q.ranked:
                    q.problem = q.problem or "hits differ between runs"
                with contextlib.suppress(Exception):  # recorded in the warm-up
                    q.in_process_seconds.append(inproc.run(q.query)[0])
            log(f"  round {round_no + 1}/{repeat} done")
    finally:
        inproc.close()
    return baselines


def recall_report(queries: list[Query], baselines: dict[str, list[float]]) -> tuple[str, dict]:
    """The recall table, the queries not ranked first (by name, with where they ranked), and
    the latencies beside the baselines: printed text and the JSON part."""
    lines = ["recall (by session; hit@5 = among the first five sessions of the hits)",
             f"  {'group':<22} {'queries':>7}  {'hit@1':>12}  {'hit@5':>12}"]
    summary: dict[str, Any] = {}
    for label, subset in [("all", queries)] + [(g, [q for q in queries if q.group == g])
                                               for g in GROUPS] + [
            ("beyond 2,000 chars", [q for q in queries if q.beyond_2000]),
            ("within 2,000 chars", [q for q in queries if not q.beyond_2000])]:
        if not subset:
            continue
        h1, h5 = [q.hit1 for q in subset], [q.hit5 for q in subset]
        summary[label] = {"queries": len(subset), "hit1": sum(h1), "hit5": sum(h5)}
        lines.append(f"  {label:<22} {len(subset):>7}  {rate(h1):>12}  {rate(h5):>12}")
    misses = [q for q in queries if not q.hit1]
    lines.append("")
    lines.append(f"not first ({len(misses)}):" if misses else "every query ranks its session first")
    for q in misses:
        where = f"rank {q.rank}" if q.rank else ("no hits" if not q.hits else
                                                 f"not among {len(q.ranked)} sessions")
        top = f", first: {q.ranked[0][:8]}" if q.ranked else ""
        flag = " [beyond 2,000]" if q.beyond_2000 else ""
        lines.append(f"  {q.group:<11} {q.name}{flag}: {where}{top} ({q.hits} hits)"
                     + (f"; {q.problem}" if q.problem else ""))
    differ = [q.name for q in queries if q.in_process_ranked and q.in_process_ranked != q.ranked]
    if differ:
        lines.append(f"note: in process ranks differently for {', '.join(differ)}")
    bare = statistics.median(baselines[BARE])
    floor = statistics.median(baselines[FLOOR])
    proc = [s for q in queries for s in q.process_seconds]
    inproc = [s for q in queries for s in q.in_process_seconds]
    lines += ["", "latency: median (min-max) over every query x round",
              f"  {FLOOR:<34} {fmt_spread(baselines[FLOOR])}",
              f"  {BARE:<34} {fmt_spread(baselines[BARE])}"]
    timing: dict[str, Any] = {"baselines": {k: spread(v) for k, v in baselines.items()}}
    if proc:
        med = statistics.median(proc)
        lines.append(f"  {'session-core search --json':<34} {fmt_spread(proc)}"
                     f"  = {med / floor:.1f}x -I -S, {med / bare:.1f}x bare")
        timing["process"] = spread(proc) | {"vs_floor": med / floor, "vs_bare": med / bare}
        for g in GROUPS:
            sub = [s for q in queries if q.group == g for s in q.process_seconds]
            if sub:
                lines.append(f"    {g:<32} {fmt_spread(sub)}")
                timing[f"process_{g}"] = spread(sub)
    if inproc:
        lines.append(f"  {'in process (results + JSON)':<34} {fmt_spread(inproc)}")
        timing["in_process"] = spread(inproc)
        for g in GROUPS:
            sub = [s for q in queries if q.group == g for s in q.in_process_seconds]
            if sub:
                lines.append(f"    {g:<32} {fmt_spread(sub)}")
                timing[f"in_process_{g}"] = spread(sub)
    slow = sorted(queries, key=lambda q: -statistics.median(q.process_seconds or [0]))[:3]
    lines.append("  slowest (whole process, median): " + ", ".join(
        f"{q.name} {ms(statistics.median(q.process_seconds))} ms" for q in slow
        if q.process_seconds))
    return "\n".join(lines), {"recall": summary, "latency": timing}


# --- the 1 GB run --------------------------------------------------------------------------


def source_stamp() -> str:
    """What the archive was built by: an index change must rebuild the cached archive."""
    digest = hashlib.sha256()
    for path in [*sorted((REPO_ROOT / "session_core").rglob("*.py")), REPO_ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def big_archive(corpus: SynthCorpus, work: Path, env: dict[str, str], reimport: bool,
                tool_text_chars: int | None,
                log: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """The corpus's archive, imported with the CLI, or the one already built from the same
    corpus by the same sources (its import time is then the one measured when it was built)."""
    project = work / "archive"
    manifest_path = work / "archive.json"
    manifest_corpus = json.loads((corpus.root / "synth.json").read_text(encoding="utf-8"))
    wanted = {"corpus": hashlib.sha256(json.dumps(manifest_corpus, sort_keys=True).encode()
                                       ).hexdigest(), "sources": source_stamp(),
              "tool_text_chars": tool_text_chars}
    try:
        known = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not reimport and all(known.get(k) == v for k, v in wanted.items()) \
            and archive_file(project).exists():
        log(f"  archive reused ({project}), built {known.get('built')}")
        return project, known | {"reused": True}
    manifest_path.unlink(missing_ok=True)
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    write_settings(project, tool_text_chars)
    log(f"  importing {len(corpus.files)} files ({corpus.raw_bytes / 1e9:.2f} GB) ...")
    seconds = import_files(project, corpus.files, env)
    record = wanted | {"import_seconds": seconds, "archive_bytes": archive_bytes(project),
                       "raw_bytes": corpus.raw_bytes, "files": len(corpus.files),
                       "built": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    manifest_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return project, record | {"reused": False}


def warm(paths: Iterable[Path]) -> tuple[int, float]:
    """Read every byte once, so grep, rg and SQLite all start from a warm page cache."""
    start = time.perf_counter()
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                total += len(chunk)
    return total, time.perf_counter() - start


@dataclass
class BigQuery:
    query: Query
    series: dict[str, list[float]] = field(default_factory=dict)
    matches: dict[str, int] = field(default_factory=dict)
    top_origin: str | None = None


def count_total(stdout: bytes) -> int:
    """Sum of ``-c``'s per-file counts (``path:count`` lines)."""
    return sum(int(line.rsplit(b":", 1)[1]) for line in stdout.splitlines() if b":" in line)


def big_run(queries: list[Query], corpus: SynthCorpus, project: Path, env: dict[str, str],
            repeat: int, log: Callable[[str], None]) -> list[BigQuery]:
    """Per query, ``repeat`` rounds of: the whole command, in process, grep, rg (the order
    rotated each round), after one untimed warm-up of each."""
    grep = shutil.which("grep") or "grep"
    rg = shutil.which("rg") or "/usr/bin/rg"
    inproc = InProcess(project, env)
    out: list[BigQuery] = []
    root = str(corpus.root)
    try:
        for q in queries:
            b = BigQuery(q)
            runs: dict[str, Callable[[], float]] = {}

            def process(q: Query = q, b: BigQuery = b) -> float:
                seconds, hits, problem = run_search(project, q.query, env)
                if hits:
                    b.top_origin = corpus.sessions.get(hits[0]["session_id"])
                if problem:
                    q.problem = problem
                return seconds

            def in_process(q: Query = q) -> float:
                return inproc.run(q.query)[0]

            def tool(name: str, argv: list[str], b: BigQuery = b) -> Callable[[], float]:
                def go() -> float:
                    seconds, done = run_timed(argv, env)
                    b.matches[name] = count_total(done.stdout)
                    return seconds
                return go

            runs[CLI] = process
            runs[INPROC] = in_process
            runs[GREP] = tool("grep", [grep, "-F", "-c", "-r", q.word, root])
            runs[RG] = tool("rg", [rg, "-F", "-c", q.word, root])
            names = list(runs)
            for name in names:
                runs[name]()  # warm-up
            b.series = {name: [] for name in names}
            for round_no in range(repeat):
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    b.series[name].append(runs[name]())
            out.append(b)
            log(f"  {q.name}: search {fmt_spread(b.series[CLI])}, grep"
                f" {fmt_spread(b.series[GREP])}, rg {fmt_spread(b.series[RG])}")
    finally:
        inproc.close()
    return out


def paired(a: list[float], b: list[float]) -> list[float]:
    """Ratios round by round: drift slower than a round cancels out."""
    return [x / y for x, y in zip(a, b, strict=True)]


def big_report(corpus: SynthCorpus, archive: dict[str, Any], warm_info: tuple[int, float],
               results: list[BigQuery]) -> tuple[str, dict]:
    """The 1 GB figures: import, size, and per query the search beside grep and rg."""
    raw = corpus.raw_bytes
    lines = [f"1 GB: {len(corpus.files)} files, {raw / 1e9:.3f} GB raw ({corpus.copies} copies,"
             f" {len(corpus.sessions)} sessions)"
             + (" [corpus reused]" if corpus.reused else f" [written in {corpus.seconds:.1f} s]")]
    size = archive["archive_bytes"]
    seconds = archive["import_seconds"]
    when = f" [measured when built, {archive.get('built')}]" if archive.get("reused") else ""
    lines.append(f"  import: {seconds:.1f} s ({raw / 1e6 / seconds:.1f} MB/s){when};"
                 f" archive {size / 1e6:.1f} MB = {size / raw:.3f} x raw")
    lines.append(f"  page cache warmed: {warm_info[0] / 1e9:.2f} GB read in {warm_info[1]:.1f} s"
                 " (corpus and archive)")
    lines.append("  per query: median ms (min-max); ratio = median / median, [min-max of the"
                 " per-round ratios]")
    header = f"  {'query':<34} {'search':>16} {'in process':>16} {'grep':>16} {'rg':>16}" \
             f"  {'search/grep':>18} {'search/rg':>18} {'in-proc/rg':>10}"
    lines.append(header)
    rows: list[dict[str, Any]] = []
    for b in results:
        s = b.series
        cli, inp, g, r = s[CLI], s[INPROC], s[GREP], s[RG]

        def ratio(x: list[float], y: list[float]) -> str:
            p = paired(x, y)
            return f"{statistics.median(x) / statistics.median(y):.3f} [{min(p):.2f}-{max(p):.2f}]"

        def cell(x: list[float]) -> str:
            return f"{statistics.median(x) * 1000:.0f} ({min(x) * 1000:.0f}-{max(x) * 1000:.0f})"

        lines.append(f"  {b.query.name[:34]:<34} {cell(cli):>16} {cell(inp):>16} {cell(g):>16}"
                     f" {cell(r):>16}  {ratio(cli, g):>18} {ratio(cli, r):>18}"
                     f" {statistics.median(inp) / statistics.median(r):>10.3f}")
        rows.append({"name": b.query.name, "query": b.query.query, "word": b.query.word,
                     "series": s, "matches": b.matches,
                     "top_hit_is_copy_of_expected": b.top_origin == b.query.expect,
                     "problem": b.query.problem})
    if results:
        def overall(key: str, base: str) -> float:
            return statistics.median(statistics.median(b.series[key]) / statistics.median(
                b.series[base]) for b in results)
        lines.append(f"  median over queries: search/grep {overall(CLI, GREP):.3f},"
                     f" search/rg {overall(CLI, RG):.3f}, in process/grep"
                     f" {overall(INPROC, GREP):.4f}, in process/rg {overall(INPROC, RG):.4f}")
        tops = sum(1 for b in results if b.top_origin == b.query.expect)
        lines.append(f"  first hit is a copy of the expected session: {tops}/{len(results)}")
    problems = [f"{b.query.name}: {b.query.problem}" for b in results if b.query.problem]
    lines += [f"  problem: {p}" for p in problems]
    return "\n".join(lines), {"corpus": {"root": str(corpus.root), "files": len(corpus.files),
                                         "raw_bytes": raw, "copies": corpus.copies,
                                         "seed": corpus.seed, "reused": corpus.reused},
                              "archive": archive, "warm": {"bytes": warm_info[0],
                                                           "seconds": warm_info[1]},
                              "queries": rows}


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Recall (hit@1, hit@5) and latency of"
                                     " session-core search; --big: at 1 GB against grep and rg.")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query (default 5)")
    parser.add_argument("--queries", type=Path, default=QUERIES_PATH)
    parser.add_argument("--big", action="store_true", help="also the 1 GB run")
    parser.add_argument("--size", default="1G", help="--big's corpus size (default 1G = 2**30)")
    parser.add_argument("--seed", type=int, default=0, help="--big's corpus seed")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help=f"where --big keeps its corpus and archive (default {DEFAULT_WORK})")
    parser.add_argument("--reimport", action="store_true",
                        help="rebuild --big's archive even if the cached one is current")
    parser.add_argument("--tool-text-chars", type=int, metavar="N",
                        help="index only the first N characters of each tool text (the"
                        " project setting; default: the package's own default)")
    args = parser.parse_args(argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")
    try:
        args.size_bytes = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def checkout() -> dict[str, Any]:
    """The commit measured, and whether the package's sources differ from it (others may be
    editing them while this runs)."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), *argv], capture_output=True,
                              text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "session_core")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "session_core_changed_files": len(changed.splitlines()) if changed else 0}


def machine() -> dict[str, Any]:
    """Where the figures were taken: they only compare within one run on one machine."""
    return {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "locale": os.environ.get("LC_ALL") or os.environ.get("LANG") or "",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    queries = load_queries(args.queries)
    sources = source_files(SHARED_TRANSCRIPTS)
    report: dict[str, Any] = {"machine": machine(), "checkout": checkout(),
                              "repeat": args.repeat, "command": session_core_command(),
                              "tool_text_chars": args.tool_text_chars}
    with tempfile.TemporaryDirectory(prefix="session-core-recall-") as tmp:
        work = Path(tmp)
        env = clean_env(work)
        project = work / "project"
        project.mkdir()
        write_settings(project, args.tool_text_chars)
        log(f"importing {len(sources)} shared transcripts into {project} ...")
        import_seconds = import_files(project, sources, env)
        raw = sum(p.stat().st_size for p in sources)
        log(f"running {len(queries)} queries x {args.repeat} ...")
        baselines = recall_run(queries, project, env, args.repeat, log)
        text, part = recall_report(queries, baselines)
        head = (f"shared corpus: {len(sources)} files, {raw / 1e6:.2f} MB, imported in"
                f" {import_seconds:.2f} s; archive {archive_bytes(project) / 1e6:.2f} MB")
        print(head + "\n\n" + text)
        report["shared"] = part | {"files": len(sources), "raw_bytes": raw,
                                   "import_seconds": import_seconds,
                                   "archive_bytes": archive_bytes(project)}
    report["queries"] = [{"group": q.group, "name": q.name, "query": q.query,
                          "expect": q.expect, "beyond_2000": q.beyond_2000, "rank": q.rank,
                          "hits": q.hits, "ranked": q.ranked, "problem": q.problem,
                          "process_seconds": q.process_seconds,
                          "in_process_seconds": q.in_process_seconds} for q in queries]
    if args.big:
        work = args.work.resolve()
        work.mkdir(parents=True, exist_ok=True)
        env = clean_env(work)
        log(f"1 GB run in {work}: corpus ...")
        corpus = synthesize(work / "corpus", args.size_bytes, args.seed)
        big_project, archive = big_archive(corpus, work, env, args.reimport,
                                           args.tool_text_chars, log)
        warm_info = warm([*corpus.files, archive_file(big_project)])
        chosen = [q for q in queries if q.big]
        for q in chosen:
            q.problem = ""
        log(f"timing {len(chosen)} queries x {args.repeat} at 1 GB ...")
        results = big_run(chosen, corpus, big_project, env, args.repeat, log)
        text, part = big_report(corpus, archive, warm_info, results)
        print("\n" + text)
        report["big"] = part
    report["wall_seconds"] = time.perf_counter() - started
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    where = report["checkout"]
    dirty = (f" + {where['session_core_changed_files']} changed files in session_core/"
             if where["session_core_changed_files"] else "")
    chars = (f"; tool_text_chars {args.tool_text_chars}" if args.tool_text_chars is not None
             else "")
    print(f"\nwall time {report['wall_seconds']:.0f} s; results in {RESULTS_PATH};"
          f" {machine()['cpus']} CPUs, Python {machine()['python']},"
          f" SQLite {machine()['sqlite']}; at {where['commit']}{dirty}{chars}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
