"""The suite as a Claude Code plugin: what ``hooks/plugin_entry.py`` does until the suite's
virtual environment is ready, and the worker that builds it.

The repository doubles as a plugin and a marketplace (``.claude-plugin/``); its hooks
(``hooks/hooks.json``, written from ``settings.template.json`` by :func:`plugin_hooks`) start the
entry with whatever ``python3`` is on PATH. The environment lives in the plugin's data folder
(``${CLAUDE_PLUGIN_DATA}``, kept across plugin updates), never in the plugin root (replaced by
every update). Until it is ready a hook only notes its session (:func:`note_pending`), starts the
worker, detached, and exits 0 at once, printing nothing; the worker builds the environment, then
archives what the notes name, with ``session-core import``, as a catch-up would.

Standard library and ``base`` only: this runs before any dependency exists. The data folder:

- ``venv-<stamp>/``: the environment for one version of the sources (``<stamp>``: their hash),
  so an update builds the next one beside the one hooks are running from;
- ``ready``: the plugin root it serves, that root's :func:`signature`, its python and that
  python's :func:`interpreter_signature`. The entry reads it on every event: plain lines, no
  JSON (see :data:`MARKER_HEADER`); the hook scripts remove it when that python cannot import
  the suite (``hooks/suite_path.py``), so the worker checks, and rebuilds, the environment;
- ``pending/<session>.json``: a session that ran before the environment was ready;
- ``worker.lock`` (one worker at a time), ``worker.log``, ``build-failed`` (a failed build is
  tried again only after :data:`RETRY_AFTER_S`);
- ``plugin_entry.py``: a copy of the entry at a path that stays, for the status line a user
  adds by hand (a plugin cannot ship one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ...base.fs import OWNER_ONLY_WRITES, ensure_private_dir, restrict_umask, write_atomic
from .build import PIP_ARGS_ENV, copy_build_sources, pip_extra_args, source_stamp

MARKER_HEADER = "session-core plugin ready 1"
"""The first line of ``ready``; the entry refuses a marker that does not start with it."""
READY, PENDING, LOCK, LOG, FAILED = "ready", "pending", "worker.lock", "worker.log", "build-failed"
ENTRY = "plugin_entry.py"
WORKER_FLAG = "--session-core-worker"
"""The entry's first argument when it is the worker (hook arguments start with a path or ``-S``)."""
RETRY_AFTER_S = 600
NOTE_MAX_AGE_S = 7 * 86_400
"""A note the worker could not catch up is dropped after this (the hooks' own catch-up, at
every session start and end, goes over the project's folder anyway)."""
IMPORT_TIMEOUT_S = 1800
LOG_MAX_BYTES = 1 << 20
SIGNED = ("pyproject.toml", os.path.join(".claude-plugin", "plugin.json"))
"""Files whose change makes the entry hand over to the worker again (an update, a new version)."""
SCRIPT_MODE = 0o644
"""The entry's copy (the status line runs it): writable by its owner only, whatever the umask."""
HOOKS_DIR = "${CLAUDE_PLUGIN_ROOT}/hooks"
WINDOWS = os.name == "nt"


class BuildError(Exception):
    """The environment could not be built; the message says what failed."""


# ---------------------------------------------------------------------------------------------
# What the entry reads on every event
# ---------------------------------------------------------------------------------------------


def signature(root: str) -> str:
    """Size and mtime of the :data:`SIGNED` files: two ``stat`` calls, cheap enough for every
    event (``hooks/plugin_entry.py`` has the same function; a test compares them)."""
    parts = []
    for name in SIGNED:
        try:
            info = os.stat(os.path.join(root, name))
            parts.append(f"{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return " ".join(parts)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / ("python.exe" if WINDOWS else "python")


def read_marker(data: Path) -> tuple[str, str, str] | None:
    """(root, signature, python) of ``ready``, or None."""
    try:
        lines = (data / READY).read_text(encoding="utf-8").split("\n")
    except (OSError, ValueError):
        return None
    if len(lines) < 4 or lines[0] != MARKER_HEADER:
        return None
    return lines[1], lines[2], lines[3]


def interpreter_signature(python: str) -> str:
    """What the environment's python runs on: the interpreter its link resolves to, that
    file's size and mtime, and its ``pyvenv.cfg``'s. Another Python (a minor upgrade moved
    ``python3``; the environment was rebuilt by another) changes it, and the entry hands over
    to the worker instead of starting a python that cannot import the suite. A few ``stat``
    calls (``hooks/plugin_entry.py`` has the same function; a test compares them); ``-``: no
    such interpreter or no ``pyvenv.cfg``."""
    try:
        real = os.path.realpath(python)
        info = os.stat(real)
        cfg = os.stat(os.path.join(os.path.dirname(os.path.dirname(python)), "pyvenv.cfg"))
    except (OSError, ValueError):
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns} {cfg.st_size}:{cfg.st_mtime_ns} {real}"


