"""The suite's packages on ``sys.path`` for a hook started with ``python -S``.

Claude Code starts a fresh interpreter for every hook event and every status-line refresh, and
``site`` is about 2 ms of each (it imports ``os`` early and runs every ``.pth`` of the venv:
setuptools' ``distutils-precedence.pth`` alone is ~0.3 ms). The installer's layout is a venv
whose ``site-packages`` holds ``session_core``: that folder alone is put on the path. Any other
layout gets the normal ``site`` (an editable install, a system-wide one), unless the package
is on the path already (``PYTHONPATH``).
"""

import os
import sys

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Callable


def suite_main(module: str) -> "Callable[..., int]":
    """``module``'s ``main``, the suite put on the path first: what each hook script runs. A
    suite that does not import is the plugin's broken environment (:func:`hand_back`: this
    process ends with 0, printing nothing) or, anywhere else, raised as it is."""
    add_suite_to_path()
    try:
        __import__(module)
    except ImportError:
        if not hand_back():
            raise
        sys.exit(0)
    main: Callable[..., int] = sys.modules[module].main
    return main


def add_suite_to_path() -> None:
    """Called before the first ``import session_core``; without ``-S`` it changes nothing."""
    if "site" in sys.modules:
        return
    venv = os.path.dirname(os.path.dirname(sys.executable))  # without site, sys.prefix is
    lib = os.path.join(venv, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                       "site-packages")  # the base interpreter's: the venv is found by site
    if os.path.isfile(os.path.join(venv, "pyvenv.cfg")) and _holds(lib, "session_core"):
        sys.path.append(lib)
    elif not all(any(_holds(folder, package) for folder in sys.path[1:])
                 for package in NEEDED):  # all on the path already: PYTHONPATH, say
        import site

        site.main()


NEEDED = ("session_core", "zstandard")
"""What every hook imports from outside the standard library."""


def _holds(folder: str, package: str) -> bool:
    return os.path.isfile(os.path.join(folder, package, "__init__.py"))


ENTRY_ENV = "SESSION_CORE_PLUGIN_ENTRY"
HANDED_BACK_ENV = "SESSION_CORE_HANDED_BACK"
"""As ``hooks/plugin_entry.py``'s (a test runs the two together)."""


def hand_back() -> bool:
    """The suite did not import (the plugin's environment broke: a Python upgrade, a package
    removed by hand). Started by the plugin's entry: ``ready`` is removed if it still names
    this python, and the entry runs again on the same arguments and the unread stdin, which
    notes the session, starts the worker (it checks and rebuilds the environment) and exits
    0, printing nothing. False elsewhere (the caller raises): an install's own hooks."""
    facts = os.environ.pop(ENTRY_ENV, "").split("\n")
    if len(facts) != 3 or not all(facts) or os.environ.get(HANDED_BACK_ENV):
        return False
    python, entry, data = facts
    ready = os.path.join(data, "ready")
    try:
        with open(ready, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        if len(lines) > 3 and os.path.abspath(lines[3]) == os.path.abspath(sys.executable):
            os.unlink(ready)
    except (OSError, ValueError):
        pass
    os.environ[HANDED_BACK_ENV] = "1"
    try:
        if os.name == "nt":
            import subprocess

            subprocess.call([python, "-I", "-S", entry, *sys.argv])
        else:
            os.execv(python, [python, "-I", "-S", entry, *sys.argv])
    except OSError:
        pass
    return True
