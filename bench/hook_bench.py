"""Hook start-up benchmark: what one hook process costs next to a bare interpreter start.

Claude Code starts a fresh process for every hook event and for every status-line refresh, so
the interpreter start plus our imports plus the event's work is paid again and again. Absolute
times mean little on a noisy machine, so every figure is a ratio of medians to ``python -c pass``
measured interleaved in the same run. The package is installed NON-editable into its own venv
(``bench/results/venv``, rebuilt when the sources change): an editable install's import hook
would bill a finder to every import and make the figures unrepresentative of a user's install.

Measured, round-robin, ``--repeat`` times each: bare python; SessionStart (``startup``, a new
session id, its transcript not written yet) on an archive of 1,000 sessions and on one of 10
(each transcript folder holds its sessions' transcripts, as Claude Code's does); Stop on a
transcript that gains two lines before every run (real incremental work); the status line with
the session's live state file present. Bars: status line <= 2x bare, SessionStart and Stop <= 4x,
SessionStart@1000 / SessionStart@10 <= 1.2.

Run: ``python bench/hook_bench.py [--repeat N]``. Writes ``bench/results/hooks.json``. Always
exits 0: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest_bench import rewrite_ids  # same folder: one id rewriter for both benchmarks

from session_core import paths
from session_core.archive import open_archive
from session_core.importer import ingest_paths

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULTS_PATH = RESULTS_DIR / "hooks.json"
VENV_DIR = RESULTS_DIR / "venv"
HOOKS = REPO_ROOT / "hooks"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
FIXTURE_SESSION = b"6b32797c-28fc-4a1f-b9c8-863fe6c99815"

MAX_STATUS_VS_BARE = 2.0
MAX_HOOK_VS_BARE = 4.0
MAX_START_1000_VS_10 = 1.2
LARGE, SMALL = 1000, 10
SMALL_LINE_BYTES = 2000
"""Synthetic transcripts keep the fixture's lines under this size: 1,000 sessions of ~20 KB
build in seconds; the big attachment lines add bytes, not sessions."""
LINES_PER_STOP = 2
RECENT_SESSIONS = 10
"""Sessions of each archive dated within the last week and never ended (no SessionEnd ran):
SessionStart stats each of them. The same number in both archives, so @1000 / @10 compares
archive size at equal recent activity."""
IMPORT_ONLY = (
    ("status line", "session_core.statusline"),
    ("Stop", "session_core.hookrun, session_core.handlers.saver, session_core.handlers.chat"),
    ("SessionStart", "session_core.hookrun, session_core.handlers.loader,"
                     " session_core.handlers.context"),
)
"""Informational rows: the same modules imported and nothing done, to split a hook's time into
imports and work (no bar)."""
DATE = b"2026-11-23T"
"""The fixture's date, replaced per synthetic session."""


@dataclass
class Series:
    """One measured command; serialised into the JSON report."""

    name: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    bar: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# --- the venv with a non-editable install -------------------------------------------------------


