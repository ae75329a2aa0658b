"""Hook start-up benchmark: what one hook process costs next to a bare interpreter start.

Claude Code starts a fresh process for every hook event and for every status-line refresh, so
the interpreter start plus our imports plus the event's work is paid again and again. Absolute
times mean little on a noisy machine, so every figure is a ratio of medians to ``python -c pass``
measured interleaved in the same run, and also, for information, to ``python -I -S -c pass``: the
floor of any Python process (no ``site``, so none of the venv's ``.pth`` files or
``sitecustomize``), which tells how much of "bare" is start-up no hook can avoid. The package is
installed NON-editable into its own venv (``bench/results/venv``, rebuilt when the sources
change): an editable install's import hook would bill a finder to every import and make the
figures unrepresentative of a user's install.

Measured, round-robin, ``--repeat`` times each: bare python; SessionStart (``startup``, a new
session id, its transcript not written yet) on an archive of 1,000 sessions and on one of 10
(each transcript folder holds its sessions' transcripts, as Claude Code's does); Stop on a
transcript that gains two lines before every run (real incremental work); the status line with
the session's live state file present; Stop on ONE session of ~100 MB (its own archive, ingested
once, its saved digest brought up to date once by a real SessionStart) that gains five lines
before every run: a Stop must cost the same whatever the session's size, and this series is
there to show whether it does (no bar: it is compared against itself across versions). Bars:
status line <= 2x bare, SessionStart and Stop <= 4x, SessionStart@1000 / SessionStart@10 <= 1.2.

Run: ``python bench/hook_bench.py [--repeat N] [--sessions N] [--no-big] [--against DIR]``
(``--sessions``: the large archive's size, 1,000 by default; the performance bar is at
10,000). Writes ``bench/results/hooks.json``. Always exits 0: this is a report, not a test.
It imports nothing of the package it measures (the archives are built with that version's own
``session-core import``, the hooks run as that version's scripts), so the same file measures an
older checkout too.

``--against DIR`` measures a before/after pair in ONE run: DIR is another checkout (say a ``git
worktree`` of an older commit), installed into a venv of its own (``bench/results/venv-against``;
nothing is written inside DIR), given a world of its own built the same way, and timed in the
same rounds as this checkout, so drift of a shared machine hits both alike. Comparing two runs
made minutes apart would compare the machine's moods as much as the code.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
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
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest_bench import rewrite_ids  # same folder: one id rewriter for both benchmarks

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULTS_PATH = RESULTS_DIR / "hooks.json"
VENV_DIR = RESULTS_DIR / "venv"
AGAINST_VENV_DIR = RESULTS_DIR / "venv-against"
"""The venv of ``--against``'s checkout: under this checkout's results, never inside DIR."""
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
FIXTURE_SESSION = b"6b32797c-28fc-4a1f-b9c8-863fe6c99815"

MAX_STATUS_VS_BARE = 2.0
MAX_HOOK_VS_BARE = 4.0
MAX_RECALL_VS_FLOOR = 2.5
"""Recall's hooks sit on every edit and every failed command: bars on ``-I -S``, the floor."""
RECALLED_FILE = "/home/dev/projects/demo-app/retry.py"
"""A file the fixture's sessions write: every synthetic session of the archives changed it."""
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
DATA_DIR_ENV = "SESSION_CORE_DATA_DIR"
IMPORT_ONLY_LAYERED = (
    ("status line", "session_core.hook.statusline"),
    ("Stop", "session_core.hook.run, session_core.hook.handlers.saver,"
             " session_core.hook.handlers.chat, session_core.hook.handlers.upkeep,"
             " session_core.hook.handlers.live_state"),
    ("SessionStart", "session_core.hook.run, session_core.hook.handlers.loader,"
                     " session_core.hook.handlers.context, session_core.hook.handlers.live_state"),
)
IMPORT_ONLY_FLAT = (
    ("status line", "session_core.statusline"),
    ("Stop", "session_core.hookrun, session_core.handlers.saver, session_core.handlers.chat"),
    ("SessionStart", "session_core.hookrun, session_core.handlers.loader,"
                     " session_core.handlers.context"),
)
"""Informational rows: the same modules imported and nothing done, to split a hook's time into
imports and work (no bar); one list per layout (:attr:`Checkout.layered`)."""
DATE = b"2026-11-23T"
"""The fixture's date, replaced per synthetic session."""
BIG_BYTES = 100_000_000
"""The big session's transcript: whole copies of the fixture (big lines included) up to this."""
BIG_SESSION = rewrite_ids(FIXTURE_SESSION, 500_000)
"""The one session id of every line of the big transcript, whatever copy a line comes from."""
BIG_APPENDED_COPY = 1_000_000
"""Ids of lines appended to the big transcript are rewritten as copy ``BIG_APPENDED_COPY + n``
for the n-th line: past every copy the file was built from, so each line is a new record."""
LINES_PER_BIG_STOP = 5
BARE, FLOOR = "bare", "bare_isolated"
"""Keys of the two baselines: ``python -c pass`` (the bars' denominator) and ``python -I -S -c
pass`` (the floor of a Python process; ratios to it are information)."""
COMPARED = ("session_start_large", "session_start_small", "stop", "status", "stop_big")
"""The hook series ``--against`` compares between the two checkouts, by :attr:`Series.key`."""
AGAINST = "against"
"""The label of ``--against``'s checkout, its commands and its problems (this checkout's: "")."""
YESTERDAY = time.time() - 86_400
"""One "yesterday" for the whole run, so both worlds of ``--against`` get the same dates even
if their setups straddle a midnight."""


