"""``session-core doctor`` says what a careful user should know, and exits 1 on a problem."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from session_core.base import locations

from .conftest import FIXTURES, run_cli


def _doctor(project: Path) -> tuple[int, str]:
    result = run_cli("doctor", "--project", str(project))
    assert b"Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.decode()


def test_a_cared_for_archive_is_all_good_and_says_how_soon_claude_deletes(
        project: Path, isolated_env: Path) -> None:
    claude = Path(os.environ["CLAUDE_CONFIG_DIR"])
    claude.mkdir(parents=True, exist_ok=True)
    (claude / "settings.json").write_text('{"cleanupPeriodDays": 7}')
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    assert run_cli("backup", "--project", str(project)).returncode == 0
    assert run_cli("verify", "--project", str(project)).returncode == 0
    code, text = _doctor(project)
    assert code == 0 and "All good." in text, text
    assert "after 7 days" in text and "Last verify" in text and "healthy" in text


def test_each_problem_is_named(project: Path) -> None:
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    folder = Path(locations.archive_dir(project))
    folder.chmod(0o755)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-f", str(folder / "archive.db")],
                   check=True)
    settings = {"hooks": {"Stop": [{"hooks": [{"type": "command",
                                               "command": "/gone/session-core/venv/bin/python",
                                               "args": ["/gone/session-core/hooks/run.py"]}]}]}}
    (project / ".claude" / "settings.local.json").write_text(json.dumps(settings))
    (folder / "health.json").write_text(json.dumps(
        {"failures": 3, "last_error": "Stop: disk full",
         "recover_pending": {"reason": "not a SQLite database"}}))
    code, text = _doctor(project)
    assert code == 1, text
    for expected in ("read by other users", "tracked by git", "no longer exists",
                     "no backup yet", "set aside", "3 hook run(s) failed", "never"):
        assert expected in text, (expected, text)


def test_a_fresh_install_with_nothing_archived_yet_is_all_good(project: Path) -> None:
    assert run_cli("import", "--project", str(project)).returncode == 0  # no transcripts yet
    code, text = _doctor(project)
    assert code == 0 and "none yet" in text and "All good." in text, text
