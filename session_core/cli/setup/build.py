"""What a suite venv is built from, for both builders: ``install.py`` (into the suite's data
folder, for one project) and the plugin's worker (into ``${CLAUDE_PLUGIN_DATA}``). The same
sources give the same stamp, so either rebuilds only after a change. Standard library only:
both run before any dependency exists."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from pathlib import Path

PIP_ARGS_ENV = "SESSION_CORE_PIP_ARGS"
"""Extra ``pip install`` arguments (``--no-index --find-links DIR``, say), split like a shell."""
BUILD_SOURCES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "LICENSE.txt", "LICENSE.md", "session_core")
"""What ``pip install`` needs to build the package (absent ones are skipped)."""


def source_stamp(root: Path) -> str:
    """Hash of everything that ends up installed: the venv is rebuilt only after a change."""
    files = [root / "pyproject.toml", *sorted((root / "session_core").rglob("*.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def copy_build_sources(root: Path, target: Path) -> None:
    """``root``'s package sources into the empty folder ``target``, for pip to build from: pip
    builds a local folder in place, and setuptools would leave ``build/`` and ``*.egg-info``
    in the checkout (and reinstall modules since deleted from it out of ``build/lib``)."""
    for name in BUILD_SOURCES:
        if (root / name).is_dir():
            shutil.copytree(root / name, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
        elif (root / name).is_file():
            shutil.copy2(root / name, target / name)


def pip_extra_args() -> list[str]:
    """``SESSION_CORE_PIP_ARGS`` as pip arguments."""
    return shlex.split(os.environ.get(PIP_ARGS_ENV, ""))
