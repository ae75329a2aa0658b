"""The tree's layers hold: every import goes down (``python -m session_core.tools.layers``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO


def layers(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "session_core.tools.layers", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_every_import_goes_down_the_layers() -> None:
    done = layers()
    assert done.returncode == 0, done.stderr
    assert "ok: every import goes down the layers" in done.stdout
    assert "transcript" in done.stdout and "cli.setup" in done.stdout  # the graph is printed


@pytest.mark.parametrize(("module", "line", "named"), [
    ("store/frames.py", "from ..hook import run", "store.frames (store) imports hook (hook)"),
    ("transcript/ingest.py", "    from ..handoff.notes import session_digest",
     "imports handoff.notes (handoff)"),
    ("cli/setup/suite.py", "from ...store import files", "imports store (store)"),
    ("base/text.py", "import session_core.cli.main", "imports cli.main (cli)"),
])
def test_an_upward_import_fails_the_check(tmp_path: Path, module: str, line: str,
                                          named: str) -> None:
    """Lazy imports count too: a dependency inside a function is still a dependency."""
    root = tmp_path / "session_core"
    shutil.copytree(REPO / "session_core", root, ignore=shutil.ignore_patterns("__pycache__"))
    target = root / module
    body = target.read_text()
    if line.startswith(" "):
        body += "\n\ndef _upward() -> None:\n" + line + "\n"
    else:
        body += "\n" + line + "\n"
    target.write_text(body)
    done = layers("--root", str(root))
    assert done.returncode == 1, done.stdout
    assert named in done.stderr, done.stderr
