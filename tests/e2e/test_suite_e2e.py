"""The suite as a user gets it: install.py into a git project, then real Claude Code sessions.

What reached the model is read from the stand-in API's request log, so these tests prove the
handoff arrives where the model reads it, not only that a hook printed it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO
from .claude_harness import TmuxSession, make_git_project, run_claude, transcripts
from .fake_api import FakeAnthropic, text, tool_use

FIRST_PROMPT = "Add retry logic to fetch_user and track the follow-ups as tasks"


def install(project: Path, suite_data: Path, monkeypatch: pytest.MonkeyPatch,
            *args: str) -> subprocess.CompletedProcess[str]:
    monkeypatch.setenv("XDG_DATA_HOME", str(suite_data))
    result = subprocess.run([sys.executable, str(REPO / "install.py"), str(project), *args],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def session_core(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "session_core", *args], capture_output=True,
                          timeout=120, check=False)


def run_session_one(project: Path, home: Path, fake: FakeAnthropic) -> Path:
    """Two files changed with tools, two tasks created, one left pending, one in progress."""
    fake.extend([
        tool_use("Write", {"file_path": str(project / "retry.py"),
                           "content": "def retry(fn, attempts=3):\n    return fn()\n"}),
        tool_use("Read", {"file_path": str(project / "README.md")}),
        tool_use("Edit", {"file_path": str(project / "README.md"), "old_string": "# demo project",
                          "new_string": "# demo project\n\nRetries."}),
        tool_use("TaskCreate", {"subject": "Write tests for retry",
                                "description": "cover the backoff"}),
        tool_use("TaskCreate", {"subject": "Wire retry into fetch_user",
                                "description": "use retry() in api.py"}),
        tool_use("TaskUpdate", {"taskId": "2", "status": "in_progress"}),
        text("Retry helper written and README updated; the tests are still to do."),
    ])
    result = run_claude(project, home, FIRST_PROMPT, fake=fake, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Retries." in (project / "README.md").read_text() and (project / "retry.py").exists()
    [transcript] = transcripts(home, project)
    return transcript


def test_next_session_is_told_what_the_last_one_did(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    transcript = run_session_one(git_project, claude_home, fake_api)
    session_id = transcript.stem
    exported = session_core("export", session_id, "--project", str(git_project))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == transcript.read_bytes()  # every line, byte for byte

    before = len(fake_api.main_requests())
    fake_api.extend([text("Picking up where we left off.")])
    second = run_claude(git_project, claude_home, "what is left to do?", fake=fake_api)
    assert second.returncode == 0, second.stderr
    first_request = json.dumps(fake_api.main_requests()[before], ensure_ascii=False)
    for needle in ("retry.py", "README.md", "Write tests for retry",
                   "Wire retry into fetch_user", FIRST_PROMPT, session_id):
        assert needle in first_request, needle


def test_a_project_without_history_gets_nothing_from_us(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    fake_api.extend([text("Hello.")])
    result = run_claude(git_project, claude_home, "hi", fake=fake_api)
    assert result.returncode == 0, result.stderr
    assert "session-core" not in json.dumps(fake_api.main_requests()[0])


def test_deleted_transcript_is_restored_and_resumed(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    transcript = run_session_one(git_project, claude_home, fake_api)
    original = transcript.read_bytes()
    transcript.unlink()
    restored = session_core("restore", transcript.stem, "--project", str(git_project))
    assert restored.returncode == 0, restored.stderr
    assert transcript.read_bytes() == original

    before = len(fake_api.main_requests())
    fake_api.extend([text("Resumed.")])
    result = run_claude(git_project, claude_home, "continue", "--resume", transcript.stem,
                        fake=fake_api)
    assert result.returncode == 0, result.stderr
    resumed_request = json.dumps(fake_api.main_requests()[before], ensure_ascii=False)
    assert FIRST_PROMPT in resumed_request and "the tests are still to do" in resumed_request


def test_install_twice_then_uninstall_restores_the_settings_file(
        tmp_path: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_git_project(tmp_path / "team project")
    settings = project / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    foreign = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]},
               "env": {"FOO": "1"}}
    settings.write_text(json.dumps(foreign, indent=4) + "\n")
    original = settings.read_bytes()
    install(project, suite_data, monkeypatch)
    once = settings.read_bytes()
    install(project, suite_data, monkeypatch)
    assert settings.read_bytes() == once
    merged = json.loads(once)
    assert merged["env"] == {"FOO": "1"} and {"type": "command", "command": "true"} in [
        h for group in merged["hooks"]["Stop"] for h in group["hooks"]]
    fake_api.extend([text("ok")])
    assert run_claude(project, claude_home, "hi", fake=fake_api).returncode == 0
    install(project, suite_data, monkeypatch, "--uninstall")
    assert settings.read_bytes() == original


def test_status_line_shows_the_archive_live_in_an_interactive_session(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    fake_api.extend([text("Hi there.")])
    with TmuxSession(git_project, claude_home, fake=fake_api,
                     env={"SESSION_CORE_DEBUG": "1"}) as tmux:
        # SessionStart archives nothing yet; the status line says so (not "0 msgs saved").
        assert tmux.wait_for("archive: nothing saved yet", timeout=20), tmux.capture()
        assert " main " in tmux.capture()  # the git branch, read from .git/HEAD
        tmux.type_text("hello", enter=True)
        assert tmux.wait_for("Hi there.", timeout=30), tmux.capture()
        # Stop saved the turn; the next refresh (refreshInterval 10 s) shows the count.
        assert tmux.wait_for(re.compile(r"[1-9]\d* msgs saved"), timeout=60), tmux.capture()


def test_a_garbage_archive_between_sessions_loses_nothing(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Session 1 runs; its archive is overwritten with garbage; session 2 runs and is saved,
    the status line asks for recover; after recover both sessions export byte for byte, the
    first although Claude Code's copy of it is gone by then."""
    install(git_project, suite_data, monkeypatch)
    first = run_session_one(git_project, claude_home, fake_api)
    first_bytes = first.read_bytes()
    archive = git_project / ".claude" / "session-core" / "archive.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{archive}{suffix}").unlink(missing_ok=True)
    archive.write_bytes(b"overwritten by a bad sync tool\n" * 4096)

    fake_api.extend([text("Second session here.")])
    with TmuxSession(git_project, claude_home, fake=fake_api) as tmux:
        # SessionStart met the garbage, set it aside, and saving went on.
        assert tmux.wait_for("run session-core recover", timeout=30), tmux.capture()
        tmux.type_text("carry on", enter=True)
        assert tmux.wait_for("Second session here.", timeout=30), tmux.capture()
        tmux.exit()
    second = next(path for path in transcripts(claude_home, git_project) if path != first)
    quarantined = list((archive.parent / "quarantine").glob("*/archive.db"))
    assert [path.read_bytes()[:30] for path in quarantined] == [b"overwritten by a bad sync to"
                                                                b"ol"]
    saved = session_core("export", second.stem, "--project", str(git_project))
    assert saved.returncode == 0 and saved.stdout == second.read_bytes()  # before recover

    first.unlink()  # Claude Code's cleanup: the archive is now the only copy
    recovered = session_core("recover", "--project", str(git_project))
    assert recovered.returncode == 0, recovered.stdout.decode() + recovered.stderr.decode()
    for transcript, original in ((first, first_bytes), (second, second.read_bytes())):
        exported = session_core("export", transcript.stem, "--project", str(git_project))
        assert exported.returncode == 0 and exported.stdout == original, transcript.stem
    assert session_core("verify", "--project", str(git_project)).returncode == 0