def _source_stamp() -> str:
    """Reinstall when anything that goes into the wheel changed."""
    digest = hashlib.sha256()
    files = [*sorted((REPO_ROOT / "session_core").rglob("*.py")), REPO_ROOT / "pyproject.toml"]
    for path in files:
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _venv_python() -> Path:
    return VENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(log: Callable[[str], None]) -> Path:
    """The bench venv's python, with the current sources installed as a user would have them.

    Installed from a copy of the sources so the build leaves nothing in the work tree.
    """
    python, stamp_file, stamp = _venv_python(), VENV_DIR / "session-core.stamp", _source_stamp()
    if not python.exists():
        log(f"creating {VENV_DIR}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    if not stamp_file.exists() or stamp_file.read_text() != stamp:
        log("installing session-core (non-editable) into the bench venv")
        with tempfile.TemporaryDirectory(prefix="session-core-src-") as tmp:
            source = Path(tmp) / "src"
            source.mkdir()
            shutil.copytree(REPO_ROOT / "session_core", source / "session_core",
                            ignore=shutil.ignore_patterns("__pycache__"))
            for name in ("pyproject.toml", "README.md"):
                shutil.copy2(REPO_ROOT / name, source / name)
            pip = [str(python), "-m", "pip", "install", "--quiet"]
            for extra in ([], ["--no-deps", "--force-reinstall"]):
                done = subprocess.run([*pip, *extra, str(source)], capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"pip install failed:\n{done.stdout}{done.stderr}")
        stamp_file.write_text(stamp)
    where = subprocess.run(
        [str(python), "-c", "import session_core, sys; print(session_core.__file__)"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
        env=_clean_env({})).stdout.strip()
    if not where.startswith(str(VENV_DIR)):
        raise RuntimeError(f"the bench venv imports session_core from {where}, not its install")
    return python


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """No PYTHONPATH (it would shadow the install) and no SESSION_CORE_* from the caller."""
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith("SESSION_CORE_")
           and k not in ("CLAUDE_PROJECT_DIR", "VIRTUAL_ENV")}
    env.update(extra)
    return env


# --- the archives -------------------------------------------------------------------------------


def small_lines() -> list[bytes]:
    return [line for line in FIXTURE.read_bytes().splitlines(keepends=True)
            if len(line) < SMALL_LINE_BYTES]


def synthetic_transcripts(folder: Path, count: int, first_copy: int) -> list[Path]:
    """``count`` distinct sessions: ids rewritten per copy, dates spread one day apart from
    2023-11-14, except the last :data:`RECENT_SESSIONS`, dated yesterday: recent sessions
    without a clean SessionEnd are what SessionStart checks, as many in both archives."""
    folder.mkdir(parents=True, exist_ok=True)
    body = b"".join(small_lines())
    written = []
    yesterday = time.time() - 86_400
    for index, copy in enumerate(range(first_copy, first_copy + count)):
        when = yesterday if count - index <= RECENT_SESSIONS else 1_700_000_000 + copy * 86_400
        day = time.strftime("%Y-%m-%dT", time.gmtime(when)).encode()
        data = rewrite_ids(body, copy).replace(DATE, day)
        path = folder / f"{rewrite_ids(FIXTURE_SESSION, copy).decode()}.jsonl"
        path.write_bytes(data)
        written.append(path)
    return written


def build_archive(project: Path, data_dir: Path, files: list[Path]) -> int:
    """Ingest once, in this process, as ``session-core import`` would, then leave the state
    the hooks would have: old sessions ended cleanly, the recent ones open (a prompt, no
    SessionEnd). Returns the number of sessions."""
    os.environ[paths.DATA_DIR_ENV] = str(data_dir)
    week_ago = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 7 * 86_400))
    try:
        with open_archive(project) as archive:
            summary = ingest_paths(archive, files)
            if summary.failures:
                raise RuntimeError(f"ingest failed: {summary.failures[:3]}")
            with archive.db.write() as conn:
                conn.execute(
                    "INSERT INTO session_state(session_uuid, last_event, last_event_at,"
                    " end_reason, ended_at) SELECT uuid, CASE WHEN last_ts < ?1 THEN"
                    " 'SessionEnd' ELSE 'UserPromptSubmit' END, last_ts, CASE WHEN last_ts < ?1"
                    " THEN 'logout' END, CASE WHEN last_ts < ?1 THEN last_ts END FROM sessions",
                    (week_ago,))
            archive.db.release_free_pages()
            return int(archive.db.conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    finally:
        del os.environ[paths.DATA_DIR_ENV]


def git_project(project: Path, env: dict[str, str]) -> None:
    """Projects are git repositories: the handoff reads HEAD and asks ``git status`` once."""
    project.mkdir(parents=True)
    (project / "README.md").write_text("bench project\n")
    git = ["git", "-C", str(project), "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], check=True, env=env, capture_output=True)


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Command:
    """A command to time: ``prepare`` runs untimed just before each run and returns stdin."""

    series: Series
    env: dict[str, str]
    cwd: Path
    prepare: Callable[[int], bytes]
    check: Callable[[subprocess.CompletedProcess[bytes]], str | None] = lambda _: None


def time_once(command: Command, run: int) -> tuple[float, str | None]:
    stdin = command.prepare(run)
    started = time.perf_counter()
    result = subprocess.run(command.series.argv, input=stdin, capture_output=True,
                            env=command.env, cwd=command.cwd, timeout=120, check=False)
    seconds = time.perf_counter() - started
    problem = f"exit {result.returncode}" if result.returncode else command.check(result)
    return seconds, problem


def measure(commands: list[Command], repeat: int, warmup: int = 2) -> list[str]:
    """Round-robin, the order rotated each round so no command always follows another."""
    problems: list[str] = []
    for _ in range(warmup):  # compile .pyc files, warm the page cache
        for command in commands:
            time_once(command, -1)
    for round_no in range(repeat):
        shift = round_no % len(commands)
        for command in commands[shift:] + commands[:shift]:
            seconds, problem = time_once(command, round_no)
            command.series.seconds.append(seconds)
            if problem:
                problems.append(f"{command.series.name}: {problem}")
    return problems


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Setup:
    python: Path
    env: dict[str, str]
    project: Path
    large_folder: Path
    small_folder: Path
    large_data: Path
    small_data: Path
    large_sessions: int
    small_sessions: int
    build_seconds: float


def prepare_world(work: Path, python: Path) -> Setup:
    home = work / "home"
    home.mkdir()
    env = _clean_env({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "SESSION_CORE_USER_CONFIG": str(work / "no-such-config.json"),
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    project = work / "project"
    git_project(project, env)
    env["CLAUDE_PROJECT_DIR"] = str(project)
    projects = home / ".claude" / "projects"
    large_folder, small_folder = projects / "large", projects / "small"
    started = time.perf_counter()
    # Never read a real user's settings while building in this process either.
    os.environ["SESSION_CORE_USER_CONFIG"] = env["SESSION_CORE_USER_CONFIG"]
    large = build_archive(project, work / "data-large",
                          synthetic_transcripts(large_folder, LARGE, 0))
    small = build_archive(project, work / "data-small",
                          synthetic_transcripts(small_folder, SMALL, LARGE))
    return Setup(python, env, project, large_folder, small_folder, work / "data-large",
                 work / "data-small", large, small, time.perf_counter() - started)


def _no_output(result: subprocess.CompletedProcess[bytes]) -> str | None:
    return f"unexpected stdout {result.stdout[:80]!r}" if result.stdout.strip() else None


def _handoff_printed(result: subprocess.CompletedProcess[bytes]) -> str | None:
    """SessionStart must do its whole job on both archives: a handoff from the last session."""
    try:
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
    except (ValueError, KeyError, TypeError):
        return f"no handoff on stdout: {result.stdout[:80]!r}"
    return None if "Previous session" in context else "handoff without a previous session"


def build_commands(setup: Setup) -> list[Command]:
    py, project = str(setup.python), str(setup.project)

    def env_for(data: Path) -> dict[str, str]:
        return {**setup.env, paths.DATA_DIR_ENV: str(data)}

    def session_start(folder: Path) -> Callable[[int], bytes]:
        def prepare(_: int) -> bytes:
            session = str(uuid.uuid4())
            return json.dumps({
                "session_id": session, "transcript_path": str(folder / f"{session}.jsonl"),
                "cwd": project, "hook_event_name": "SessionStart", "source": "startup",
            }).encode()
        return prepare

    stop_session = rewrite_ids(FIXTURE_SESSION, 99_999).decode()
    stop_transcript = setup.large_folder / f"{stop_session}.jsonl"
    lines = small_lines()
    # Dated before every synthetic session: the handoff's "previous session" must stay the same
    # size on both archives, not be this one, which grows.
    old_date = b"2020-01-01T"
    stop_transcript.write_bytes(rewrite_ids(b"".join(lines[:10]), 99_999).replace(DATE, old_date))

    def stop(run: int) -> bytes:
        """Two more lines, ids rewritten per run so each is a new record, then the payload."""
        with open(stop_transcript, "ab") as handle:
            for k in range(LINES_PER_STOP):
                line = lines[(run * LINES_PER_STOP + k) % len(lines)]
                handle.write(rewrite_ids(line, 200_000 + run * LINES_PER_STOP + k)
                             .replace(DATE, old_date))
        return json.dumps({
            "session_id": stop_session, "transcript_path": str(stop_transcript), "cwd": project,
            "hook_event_name": "Stop", "stop_hook_active": False,
            "last_assistant_message": f"Done with step {run}.",
        }).encode()

    status_payload = json.dumps({
        "session_id": stop_session, "transcript_path": str(stop_transcript), "cwd": project,
        "model": {"id": "claude-opus-4", "display_name": "Opus"},
        "workspace": {"current_dir": project, "project_dir": project},
        "cost": {"total_cost_usd": 0.42, "total_duration_ms": 65_000},
        "context_window": {"used_percentage": 37.5},
    }).encode()

    def status_check(result: subprocess.CompletedProcess[bytes]) -> str | None:
        line = result.stdout.decode("utf-8", "replace")
        return None if "msgs saved" in line else f"no live state shown: {line.strip()!r}"

    hook = str(HOOKS / "session_loader.py")
    return [
        Command(Series("bare python -c pass", [py, "-c", "pass"]), setup.env, setup.project,
                lambda _: b""),
        Command(Series(f"SessionStart @{setup.large_sessions}", [py, hook, "SessionStart"],
                       bar=f"<= {MAX_HOOK_VS_BARE}x"),
                env_for(setup.large_data), setup.project, session_start(setup.large_folder),
                _handoff_printed),
        Command(Series(f"SessionStart @{setup.small_sessions}", [py, hook, "SessionStart"],
                       bar=f"<= {MAX_HOOK_VS_BARE}x"),
                env_for(setup.small_data), setup.project, session_start(setup.small_folder),
                _handoff_printed),
        Command(Series("Stop (+2 lines)", [py, str(HOOKS / "session_saver.py"), "Stop"],
                       bar=f"<= {MAX_HOOK_VS_BARE}x"),
                env_for(setup.large_data), setup.project, stop, _no_output),
        Command(Series("status line", [py, str(HOOKS / "status_line.py")],
                       bar=f"<= {MAX_STATUS_VS_BARE}x"),
                {**env_for(setup.large_data), "NO_COLOR": "1"}, setup.project,
                lambda _: status_payload, status_check),
        *(Command(Series(f"  imports only: {label}", [py, "-c", f"import {modules}"],
                         bar="(where the time goes)"), setup.env, setup.project, lambda _: b"")
          for label, modules in IMPORT_ONLY),
    ]


def log_errors(setup: Setup) -> list[str]:
    """ERROR lines the hooks logged: a hook that failed fast would look fast."""
    log = subprocess.run(
        [str(setup.python), "-c", "from session_core import hooklog; print(hooklog.log_path())"],
        capture_output=True, text=True, env=setup.env, check=True).stdout.strip()
    try:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if " ERROR " in line]


# --- report -------------------------------------------------------------------------------------


def verdicts(series: list[Series]) -> dict[str, dict[str, Any]]:
    bare, start_large, start_small, stop, status = series[:5]
    rows = {
        "status_vs_bare": (status.median / bare.median, MAX_STATUS_VS_BARE),
        "session_start_large_vs_bare": (start_large.median / bare.median, MAX_HOOK_VS_BARE),
        "session_start_small_vs_bare": (start_small.median / bare.median, MAX_HOOK_VS_BARE),
        "stop_vs_bare": (stop.median / bare.median, MAX_HOOK_VS_BARE),
        "session_start_large_vs_small": (start_large.median / start_small.median,
                                         MAX_START_1000_VS_10),
    }
    return {name: {"ratio": ratio, "max": bar, "pass": ratio <= bar}
            for name, (ratio, bar) in rows.items()}


def render(series: list[Series], results: dict[str, dict[str, Any]], repeat: int) -> str:
    bare = series[0].median
    lines = [f"{'command':<30} {'median':>9} {'p10':>8} {'p90':>8} {'x bare':>7}  bar"]
    for s in series:
        ordered = sorted(s.seconds)
        p10, p90 = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
        lines.append(f"{s.name:<30} {s.median * 1000:7.1f}ms {p10 * 1000:6.1f}ms "
                     f"{p90 * 1000:6.1f}ms {s.median / bare:6.2f}x  {s.bar}")
    lines.append(f"\nratios of medians ({repeat} runs each, interleaved):")
    for name, row in results.items():
        mark = "PASS" if row["pass"] else "FAIL"
        lines.append(f"  {name:<30} {row['ratio']:6.2f}  <= {row['max']:<4} {mark}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Hook process cost against a bare python start.")
    parser.add_argument("--repeat", type=int, default=30,
                        help="timed runs per command, interleaved (default 30)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    python = ensure_venv(lambda message: print(message, flush=True))
    with tempfile.TemporaryDirectory(prefix="session-core-hook-bench-") as tmp:
        setup = prepare_world(Path(tmp), python)
        print(f"archives: {setup.large_sessions} and {setup.small_sessions} sessions"
              f" (built in {setup.build_seconds:.1f} s)", flush=True)
        commands = build_commands(setup)
        problems = measure(commands, args.repeat)
        errors = log_errors(setup)
    series = [c.series for c in commands]
    results = verdicts(series)
    wall = time.perf_counter() - started
    print(render(series, results, args.repeat))
    for problem in sorted(set(problems))[:10]:
        print(f"problem: {problem}")
    for error in errors[:10]:
        print(f"hook error: {error}")
    print(f"\nwall time {wall:.1f} s; results in {RESULTS_PATH}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps({
        "repeat": args.repeat,
        "wall_seconds": wall,
        "python": subprocess.run([str(python), "-c", "import sys; print(sys.version)"],
                                 capture_output=True, text=True).stdout.strip(),
        "install": f"non-editable, {VENV_DIR}",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sessions": {"large": setup.large_sessions, "small": setup.small_sessions},
        "build_seconds": setup.build_seconds,
        "series": [{"name": s.name, "argv_tail": s.argv[1:], "median": s.median,
                    "seconds": s.seconds} for s in series],
        "ratios": results,
        "problems": sorted(set(problems)),
        "hook_errors": errors,
    }, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
