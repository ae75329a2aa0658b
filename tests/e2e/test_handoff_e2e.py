"""Issue 10 with the real client: what the next session is told, and what it is told at the
point of action. Session 1 edits a.py itself and b.py through a subagent, hits an error and
fixes it, and commits without pushing; session 2's first request names both files, the commit
and that it is not pushed; its Edit of a.py brings a note naming session 1, and the same error
brings what fixed it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .claude_harness import run_claude, transcripts
from .fake_api import FakeAnthropic, text, tool_use
from .test_suite_e2e import install

CHECK = ("import os, sys\n"
         "if not os.path.exists('settings.ini'):\n"
         "    sys.exit('ConfigError: settings.ini is missing')\n"
         "print('config ok')\n")
COMMIT_SUBJECT = "Teach a and b to retry"


def _requests_after(fake: FakeAnthropic, count: int) -> list[str]:
    return [json.dumps(body, ensure_ascii=False) for body in fake.main_requests()[count:]]


def test_the_next_session_gets_the_files_the_commit_and_the_fixes(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (git_project / "a.py").write_text("def a():\n    return 1\n")
    (git_project / "b.py").write_text("def b():\n    return 2\n")
    (git_project / "check.py").write_text(CHECK)
    subprocess.run(["git", "add", "-A"], cwd=git_project, check=True)
    subprocess.run(["git", "commit", "-qm", "files to work on"], cwd=git_project, check=True)
    install(git_project, suite_data, monkeypatch)

    fake_api.extend([
        tool_use("Edit", {"file_path": str(git_project / "a.py"), "old_string": "return 1",
                          "new_string": "return retry(lambda: 1)"}),
        tool_use("Agent", {"description": "Edit b.py", "subagent_type": "general-purpose",
                           "prompt": "Make b() retry too."}),
        tool_use("Bash", {"command": "python3 check.py", "description": "check the config"}),
        tool_use("Bash", {"command": "touch settings.ini", "description": "create it"}),
        tool_use("Bash", {"command": "python3 check.py", "description": "check again"}),
        tool_use("Bash", {"command": f"git add -A && git commit -m '{COMMIT_SUBJECT}'",
                          "description": "commit"}),
        text("a.py and b.py retry now; committed, not pushed yet."),
    ])
    fake_api.subagent_script.extend([
        tool_use("Edit", {"file_path": str(git_project / "b.py"), "old_string": "return 2",
                          "new_string": "return retry(lambda: 2)"}),
        text("b.py now retries."),
    ])
    first = run_claude(git_project, claude_home, "make a and b retry, then commit",
                       fake=fake_api, timeout=180)
    assert first.returncode == 0, first.stderr
    assert "retry(lambda: 2)" in (git_project / "b.py").read_text()  # the subagent's edit
    log = subprocess.run(["git", "log", "--format=%h %s", "-1"], cwd=git_project,
                         capture_output=True, text=True, check=True).stdout.split()
    assert " ".join(log[1:]) == COMMIT_SUBJECT
    [session_one] = [t.stem for t in transcripts(claude_home, git_project)]

    (git_project / "settings.ini").unlink()  # so the same error comes back
    before = len(fake_api.main_requests())
    fake_api.extend([
        tool_use("Edit", {"file_path": str(git_project / "a.py"),
                          "old_string": "return retry(lambda: 1)",
                          "new_string": "return retry(lambda: 1, attempts=5)"}),
        tool_use("Bash", {"command": "python3 check.py", "description": "check the config"}),
        text("Done."),
    ])
    second = run_claude(git_project, claude_home, "what was done last time?", fake=fake_api,
                        timeout=180)
    assert second.returncode == 0, second.stderr
    asked = _requests_after(fake_api, before)
    handoff = asked[0]
    for needle in ("a.py", "b.py (edited by a subagent)", log[0], COMMIT_SUBJECT,
                   "Not pushed", session_one):
        assert needle in handoff, needle
    after_edit, after_failure = asked[1], asked[2]
    assert f"session {session_one}" in after_edit and "was changed before" in after_edit
    assert "was changed before" not in handoff  # the note comes with the edit, not before
    assert "This error was seen before" in after_failure
    assert "touch settings.ini" in after_failure and session_one in after_failure