def write_marker(data: Path, root: str, python: Path) -> None:
    text = "\n".join((MARKER_HEADER, root, signature(root), str(python),
                      interpreter_signature(str(python)), ""))
    write_atomic(data / READY, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Before the environment is ready: note the session, start the worker
# ---------------------------------------------------------------------------------------------


def _safe_key(text: str) -> bool:
    return 0 < len(text) <= 128 and all(c.isalnum() or c in "-_" for c in text) and text.isascii()


def note_pending(data: Path, payload: dict[str, Any], project: str) -> Path:
    """``pending/<session>.json``: what the worker needs to archive a session that ran before
    the environment was ready. The session id names the file only when it is a plain name (it
    comes from outside); else the note is the project's, and the worker imports its folder."""
    session = payload.get("session_id")
    transcript = payload.get("transcript_path")
    if not isinstance(session, str) or not _safe_key(session):
        session = None
    if not (isinstance(transcript, str) and os.path.isabs(transcript)
            and transcript.endswith(".jsonl")):
        transcript = None
    note = {"kind": "session" if session else "project", "session_id": session,
            "transcript_path": transcript if session else None, "project": project,
            "event": str(payload.get("hook_event_name") or ""), "noted_at": int(time.time())}
    return _write_note(data, session or _project_key("project", project), note)


def note_new_project(data: Path, project: str) -> Path:
    """``pending/exclude-<hash>.json``: a project without an archive folder yet, which the
    worker keeps out of git as the install does (:func:`keep_out_of_git`)."""
    note = {"kind": "exclude", "project": project, "noted_at": int(time.time())}
    return _write_note(data, _project_key("exclude", project), note)


def _project_key(kind: str, project: str) -> str:
    return f"{kind}-{hashlib.sha256(os.fsencode(project)).hexdigest()[:16]}"


def _write_note(data: Path, key: str, note: dict[str, Any]) -> Path:
    path = Path(ensure_private_dir(data / PENDING)) / f"{key}.json"
    write_atomic(path, json.dumps(note).encode("utf-8"))
    return path


def pending_notes(data: Path) -> list[Path]:
    """The notes, oldest first."""
    try:
        found = [p for p in (data / PENDING).iterdir() if p.suffix == ".json"
                 and not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(found, key=_mtime)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@contextmanager
def worker_lock(data: Path) -> Iterator[bool]:
    """True inside if this process holds ``worker.lock``; released on exit, and by the system
    when the holder dies (no stale lock to clean up)."""
    fd = os.open(data / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        held = _lock(fd)
        try:
            yield held
        finally:
            if held:
                _unlock(fd)
    finally:
        os.close(fd)


def _lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":  # the spelling mypy reads as the platform
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def worker_running(data: Path) -> bool:
    with worker_lock(data) as held:
        return not held


def failed_recently(data: Path, now: float | None = None) -> bool:
    """A build failed less than :data:`RETRY_AFTER_S` ago: each event would otherwise start a
    worker that fails the same way (no pip index, no venv module)."""
    try:
        failed_at = (data / FAILED).stat().st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - failed_at < RETRY_AFTER_S


def start_worker(data: Path, root: str, entry: str) -> bool:
    """Start the worker, detached from the hook (its own session, no inherited pipes: Claude
    Code neither waits for it nor kills it with the hook), unless one is running or a build
    failed a moment ago. True if one was started."""
    ensure_private_dir(data)
    if worker_running(data) or failed_recently(data):
        return False
    env = {**os.environ, "CLAUDE_PLUGIN_ROOT": root, "CLAUDE_PLUGIN_DATA": str(data)}
    _spawn([sys.executable, "-I", "-S", entry, WORKER_FLAG], data, env)
    return True


def _spawn(argv: list[str], data: Path, env: dict[str, str]) -> None:
    with _open_log(data) as log:
        options: dict[str, Any] = {"start_new_session": True}
        if WINDOWS:
            flags = ("DETACHED_PROCESS", "CREATE_NEW_PROCESS_GROUP", "CREATE_NO_WINDOW")
            options = {"creationflags": sum(getattr(subprocess, flag, 0) for flag in flags)}
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         cwd=data, env=env, close_fds=True, **options)


@contextmanager
def _open_log(data: Path) -> Iterator[IO[bytes]]:
    path = data / LOG
    try:
        if path.stat().st_size > LOG_MAX_BYTES:
            path.unlink()
    except OSError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        yield log


def not_ready(data: Path, root: str, entry: str, payload: dict[str, Any], project: str) -> None:
    """A hook event before the environment is ready: note the session, start the worker."""
    ensure_private_dir(data)
    note_pending(data, payload, project)
    start_worker(data, root, entry)


def new_project(data: Path, root: str, entry: str, project: str) -> None:
    """A hook event in a project with no archive folder yet (its first): the worker keeps
    the folder out of git while the hook goes on."""
    note_new_project(data, project)
    start_worker(data, root, entry)


# ---------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------


def say(message: str) -> None:
    """A line of ``worker.log`` (the worker's stdout is that file)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} [{os.getpid()}] {message}", flush=True)


def _run(argv: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 1, "", f"{argv[0]}: {exc}")


def venv_ok(venv: Path, stamp: str) -> bool:
    """Built from these sources, and its python still imports the package (its base
    interpreter may have gone since)."""
    try:
        if (venv / "session-core.stamp").read_text() != stamp:
            return False
    except OSError:
        return False
    return _run([str(venv_python(venv)), "-c", "import session_core"], 60).returncode == 0


def build_venv(venv: Path, root: Path, stamp: str) -> None:
    """A virtual environment with this plugin root's package pip-installed (from a copy of the
    sources: pip builds a folder in place). Needs pip's index or a wheel cache for the
    dependencies (``SESSION_CORE_PIP_ARGS`` adds pip arguments, e.g. ``--find-links``)."""
    say(f"building {venv} from {root}")
    made = _run([sys.executable, "-m", "venv", "--clear", str(venv)], 300)
    if made.returncode != 0:
        raise BuildError(f"could not create a virtual environment at {venv} with"
                         f" {sys.executable}: {(made.stderr or made.stdout)[-2000:]}"
                         "\nTry: install Python's venv module (Debian/Ubuntu: python3-venv)")
    with tempfile.TemporaryDirectory(prefix="session-core-build-") as temp:
        source = Path(temp) / "src"
        source.mkdir()
        copy_build_sources(root, source)
        done = _run([str(venv_python(venv)), "-m", "pip", "install",
                     "--disable-pip-version-check", "-q", *pip_extra_args(), str(source)], 1800)
    if done.returncode != 0:
        raise BuildError(f"pip could not install {root}: {done.stderr[-3000:]}\nTry: check"
                         f" pip's index settings ({PIP_ARGS_ENV} adds pip arguments)")
    (venv / "session-core.stamp").write_text(stamp)
    say(f"built {venv}")


def _prune(data: Path, keep: set[str]) -> None:
    """Environments of earlier sources; the one hooks may still be running from stays."""
    for venv in data.glob("venv-*"):
        if venv.name not in keep and venv.is_dir():
            shutil.rmtree(venv, ignore_errors=True)
            say(f"removed {venv}")


def catch_up(data: Path, python: Path) -> bool:
    """Each note's project kept out of git, then the sessions it names archived with
    ``session-core import``; a note goes once that is done, or once it is too old. True if
    every note went."""
    done, checked = True, set()
    for note in pending_notes(data):
        seen = _mtime(note)
        try:
            facts = json.loads(note.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            note.unlink(missing_ok=True)
            continue
        project = facts.get("project") if isinstance(facts, dict) else None
        if not isinstance(project, str) or not os.path.isdir(project):
            say(f"dropped {note.name}: its project {project!r} is not a folder")
            note.unlink(missing_ok=True)
            continue
        if project not in checked:
            checked.add(project)
            _keep_out_of_git(project)
        if facts.get("kind") == "exclude":
            note.unlink(missing_ok=True)
            continue
        files = _files_of(facts)
        if facts.get("transcript_path") and not files:
            say(f"dropped {note.name}: {facts['transcript_path']} does not exist")
            note.unlink(missing_ok=True)
            continue
        argv = [str(python), "-m", "session_core", "import", "--project", project, *files]
        result = _run(argv, IMPORT_TIMEOUT_S)
        say(f"import for {note.name}: exit {result.returncode} {result.stdout.strip()[-500:]}"
            f" {result.stderr.strip()[-1500:]}".rstrip())
        too_old = time.time() - float(facts.get("noted_at") or 0) > NOTE_MAX_AGE_S
        if (result.returncode == 0 or too_old) and _mtime(note) == seen:
            note.unlink(missing_ok=True)  # a note rewritten meanwhile waits for the next round
        else:
            done = False
    return done


def keep_out_of_git(project: Path) -> list[str]:
    """What the install does for the archive folder (``ignores``: a line in
    ``.git/info/exclude``, or in an existing ``.gitignore`` outside git), then the folder
    itself, so the entry stops asking: transcripts hold code and secrets."""
    from ...base.locations import archive_dir
    from . import ignores

    archive = Path(archive_dir(project, cwd=project))
    added = []
    for line in ignores.needed(project, False, archive):
        ignores.add(line)
        added.append(f"added {line.line} to {line.file} ({line.what})")
    ensure_private_dir(archive)
    return added


def _keep_out_of_git(project: str) -> None:
    try:
        for line in keep_out_of_git(Path(project)):
            say(line)
    except OSError as exc:
        say(f"could not keep {project}'s archive out of git: {exc}")


def _files_of(facts: dict[str, Any]) -> list[str]:
    """The session's transcript and its subagents' (what a hook's save takes); none named:
    the whole project folder (``import`` without paths)."""
    transcript = facts.get("transcript_path")
    session = facts.get("session_id")
    if not isinstance(transcript, str) or not isinstance(session, str):
        return []
    if not os.path.isfile(transcript):
        return []
    subagents = Path(transcript).parent / session / "subagents"
    return [transcript, *sorted(str(p) for p in subagents.glob("*.jsonl") if p.is_file())]


def work(root: str, data: Path, entry: str) -> int:
    """The worker: build the environment if these sources have none, mark it ready, catch up
    the notes. One at a time: a second one finds the lock held and leaves."""
    restrict_umask(OWNER_ONLY_WRITES)  # the venv and scripts Claude Code runs: no one else writes
    ensure_private_dir(data)
    with worker_lock(data) as held:
        if not held:
            return 0
        previous = read_marker(data)
        try:
            stamp = source_stamp(Path(root))
        except OSError as exc:
            return _failed(data, f"cannot read the plugin's sources at {root}: {exc}")
        venv = data / f"venv-{stamp[:16]}"
        if not venv_ok(venv, stamp):
            try:
                build_venv(venv, Path(root), stamp)
            except BuildError as exc:
                return _failed(data, str(exc))
        (data / FAILED).unlink(missing_ok=True)
        python = venv_python(venv)
        write_atomic(data / ENTRY, Path(entry).read_bytes(), mode=SCRIPT_MODE)
        write_marker(data, root, python)
        say(f"ready: {python} for {root}")
        keep = {venv.name}
        if previous is not None:
            keep.add(Path(previous[2]).parent.parent.name)
        _prune(data, keep)
        for _ in range(3):  # notes written while the last round ran
            if catch_up(data, python):
                break
    return 0


def _failed(data: Path, message: str) -> int:
    say(f"Error: {message}")
    write_atomic(data / FAILED, (message + "\n").encode("utf-8"))
    return 1


# ---------------------------------------------------------------------------------------------
# hooks/hooks.json, from settings.template.json
# ---------------------------------------------------------------------------------------------


def plugin_hooks(template: dict[str, Any]) -> dict[str, Any]:
    """The template's hooks, each started through the entry: ``python3 -I -S plugin_entry.py``
    then the template's arguments, ``${SESSION_CORE_HOOKS}`` read as the plugin's ``hooks/``.
    The ``statusLine`` stays out: a plugin cannot ship one."""
    entry = f"{HOOKS_DIR}/{ENTRY}"
    hooks: dict[str, Any] = {}
    for event, groups in template["hooks"].items():
        hooks[event] = []
        for group in groups:
            handlers = []
            for handler in group["hooks"]:
                if handler.get("command") != "${SESSION_CORE_PYTHON}":
                    raise ValueError(f"{event}: a hook not run by the suite's python: {handler}")
                args = [arg.replace("${SESSION_CORE_HOOKS}", HOOKS_DIR)
                        for arg in handler.get("args", [])]
                handlers.append({**handler, "command": "python3",
                                 "args": ["-I", "-S", entry, *args]})
            hooks[event].append({**group, "hooks": handlers})
    return {"description": "claude-session-core: archive every session, hand the next one a"
                           " note (hooks/plugin_entry.py starts each hook)", "hooks": hooks}


def hooks_json(repo: Path) -> str:
    template = json.loads((repo / "settings.template.json").read_text(encoding="utf-8"))
    return json.dumps(plugin_hooks(template), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m session_core.cli.setup.plugin [--check]``: write (or check) hooks/hooks.json
    from settings.template.json, after the template changed."""
    repo = Path(__file__).resolve().parents[3]
    wanted, path = hooks_json(repo), repo / "hooks" / "hooks.json"
    if argv and argv[0] == "--check":
        same = path.is_file() and path.read_text(encoding="utf-8") == wanted
        print("hooks/hooks.json is up to date" if same else "hooks/hooks.json is out of date:"
              " run python -m session_core.cli.setup.plugin")
        return 0 if same else 1
    path.write_text(wanted, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
