"""Every hook of the Claude Code plugin: ``python3 -I -S plugin_entry.py <the hook's arguments>``
(hooks/hooks.json), run by whatever ``python3`` is on PATH, standard library only.

Once the suite's virtual environment is ready (``ready`` in ``${CLAUDE_PLUGIN_DATA}``, written
by the worker for this plugin root), this execs that environment's python on the hook's
arguments (``run.py <Event>``, ``-S recall.py <Event>``), stdin untouched: one more interpreter
start, nothing else. Until then it notes the session for the worker to catch up, starts the
worker (detached, one at a time) and exits 0 at once, printing nothing
(``session_core.cli.setup.plugin``). A copy in the data folder, run without Claude Code's
plugin variables, serves what a user adds by hand: the status line (``plugin_entry.py -S
status_line.py``: a relative script is one of the plugin's ``hooks/``) and the command
(``plugin_entry.py -m session_core ...``). A hook always exits 0.
"""

from __future__ import annotations

import os
import sys

MARKER_HEADER = "session-core plugin ready 1"
SIGNED = ("pyproject.toml", os.path.join(".claude-plugin", "plugin.json"))
WORKER_FLAG = "--session-core-worker"
ENTRY_ENV = "SESSION_CORE_PLUGIN_ENTRY"
"""Set for the environment's python: this interpreter, this file and the data folder, one a
line. A hook script that cannot import the suite removes ``ready`` and runs this file again
with them (``hooks/suite_path.py``), which then takes the cold path: a hook never fails."""
HANDED_BACK_ENV = "SESSION_CORE_HANDED_BACK"
"""Set by that second run: it never execs the environment again, whatever ``ready`` says."""


def _signature(root: str) -> str:
    """As ``session_core.cli.setup.plugin.signature`` (a test compares the two)."""
    parts = []
    for name in SIGNED:
        try:
            info = os.stat(os.path.join(root, name))
            parts.append(f"{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return " ".join(parts)


def _interpreter(python: str) -> str:
    """As ``session_core.cli.setup.plugin.interpreter_signature`` (a test compares the two)."""
    try:
        real = os.path.realpath(python)
        info = os.stat(real)
        cfg = os.stat(os.path.join(os.path.dirname(os.path.dirname(python)), "pyvenv.cfg"))
    except (OSError, ValueError):
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns} {cfg.st_size}:{cfg.st_mtime_ns} {real}"


def _ready(marker: list[str], root: str) -> bool:
    """``ready`` serves this plugin root as it is, and its python is the interpreter it was
    built with (another one, after a Python upgrade, would not import the suite)."""
    return len(marker) > 4 and marker[1] == root \
        and marker[2] == _signature(root) and marker[4] == _interpreter(marker[3]) != "-"


def _marker(data: str) -> list[str] | None:
    try:
        with open(os.path.join(data, "ready"), encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except (OSError, ValueError):
        return None
    return lines if len(lines) >= 4 and lines[0] == MARKER_HEADER else None


def _has_pending(data: str) -> bool:
    try:
        return any(name.endswith(".json") for name in os.listdir(os.path.join(data, "pending")))
    except OSError:
        return False


def _new_project() -> bool:
    """The project has no archive folder yet (one ``stat``): the install would keep it out
    of git, and so does the worker. A folder ``SESSION_CORE_DATA_DIR`` names is the user's."""
    project = os.environ.get("CLAUDE_PROJECT_DIR") or ""
    return bool(project) and not os.environ.get("SESSION_CORE_DATA_DIR") \
        and not os.path.isdir(os.path.join(project, ".claude", "session-core"))


def _script_args(args: list[str], root: str) -> list[str]:
    """A relative script (the status line's ``status_line.py``) is one of the plugin's hooks;
    ``-m session_core ...`` is the command, run as it is."""
    out = list(args)
    for index, arg in enumerate(out):
        if arg == "-m":
            break
        if not arg.startswith("-"):
            if not os.path.isabs(arg):
                out[index] = os.path.join(root, "hooks", arg)
            break
    return out


def _cold(action: str, root: str, data: str) -> int:
    """Everything off the ready path, from the package in this plugin root (``cli.setup.plugin``
    and ``hook.stdio``: standard library only): never let a failure here reach Claude Code."""
    if sys.version_info < (3, 10):  # noqa: UP036 - any python3 may run this file
        return 0  # the worker needs 3.10; hooks stay quiet rather than fail every event
    sys.dont_write_bytecode = True  # the plugin root stays as installed
    sys.path.insert(0, root)
    try:
        from pathlib import Path

        from session_core.cli.setup import plugin

        entry = os.path.abspath(__file__)
        if action == "work":
            return plugin.work(root, Path(data), entry)
        if action == "start":
            plugin.start_worker(Path(data), root, entry)
            return 0
        if action == "new project":
            plugin.new_project(Path(data), root, entry, os.environ["CLAUDE_PROJECT_DIR"])
            return 0
        from session_core.hook.stdio import PayloadError, parse_payload, project_dir, read_stdin

        try:
            payload = parse_payload(read_stdin())
        except PayloadError:
            payload = {"session_id": os.environ.get("CLAUDE_CODE_SESSION_ID")}
        plugin.not_ready(Path(data), root, entry, payload, project_dir(payload))
    except Exception as exc:  # a hook must exit 0 whatever happened
        try:
            fd = os.open(os.path.join(data, "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                         0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as log:
                log.write(f"entry failed ({action}): {type(exc).__name__}: {exc}\n")
        except OSError:
            pass
    return 0


def main(args: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("CLAUDE_PLUGIN_DATA") or ""
    hook = bool(data)  # Claude Code runs plugin hooks with its plugin variables set
    data = data or here  # else: the copy in the data folder (the status line)
    marker = _marker(data)
    root = os.environ.get("CLAUDE_PLUGIN_ROOT") or (marker[1] if marker and not hook else "") \
        or os.path.dirname(here)
    if args[:1] == [WORKER_FLAG]:
        return _cold("work", root, data)
    handed_back = bool(os.environ.pop(HANDED_BACK_ENV, ""))
    if marker is not None and not handed_back and _ready(marker, root):
        python = marker[3]
        if hook and _new_project():
            _cold("new project", root, data)  # its archive folder is kept out of git
        elif hook and _has_pending(data):
            _cold("start", root, data)  # sessions from before it was ready
        argv = [python, *_script_args(args, root)]
        os.environ[ENTRY_ENV] = "\n".join((sys.executable, os.path.abspath(__file__), data))
        try:
            if os.name == "nt":  # no real exec on Windows: run it, pass its code on
                import subprocess

                return subprocess.call(argv)
            os.execv(python, argv)
        except OSError:
            pass  # its python is gone (the base interpreter was removed): build again
        os.environ.pop(ENTRY_ENV, None)
    if hook:
        return _cold("note", root, data)
    if "-m" in args:  # the command asked for by hand: say why nothing ran
        sys.stderr.write(f"Error: the session-core plugin's environment is not ready in {data}\n"
                         "Try: start a Claude Code session (its first hook builds it), then see"
                         " worker.log there\n")
        return 1
    return 0  # the status line: nothing to show yet


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except Exception:  # never block Claude Code because of our own failure
        code = 0
    sys.exit(code if isinstance(code, int) else 0)