@dataclass(frozen=True)
class Checkout:
    """A source tree of the project and the bench venv its sources are installed into.

    Everything that differs between versions of the tree (which script runs which event, which
    modules a hook imports) is asked of the checkout, not of module globals, so that this
    checkout and ``--against``'s can be measured side by side in one run.
    """

    root: Path
    venv_dir: Path
    label: str = ""
    """``""`` for this checkout, :data:`AGAINST` for ``--against``'s."""

    @property
    def hooks(self) -> Path:
        """The checkout's hook scripts as installed beside its venv (:func:`install_hooks`)."""
        return self.venv_dir / "hooks"

    @property
    def layered(self) -> bool:
        """The layered tree runs every event through ``hooks/run.py``; older ones had a script
        per role."""
        return (self.hooks / "run.py").is_file()

    @property
    def python(self) -> Path:
        return self.venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def hook_script(self, event: str) -> str:
        """The script Claude Code runs for ``event`` in this checkout."""
        if self.layered:
            return str(self.hooks / "run.py")
        return str(self.hooks / ("session_loader.py" if event == "SessionStart"
                                 else "session_saver.py"))

    def hook_argv(self, event: str) -> list[str]:
        """Interpreter options, script and event, as this checkout's template starts the
        event's hook (``-S`` since the hooks find their packages themselves)."""
        script = self.hook_script(event)
        template = json.loads((self.root / "settings.template.json").read_text("utf-8"))
        for group in template.get("hooks", {}).get(event, []):
            for hook in group.get("hooks", []):
                args = hook.get("args", [])
                if args[-2:-1] and args[-2].endswith("/" + Path(script).name):
                    return [*args[:-2], script, event]
        return [script, event]

    def status_argv(self) -> list[str]:
        """The status line as the installer writes it: ``-S`` once the hooks set their path."""
        script = str(self.hooks / "status_line.py")
        return ["-S", script] if (self.hooks / "suite_path.py").is_file() else [script]

    def import_only(self) -> tuple[tuple[str, str], ...]:
        return IMPORT_ONLY_LAYERED if self.layered else IMPORT_ONLY_FLAT


