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
