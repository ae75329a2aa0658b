#!/usr/bin/env python3
"""Install claude-session-core into a project: ``python3 install.py [PROJECT] [options]``.

A bootstrap, standard library only, for a fresh machine: it checks the Python version, asks
what must be asked before anything is built (an old Claude Code, ``--shared``), builds the
suite's virtual environment in the user data folder and pip-installs this checkout into it,
then hands over to that environment's ``session-core install``, which does the rest. What needs
no virtual environment (``--dry-run``, ``--uninstall``) runs the same installer code straight
from this checkout. ``session-core install --help`` lists the options.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent
if sys.version_info < (3, 10):  # noqa: UP036 - any python3 may run this file
    sys.exit("Error: session-core needs Python 3.10 or newer\nTry: run this with a newer python3")

sys.path.insert(0, str(REPO))  # this checkout's installer code: standard library only

from session_core.base.errors import SessionCoreError  # noqa: E402
from session_core.base.fs import OWNER_ONLY_WRITES, restrict_umask  # noqa: E402
from session_core.cli.setup import commands, options  # noqa: E402
from session_core.cli.setup.build import (  # noqa: E402
    PIP_ARGS_ENV,
    copy_build_sources,
    pip_extra_args,
    source_stamp,
)
from session_core.cli.setup.suite import Suite, Target  # noqa: E402


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise SessionCoreError(f"cannot run {argv[0]}: {exc.strerror}",
                               "check the installation of that program") from exc


def venv_current(suite: Suite, stamp: str) -> bool:
    """The stamp matches and the venv's Python still imports the package (its base may be gone)."""
    try:
        if suite.stamp.read_text() != stamp or not suite.cli.exists():
            return False
    except OSError:
        return False
    return _run([str(suite.python), "-c", "import session_core"]).returncode == 0


def ensure_venv(suite: Suite, dry: bool) -> str:
    stamp = source_stamp(REPO)
    if venv_current(suite, stamp):
        return f"venv: up to date ({suite.venv})"
    if dry:
        return f"venv: would create {suite.venv} and pip install {REPO}"
    print(f"venv: installing claude-session-core into {suite.venv} (takes a minute) ...",
          flush=True)
    started = time.monotonic()
    if not (suite.python.exists() and _run([str(suite.python), "-c", "pass"]).returncode == 0):
        clear = ["--clear"] if suite.venv.exists() else []
        made = _run([sys.executable, "-m", "venv", *clear, str(suite.venv)])
        if made.returncode != 0:
            raise SessionCoreError(f"could not create a virtual environment at {suite.venv}:\n"
                                   f"{made.stderr or made.stdout}", "install Python's venv module"
                                   " (Debian/Ubuntu: apt install python3-venv)")
    suite.stamp.unlink(missing_ok=True)
    pip_install(suite)
    suite.stamp.write_text(stamp)
    return f"venv: installed in {time.monotonic() - started:.0f} s"


def pip_install(suite: Suite) -> None:
    """``pip install`` of a copy of the sources, not editable, so the checkout may move or go
    away afterwards. A copy, because pip builds a local folder in place: setuptools would leave
    ``build/`` and ``*.egg-info`` in the checkout and reinstall modules since deleted from it
    out of ``build/lib``."""
    with tempfile.TemporaryDirectory(prefix="session-core-build-") as temp:
        source = Path(temp) / "src"
        source.mkdir()
        copy_build_sources(REPO, source)
        done = _run([str(suite.python), "-m", "pip", "install", "--disable-pip-version-check",
                     "-q", *pip_extra_args(), str(source)])
    if done.returncode != 0:
        raise SessionCoreError(f"pip could not install {REPO}:\n{done.stderr[-3000:]}",
                               f"check pip's index settings ({PIP_ARGS_ENV} adds pip arguments),"
                               " then run again")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="install.py", description="Install claude-session-core's hooks into a project.",
        epilog=options.INSTALL_EPILOG)
    options.add_install_arguments(parser)
    parser.add_argument("--uninstall", action="store_true",
                        help="take session-core out instead (as 'session-core uninstall')")
    parser.add_argument("--purge", action="store_true",
                        help="with --uninstall: also delete the project's archive and every line"
                             " and folder the install added (asks first)")
    args = parser.parse_args(argv)
    if args.purge and not args.uninstall:
        parser.error("--purge only goes with --uninstall")
    if args.statusline and args.uninstall:
        parser.error("--statusline is for installing")
    return args


def install(args: argparse.Namespace) -> int:
    suite = Suite.default()
    args.source = str(REPO)
    if args.dry_run:
        return commands.install(args, prelude=[ensure_venv(suite, True)])
    target = Target(commands.resolve_project(args.project), args.shared)
    commands.say(commands.preflight(args, suite, target))  # before anything is built
    commands.say(ensure_venv(suite, False))
    handover = [str(suite.cli), "install", str(target.project), "--source", str(REPO),
                "--checked", *(["--shared"] if args.shared else []),
                *(["--statusline"] if args.statusline else [])]
    sys.stdout.flush()
    return subprocess.run(handover, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    restrict_umask(OWNER_ONLY_WRITES)  # the venv and hooks Claude Code runs: no one else writes
    args = parse_args(argv)
    try:
        return commands.uninstall(args) if args.uninstall else install(args)
    except SessionCoreError as exc:
        print(exc.render(), file=sys.stderr)
        return int(exc.exit_code)
    except OSError as exc:
        print(f"Error: {exc}\nTry: check the path and its permissions", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