@dataclass
class Series:
    """One measured command; serialised into the JSON report."""

    name: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    bar: str = ""
    key: str = ""
    """Stable name the ratios look the series up by (display names carry session counts)."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p10(self) -> float:
        return sorted(self.seconds)[len(self.seconds) // 10]

    @property
    def p90(self) -> float:
        return sorted(self.seconds)[(len(self.seconds) * 9) // 10]


# --- the venv with a non-editable install -------------------------------------------------------


def _source_stamp(root: Path) -> str:
    """Reinstall when anything that goes into the wheel changed."""
    digest = hashlib.sha256()
    files = [*sorted((root / "session_core").rglob("*.py")), root / "pyproject.toml"]
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_venv(checkout: Checkout, log: Callable[[str], None]) -> Path:
    """The checkout's bench venv's python, its sources installed as a user would have them.

    Installed from a copy of the sources so the build leaves nothing in the checkout's tree.
    """
    venv, python = checkout.venv_dir, checkout.python
    stamp_file, stamp = venv / "session-core.stamp", _source_stamp(checkout.root)
    if not python.exists():
        log(f"creating {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp_file.exists() or stamp_file.read_text() != stamp:
        target = "the bench venv" if venv == VENV_DIR else f"{venv} (from {checkout.root})"
        log(f"installing session-core (non-editable) into {target}")
        _install_copy(checkout.root, python)
        stamp_file.write_text(stamp)
    install_hooks(checkout)
    where = subprocess.run(
        [str(python), "-c", "import session_core, sys; print(session_core.__file__)"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
        env=_clean_env({})).stdout.strip()
    if not where.startswith(str(venv) + os.sep):
        raise RuntimeError(f"the bench venv imports session_core from {where}, not its install")
    return python


def install_hooks(checkout: Checkout) -> None:
    """The checkout's ``hooks/*.py`` copied beside its venv and compiled, as a user has them:
    the installer copies them into the suite's folder, and from their second run on the modules
    among them (``suite_path``) load from ``__pycache__``, which a hook run from the checkout
    would compile again on every run wherever ``PYTHONDONTWRITEBYTECODE`` is set."""
    shutil.rmtree(checkout.hooks, ignore_errors=True)
    checkout.hooks.mkdir(parents=True)
    for script in (checkout.root / "hooks").glob("*.py"):
        shutil.copy2(script, checkout.hooks / script.name)
    subprocess.run([str(checkout.python), "-m", "compileall", "-q", str(checkout.hooks)],
                   check=True, env=_clean_env({}))


def _install_copy(root: Path, python: Path) -> None:
    """pip-install a copy of ``root``'s package: a build in place would leave ``build/`` and
    ``*.egg-info`` in a tree that may not be ours to write to (``--against``'s)."""
    with tempfile.TemporaryDirectory(prefix="session-core-src-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        shutil.copytree(root / "session_core", source / "session_core",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, source / name)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        for extra in ([], ["--no-deps", "--force-reinstall"]):
            done = subprocess.run([*pip, *extra, str(source)], capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"pip install failed:\n{done.stdout}{done.stderr}")


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


FIRST_DAY = 1_700_000_000
"""2023-11-14: the first synthetic session's day."""


def synthetic_transcripts(folder: Path, count: int, first_copy: int) -> list[Path]:
    """``count`` distinct sessions: ids rewritten per copy, dates spread one day apart from
    2023-11-14 (wrapping round before last week: 10,000 days would run into the future, where
    every session would look recent and open), except the last :data:`RECENT_SESSIONS`, dated
    yesterday: recent sessions without a clean SessionEnd are what SessionStart checks, as many
    in both archives."""
    folder.mkdir(parents=True, exist_ok=True)
    body = b"".join(small_lines())
    written = []
    for index, copy in enumerate(range(first_copy, first_copy + count)):
        old_span = YESTERDAY - 9 * 86_400 - FIRST_DAY
        when = YESTERDAY if count - index <= RECENT_SESSIONS else \
            FIRST_DAY + copy * 86_400 % old_span
        day = time.strftime("%Y-%m-%dT", time.gmtime(when)).encode()
        data = rewrite_ids(body, copy).replace(DATE, day)
        path = folder / f"{rewrite_ids(FIXTURE_SESSION, copy).decode()}.jsonl"
        path.write_bytes(data)
        written.append(path)
    return written


def build_archive(python: Path, env: dict[str, str], project: Path, data_dir: Path,
                  files: list[Path]) -> int:
    """Ingest once with this version's ``session-core import``, then leave the state the hooks
    would have: old sessions ended cleanly, the recent ones open (a prompt, no SessionEnd).
    Returns the number of sessions."""
    done = subprocess.run([str(python), "-m", "session_core", "import", "--project", str(project),
                           *map(str, files)], capture_output=True, text=True, cwd=project,
                          env={**env, DATA_DIR_ENV: str(data_dir)}, check=False)
    if done.returncode:
        raise RuntimeError(f"session-core import failed:\n{done.stderr[-2000:]}")
    week_ago = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 7 * 86_400))
    with sqlite3.connect(data_dir / "archive.db") as conn:
        conn.execute(
            "INSERT INTO session_state(session_uuid, last_event, last_event_at,"
            " end_reason, ended_at) SELECT uuid, CASE WHEN last_ts < ?1 THEN"
            " 'SessionEnd' ELSE 'UserPromptSubmit' END, last_ts, CASE WHEN last_ts < ?1"
            " THEN 'logout' END, CASE WHEN last_ts < ?1 THEN last_ts END FROM sessions",
            (week_ago,))
        return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])


def git_project(project: Path, env: dict[str, str]) -> None:
    """Projects are git repositories: the handoff reads HEAD and asks ``git status`` once."""
    project.mkdir(parents=True)
    (project / "README.md").write_text("bench project\n")
    git = ["git", "-C", str(project), "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], check=True, env=env, capture_output=True)


def one_session(data: bytes, copy: int, day: bytes) -> bytes:
    """``data`` with its ids rewritten as copy ``copy`` but the big session's id kept: distinct
    records, all of ONE session (a rewritten sessionId would make every copy a session)."""
    return (rewrite_ids(data, copy).replace(rewrite_ids(FIXTURE_SESSION, copy), BIG_SESSION)
            .replace(DATE, day))


def yesterday_date() -> bytes:
    """The big session's date: yesterday, so it is the newest (and an open) session of its
    archive, as a session in progress is."""
    return time.strftime("%Y-%m-%dT", time.gmtime(YESTERDAY)).encode()


@dataclass
class BigSession:
    """The ~100 MB session: its transcript, its archive, and what building them cost."""

    transcript: Path
    data_dir: Path
    bytes: int
    copies: int
    write_seconds: float
    ingest_seconds: float
    digest_seconds: float


def big_transcript(folder: Path) -> tuple[Path, int]:
    """Whole copies of the fixture, big lines included, up to :data:`BIG_BYTES`. Written as it
    is built: 620 copies, about 2 s of id rewriting."""
    folder.mkdir(parents=True, exist_ok=True)
    body, day = FIXTURE.read_bytes(), yesterday_date()
    path = folder / f"{BIG_SESSION.decode()}.jsonl"
    copies = -(-BIG_BYTES // len(body))
    with open(path, "wb") as handle:
        for copy in range(copies):
            handle.write(one_session(body, copy, day))
    return path, copies


def bring_digest_up_to_date(checkout: Checkout, env: dict[str, str], project: Path,
                            big: BigSession) -> None:
    """One real SessionStart with a new session id: its handoff folds the previous session (the
    big one, the only and newest session of its archive) and saves the digest under
    ``digests/``, as the first session start after an import does. From then on every Stop
    folds only what it archived, which is the steady state the series measures."""
    session = str(uuid.uuid4())
    payload = json.dumps({
        "session_id": session, "transcript_path": str(big.transcript.parent / f"{session}.jsonl"),
        "cwd": str(project), "hook_event_name": "SessionStart", "source": "startup",
    }).encode()
    result = subprocess.run([str(checkout.python), checkout.hook_script("SessionStart"),
                             "SessionStart"],
                            input=payload, capture_output=True, cwd=project, timeout=120,
                            env={**env, DATA_DIR_ENV: str(big.data_dir)}, check=False)
    problem = f"exit {result.returncode}" if result.returncode else _handoff_printed(result)
    if problem is None and BIG_SESSION.decode() not in result.stdout.decode("utf-8", "replace"):
        problem = "the handoff is not about the big session"
    if problem is None and not digest_saved(big):
        problem = ("no saved digest (neither digests/<session>.json nor a row of the digests"
                   " table): the hook ran out of time? --no-big skips the series")
    if problem:
        raise RuntimeError(f"SessionStart on the big session: {problem}\n"
                           f"{result.stderr.decode('utf-8', 'replace')[-2000:]}")


def digest_saved(big: BigSession) -> bool:
    """The big session's digest is saved: as a file beside the archive (versions before the
    layered tree) or as a row of the archive's ``digests`` table at the file's end."""
    if (big.data_dir / "digests" / f"{BIG_SESSION.decode()}.json").is_file():
        return True
    with sqlite3.connect(big.data_dir / "archive.db") as conn:
        try:
            row = conn.execute("SELECT d.offset = f.committed FROM digests d JOIN files f"
                               " ON f.id = d.file_id").fetchone()
        except sqlite3.OperationalError:  # no such table
            return False
    return bool(row and row[0])


def build_big_session(checkout: Checkout, env: dict[str, str], project: Path,
                      folder: Path, data_dir: Path) -> BigSession:
    """The transcript in its own project folder, its own archive (built by the checkout's own
    ``session-core import``), and its saved digest brought up to date by a SessionStart hook
    process."""
    started = time.perf_counter()
    transcript, copies = big_transcript(folder)
    written = time.perf_counter()
    build_archive(checkout.python, env, project, data_dir, [transcript])
    ingested = time.perf_counter()
    big = BigSession(transcript, data_dir, transcript.stat().st_size, copies,
                     written - started, ingested - written, 0.0)
    bring_digest_up_to_date(checkout, env, project, big)
    big.digest_seconds = time.perf_counter() - ingested
    return big


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Command:
    """A command to time: ``prepare`` runs untimed just before each run and returns stdin."""

    series: Series
    env: dict[str, str]
    cwd: Path
    prepare: Callable[[int], bytes]
    check: Callable[[subprocess.CompletedProcess[bytes]], str | None] = lambda _: None
    world: str = ""
    """The :attr:`Checkout.label` of the checkout it runs (the baselines: this one's, "")."""


def time_once(command: Command, run: int) -> tuple[float, str | None]:
    stdin = command.prepare(run)
    started = time.perf_counter()
    result = subprocess.run(command.series.argv, input=stdin, capture_output=True,
                            env=command.env, cwd=command.cwd, timeout=120, check=False)
    seconds = time.perf_counter() - started
    problem = f"exit {result.returncode}" if result.returncode else command.check(result)
    return seconds, problem


def measure(commands: list[Command], repeat: int, warmup: int = 2) -> dict[str, list[str]]:
    """Round-robin, the order rotated each round so no command always follows another; with
    ``--against`` both checkouts' commands share every round, so the n-th sample of any two
    series was taken within one round. Returns the problems seen, by :attr:`Command.world`."""
    problems: dict[str, list[str]] = {}
    for _ in range(warmup):  # compile .pyc files, warm the page cache
        for command in commands:
            time_once(command, -1)
    for round_no in range(repeat):
        shift = round_no % len(commands)
        for command in commands[shift:] + commands[:shift]:
            seconds, problem = time_once(command, round_no)
            command.series.seconds.append(seconds)
            if problem:
                problems.setdefault(command.world, []).append(
                    f"{command.series.name}: {problem}")
    return problems


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Setup:
    """One checkout's world: its home, project, transcripts and archives, all in a temp dir."""

    checkout: Checkout
    env: dict[str, str]
    project: Path
    large_folder: Path
    small_folder: Path
    large_data: Path
    small_data: Path
    large_sessions: int
    small_sessions: int
    build_seconds: float
    big: BigSession | None
    """None with ``--no-big``."""

    @property
    def python(self) -> Path:
        return self.checkout.python


def prepare_world(work: Path, checkout: Checkout, with_big: bool = True,
                  large_count: int = LARGE) -> Setup:
    """The same world whatever the checkout (the transcripts depend only on this file and its
    fixture); the archives are built by ``checkout``'s own import, with its venv's python."""
    python, home = checkout.python, work / "home"
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
    large = build_archive(python, env, project, work / "data-large",
                          synthetic_transcripts(large_folder, large_count, 0))
    small = build_archive(python, env, project, work / "data-small",
                          synthetic_transcripts(small_folder, SMALL, large_count))
    build_seconds = time.perf_counter() - started
    big = build_big_session(checkout, env, project, projects / "big", work / "data-big") \
        if with_big else None
    return Setup(checkout, env, project, large_folder, small_folder, work / "data-large",
                 work / "data-small", large, small, build_seconds, big)


def _no_output(result: subprocess.CompletedProcess[bytes]) -> str | None:
    return f"unexpected stdout {result.stdout[:80]!r}" if result.stdout.strip() else None


def _handoff_printed(result: subprocess.CompletedProcess[bytes]) -> str | None:
    """SessionStart must do its whole job on both archives: a handoff from the last session."""
    try:
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
    except (ValueError, KeyError, TypeError):
        return f"no handoff on stdout: {result.stdout[:80]!r}"
    return None if "Previous session" in context else "handoff without a previous session"


def _env_for(setup: Setup, data: Path) -> dict[str, str]:
    return {**setup.env, DATA_DIR_ENV: str(data)}


def baseline_commands(setup: Setup) -> list[Command]:
    """``python -c pass`` and ``python -I -S -c pass`` of ``setup``'s venv: taken once per run,
    from this checkout's venv, whatever ``--against`` adds."""
    py = str(setup.python)
    return [
        Command(Series("bare python -c pass", [py, "-c", "pass"], key=BARE), setup.env,
                setup.project, lambda _: b""),
        Command(Series("bare python -I -S -c pass", [py, "-I", "-S", "-c", "pass"],
                       bar="(floor, no bar)", key=FLOOR), setup.env, setup.project,
                lambda _: b""),
    ]


def hook_commands(setup: Setup) -> list[Command]:
    """The hook series of ``setup``'s checkout, then its import-only rows, each tagged with the
    checkout's label so its problems are told apart from the other checkout's."""
    commands = [*session_start_commands(setup), *stop_and_status_commands(setup),
                *recall_commands(setup)]
    if setup.big is not None:
        commands.append(big_stop_command(setup, setup.big))
    py = str(setup.python)
    commands += [
        Command(Series(f"  imports only: {label}", [py, "-c", f"import {modules}"],
                       bar="(where the time goes)"), setup.env, setup.project, lambda _: b"")
        for label, modules in setup.checkout.import_only()]
    for command in commands:
        command.world = setup.checkout.label
    return commands


def session_start_commands(setup: Setup) -> list[Command]:
    """SessionStart on both archives, a new session id every run."""
    py, project = str(setup.python), str(setup.project)
    hook_argv = setup.checkout.hook_argv("SessionStart")

    def session_start(folder: Path) -> Callable[[int], bytes]:
        def prepare(_: int) -> bytes:
            session = str(uuid.uuid4())
            return json.dumps({
                "session_id": session, "transcript_path": str(folder / f"{session}.jsonl"),
                "cwd": project, "hook_event_name": "SessionStart", "source": "startup",
            }).encode()
        return prepare

    return [
        Command(Series(f"SessionStart @{setup.large_sessions}", [py, *hook_argv],
                       bar=f"<= {MAX_HOOK_VS_BARE}x", key="session_start_large"),
                _env_for(setup, setup.large_data), setup.project,
                session_start(setup.large_folder), _handoff_printed),
        Command(Series(f"SessionStart @{setup.small_sessions}", [py, *hook_argv],
                       bar=f"<= {MAX_HOOK_VS_BARE}x", key="session_start_small"),
                _env_for(setup, setup.small_data), setup.project,
                session_start(setup.small_folder), _handoff_printed),
    ]


def stop_and_status_commands(setup: Setup) -> list[Command]:
    """Stop on a transcript that grows two lines a run, and the status line of that session."""
    py, project = str(setup.python), str(setup.project)
    stop_session = rewrite_ids(FIXTURE_SESSION, 99_999).decode()
    stop_transcript = setup.large_folder / f"{stop_session}.jsonl"
    lines = small_lines()
    # Dated before every synthetic session: the handoff's "previous session" must stay the same
    # size on both archives, not be this one, which grows.
    old_date = b"2020-01-01T"
    stop_transcript.write_bytes(rewrite_ids(b"".join(lines[:10]), 99_999).replace(DATE, old_date))

    stop_lines = itertools.count()

    def stop(run: int) -> bytes:
        """Two more lines, ids rewritten per line so each is a new record (counted, not derived
        from ``run``: the warm-up rounds all pass -1), then the payload."""
        with open(stop_transcript, "ab") as handle:
            for _ in range(LINES_PER_STOP):
                n = next(stop_lines)
                handle.write(rewrite_ids(lines[n % len(lines)], 200_000 + n)
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

    return [
        Command(Series("Stop (+2 lines)", [py, *setup.checkout.hook_argv("Stop")],
                       bar=f"<= {MAX_HOOK_VS_BARE}x", key="stop"),
                _env_for(setup, setup.large_data), setup.project, stop, _no_output),
        Command(Series("status line", [py, *setup.checkout.status_argv()],
                       bar=f"<= {MAX_STATUS_VS_BARE}x", key="status"),
                {**_env_for(setup, setup.large_data), "NO_COLOR": "1"}, setup.project,
                lambda _: status_payload, status_check),
    ]


def _recall_note(result: subprocess.CompletedProcess[bytes]) -> str | None:
    try:
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
    except (ValueError, KeyError, TypeError):
        return f"no recall note on stdout: {result.stdout[:80]!r}"
    return None if "was changed before" in context else f"not a recall note: {context[:80]!r}"


def recall_commands(setup: Setup) -> list[Command]:
    """PreToolUse before an edit of a file every session of the 1,000 changed (a new session
    each run, so the note is given and remembered: the whole path), and PostToolUseFailure of
    an error no session fixed (the lookup alone). Only for a checkout that has recall."""
    script = setup.checkout.hooks / "recall.py"
    if not script.is_file():
        return []
    py, project, hook = str(setup.python), str(setup.project), str(script)

    def edit(_: int) -> bytes:
        return json.dumps({
            "session_id": str(uuid.uuid4()), "cwd": project, "hook_event_name": "PreToolUse",
            "tool_name": "Edit", "tool_use_id": "toolu_bench",
            "tool_input": {"file_path": RECALLED_FILE, "old_string": "a", "new_string": "b"},
        }).encode()

    def failure(_: int) -> bytes:
        return json.dumps({
            "session_id": str(uuid.uuid4()), "cwd": project,
            "hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
            "tool_use_id": "toolu_bench", "tool_input": {"command": "make build"},
            "error": "Exit code 2\nmake: *** No rule to make target 'build'.  Stop.",
        }).encode()

    env = _env_for(setup, setup.large_data)
    return [
        Command(Series(f"PreToolUse (recall) @{setup.large_sessions}",
                       [py, "-S", hook, "PreToolUse"],
                       bar=f"<= {MAX_RECALL_VS_FLOOR}x -I -S", key="recall_edit"),
                env, setup.project, edit, _recall_note),
        Command(Series(f"PostToolUseFailure @{setup.large_sessions}",
                       [py, "-S", hook, "PostToolUseFailure"],
                       bar=f"<= {MAX_RECALL_VS_FLOOR}x -I -S", key="recall_failure"),
                env, setup.project, failure, _no_output),
    ]


def big_stop_command(setup: Setup, big: BigSession) -> Command:
    """Stop on the ~100 MB session: five new lines each run, the fixture's next lines (big ones
    too, in file order, so a run of 10 rounds appends the whole fixture once), then a Stop."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    day, appended = yesterday_date(), itertools.count()
    session = BIG_SESSION.decode()

    def prepare(run: int) -> bytes:
        with open(big.transcript, "ab") as handle:
            for _ in range(LINES_PER_BIG_STOP):
                n = next(appended)
                handle.write(one_session(lines[n % len(lines)], BIG_APPENDED_COPY + n, day))
        return json.dumps({
            "session_id": session, "transcript_path": str(big.transcript),
            "cwd": str(setup.project), "hook_event_name": "Stop", "stop_hook_active": False,
            "last_assistant_message": f"Done with step {run}.",
        }).encode()

    return Command(
        Series(f"Stop (+{LINES_PER_BIG_STOP} lines) @{big.bytes / 1e6:.0f} MB session",
               [str(setup.python), *setup.checkout.hook_argv("Stop")],
               bar="(no bar: vs itself)", key="stop_big"),
        {**setup.env, DATA_DIR_ENV: str(big.data_dir)}, setup.project, prepare,
        _no_output)


def log_errors(setup: Setup) -> list[str]:
    """ERROR lines the hooks logged: a hook that failed fast would look fast."""
    log = Path(setup.env["XDG_STATE_HOME"]) / "session-core" / "log" / "hooks.log"
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if " ERROR " in line]


# --- report -------------------------------------------------------------------------------------


def by_key(series: list[Series]) -> dict[str, Series]:
    """Series by :attr:`Series.key`: the list's order changes with ``--no-big``."""
    return {s.key: s for s in series if s.key}


def verdicts(series: list[Series]) -> dict[str, dict[str, Any]]:
    """The bars, all on ratios to ``python -c pass`` as before the second baseline existed."""
    keyed = by_key(series)
    bare, stop, status = keyed[BARE], keyed["stop"], keyed["status"]
    start_large, start_small = keyed["session_start_large"], keyed["session_start_small"]
    rows = {
        "status_vs_bare": (status.median / bare.median, MAX_STATUS_VS_BARE),
        "session_start_large_vs_bare": (start_large.median / bare.median, MAX_HOOK_VS_BARE),
        "session_start_small_vs_bare": (start_small.median / bare.median, MAX_HOOK_VS_BARE),
        "stop_vs_bare": (stop.median / bare.median, MAX_HOOK_VS_BARE),
        "session_start_large_vs_small": (start_large.median / start_small.median,
                                         MAX_START_1000_VS_10),
    }
    floor = keyed[FLOOR]
    for key in ("recall_edit", "recall_failure"):
        if key in keyed:
            rows[f"{key}_vs_bare_isolated"] = (keyed[key].median / floor.median,
                                               MAX_RECALL_VS_FLOOR)
    return {name: {"ratio": ratio, "max": bar, "pass": ratio <= bar}
            for name, (ratio, bar) in rows.items()}


def baseline_ratios(series: list[Series]) -> dict[str, dict[str, float]]:
    """Every series' median over each baseline's: ``x bare`` carries the bars, ``x -I -S`` says
    how far a hook is from the cheapest Python process there is."""
    keyed = by_key(series)
    bare, floor = keyed[BARE].median, keyed[FLOOR].median
    return {s.name: {"vs_bare": s.median / bare, "vs_bare_isolated": s.median / floor}
            for s in series}


def render(series: list[Series], results: dict[str, dict[str, Any]], repeat: int) -> str:
    ratios = baseline_ratios(series)
    lines = [f"{'command':<34} {'median':>9} {'p10':>8} {'p90':>8} {'x bare':>7} {'x -I -S':>7}"
             "  bar (on x bare)"]
    for s in series:
        lines.append(f"{s.name:<34} {s.median * 1000:7.1f}ms {s.p10 * 1000:6.1f}ms "
                     f"{s.p90 * 1000:6.1f}ms {ratios[s.name]['vs_bare']:6.2f}x "
                     f"{ratios[s.name]['vs_bare_isolated']:6.2f}x  {s.bar}")
    lines.append(f"\nratios of medians ({repeat} runs each, interleaved):")
    for name, row in results.items():
        mark = "PASS" if row["pass"] else "FAIL"
        lines.append(f"  {name:<30} {row['ratio']:6.2f}  <= {row['max']:<4} {mark}")
    return "\n".join(lines)


def compare(this: list[Series], against: list[Series]) -> dict[str, dict[str, Any]]:
    """This checkout's time over the against checkout's, for each hook series both have.

    Three figures, all this / against: the ratio of the medians, the ratio of the p10s (the
    quiet runs: less swayed by a busy spell), and the median over rounds of the ratio of the
    two samples taken in the same round, which cancels drift slower than one round.
    """
    mine, theirs = by_key(this), by_key(against)
    rows: dict[str, dict[str, Any]] = {}
    for key in COMPARED:
        if key not in mine or key not in theirs:  # --no-big
            continue
        a, b = mine[key], theirs[key]
        paired = [x / y for x, y in zip(a.seconds, b.seconds, strict=True)]
        rows[key] = {
            "name": a.name, "name_against": b.name,
            "median_this": a.median, "median_against": b.median,
            "median_ratio": a.median / b.median,
            "p10_this": a.p10, "p10_against": b.p10, "p10_ratio": a.p10 / b.p10,
            "paired_ratio": statistics.median(paired),
        }
    return rows


def render_comparison(rows: dict[str, dict[str, Any]], repeat: int) -> str:
    lines = [f"this / against ({repeat} rounds, both in every round; < 1: this one is faster):",
             f"{'hook':<34} {'median':>9} {'against':>9} {'ratio':>6}  {'p10':>8} "
             f"{'against':>8} {'ratio':>6}  {'paired':>6}"]
    for row in rows.values():
        name = row["name"] if row["name"] == row["name_against"] \
            else f"{row['name']} / {row['name_against']}"
        ms = {figure: row[figure] * 1000 for figure in
              ("median_this", "median_against", "p10_this", "p10_against")}
        lines.append(
            f"{name:<34} {ms['median_this']:7.1f}ms {ms['median_against']:7.1f}ms"
            f" {row['median_ratio']:5.2f}x  {ms['p10_this']:6.1f}ms {ms['p10_against']:6.1f}ms"
            f" {row['p10_ratio']:5.2f}x  {row['paired_ratio']:5.2f}x")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Hook process cost against a bare python start.")
    parser.add_argument("--repeat", type=int, default=30,
                        help="timed runs per command, interleaved (default 30)")
    parser.add_argument("--sessions", type=int, default=LARGE, metavar="N",
                        help=f"sessions of the large archive (default {LARGE}; the performance"
                             " bar is set at 10000)")
    parser.add_argument("--no-big", action="store_true",
                        help="skip the Stop series on a ~100 MB session (saves ~3 s of setup)")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="another checkout of the project (e.g. a git worktree of an older"
                             " commit), measured in the same rounds and compared")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.against is not None:
        args.against = args.against.resolve()
        missing = [name for name in ("session_core", "hooks", "pyproject.toml", "README.md")
                   if not (args.against / name).exists()]
        if missing:
            parser.error(f"--against {args.against} is not a checkout of the project"
                         f" (no {', '.join(missing)})")
    return args


# --- the run ------------------------------------------------------------------------------------


@dataclass
class WorldRun:
    """What measuring one checkout's world gave."""

    setup: Setup
    baselines: list[Series]
    """Shared by both checkouts: taken once, from this checkout's venv."""
    own: list[Series]
    problems: list[str]
    errors: list[str]

    @property
    def table(self) -> list[Series]:
        return [*self.baselines, *self.own]

    @property
    def tag(self) -> str:
        """`` (against)`` on the against checkout's lines; nothing on this one's, as without
        ``--against``."""
        label = self.setup.checkout.label
        return f" ({label})" if label else ""


def announce(setup: Setup, prefix: str) -> None:
    print(f"{prefix}archives: {setup.large_sessions} and {setup.small_sessions} sessions"
          f" (built in {setup.build_seconds:.1f} s)", flush=True)
    if setup.big is not None:
        big = setup.big
        print(f"{prefix}big session: {big.bytes / 1e6:.1f} MB ({big.copies} copies of the"
              f" fixture) written in {big.write_seconds:.1f} s, imported in"
              f" {big.ingest_seconds:.1f} s, digest saved by SessionStart in"
              f" {big.digest_seconds:.1f} s", flush=True)


def prepare_worlds(tmp: Path, checkouts: list[Checkout], with_big: bool,
                   large_count: int = LARGE) -> list[Setup]:
    """One world per checkout: directly in ``tmp`` when alone, else in ``tmp/this`` and
    ``tmp/against``, so no file, archive or log of one is seen by the other's hooks."""
    setups = []
    for checkout in checkouts:
        alone = len(checkouts) == 1
        work = tmp if alone else tmp / (checkout.label or "this")
        work.mkdir(exist_ok=True)
        setups.append(prepare_world(work, checkout, with_big, large_count))
        announce(setups[-1], "" if alone else f"[{checkout.label or 'this'}] ")
    return setups


def run(args: argparse.Namespace, started: float) -> tuple[list[WorldRun], float]:
    """Build the venvs and worlds, then time everything in shared rounds. Returns the runs
    (this checkout's first) and the setup's seconds (venvs and worlds)."""
    checkouts = [Checkout(REPO_ROOT, VENV_DIR)]
    if args.against is not None:
        checkouts.append(Checkout(args.against, AGAINST_VENV_DIR, AGAINST))
    for checkout in checkouts:
        ensure_venv(checkout, lambda message: print(message, flush=True))
    with tempfile.TemporaryDirectory(prefix="session-core-hook-bench-") as tmp:
        setups = prepare_worlds(Path(tmp), checkouts, with_big=not args.no_big,
                                large_count=args.sessions)
        setup_seconds = time.perf_counter() - started
        baselines = baseline_commands(setups[0])
        worlds = [hook_commands(setup) for setup in setups]
        if len(setups) > 1:
            print(f"setup took {setup_seconds:.1f} s (venvs and both worlds); timing"
                  f" {len(baselines) + sum(map(len, worlds))} commands a round", flush=True)
        problems = measure([*baselines, *itertools.chain.from_iterable(worlds)], args.repeat)
        errors = [log_errors(setup) for setup in setups]
    runs = [WorldRun(setup, [c.series for c in baselines], [c.series for c in commands],
                     problems.get(setup.checkout.label, []), errs)
            for setup, commands, errs in zip(setups, worlds, errors, strict=True)]
    return runs, setup_seconds


def print_report(runs: list[WorldRun], repeat: int, wall: float) -> None:
    if len(runs) == 1:
        print(render(runs[0].table, verdicts(runs[0].table), repeat))
    else:
        for world in runs:
            print(f"\n== {world.setup.checkout.label or 'this'}: {world.setup.checkout.root}")
            print(render(world.table, verdicts(world.table), repeat))
        print("\n" + render_comparison(compare(runs[0].own, runs[1].own), repeat))
    for world in runs:
        for problem in sorted(set(world.problems))[:10]:
            print(f"problem{world.tag}: {problem}")
        for error in world.errors[:10]:
            print(f"hook error{world.tag}: {error}")
    print(f"\nwall time {wall:.1f} s; results in {RESULTS_PATH}")


def world_facts(setup: Setup) -> dict[str, Any]:
    return {
        "sessions": {"large": setup.large_sessions, "small": setup.small_sessions},
        "build_seconds": setup.build_seconds,
        "big_session": None if setup.big is None else {
            "bytes": setup.big.bytes, "copies": setup.big.copies,
            "lines_per_stop": LINES_PER_BIG_STOP, "write_seconds": setup.big.write_seconds,
            "ingest_seconds": setup.big.ingest_seconds,
            "digest_seconds": setup.big.digest_seconds},
    }


def world_results(world: WorldRun, listed: list[Series]) -> dict[str, Any]:
    """``listed`` (this checkout: baselines included, as without ``--against``; the other: its
    own series only) with their ratios to the shared baselines, the bars and what went wrong."""
    ratios = baseline_ratios(world.table)
    return {
        "series": [{"name": s.name, "key": s.key, "argv_tail": s.argv[1:], "median": s.median,
                    **ratios[s.name], "seconds": s.seconds} for s in listed],
        "ratios": verdicts(world.table),
        "problems": sorted(set(world.problems)),
        "hook_errors": world.errors,
    }


def json_report(runs: list[WorldRun], repeat: int, wall: float,
                setup_seconds: float) -> dict[str, Any]:
    this = runs[0]
    report: dict[str, Any] = {
        "repeat": repeat,
        "wall_seconds": wall,
        "python": subprocess.run([str(this.setup.python), "-c", "import sys; print(sys.version)"],
                                 capture_output=True, text=True).stdout.strip(),
        "install": f"non-editable, {VENV_DIR}",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        **world_facts(this.setup),
        "baselines": {"vs_bare": "python -c pass", "vs_bare_isolated": "python -I -S -c pass"},
        **world_results(this, this.table),
    }
    if len(runs) > 1:
        against = runs[1]
        report["setup_seconds"] = setup_seconds
        report["against"] = {
            "checkout": str(against.setup.checkout.root),
            "install": f"non-editable, {against.setup.checkout.venv_dir}",
            **world_facts(against.setup), **world_results(against, against.own)}
        report["comparison"] = compare(this.own, against.own)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    runs, setup_seconds = run(args, started)
    wall = time.perf_counter() - started
    print_report(runs, args.repeat, wall)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(json_report(runs, args.repeat, wall, setup_seconds),
                                       indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
