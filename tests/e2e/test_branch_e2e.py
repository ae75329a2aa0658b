"""Issue 13 with the real client: a checkpoint between two turns, a branch of it that
``claude --resume`` takes up with the first turn and nothing of the second; an automatic
checkpoint before ``/compact``; and a merge whose first request carries what the branch did
(the files it changed, the commits it made)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .claude_harness import run_claude, transcripts
from .fake_api import FakeAnthropic, text, tool_use
from .test_suite_e2e import install

ALPHA_PROMPT, ALPHA_REPLY = "first turn: the word is ALPHA-7731", "Noted ALPHA-7731."
BETA_PROMPT, BETA_REPLY = "second turn: the word is BETA-4409", "Noted BETA-4409."


def session_core(project: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "session_core", *args, "--project",
                           str(project)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def resume_id(output: str) -> str:
    found = re.search(r"claude --resume ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


def first_turn(project: Path, home: Path, fake: FakeAnthropic) -> str:
    """One turn that asks a subagent, so the branch has a subagent file to take along."""
    fake.extend([tool_use("Agent", {"description": "Look around",
                                    "subagent_type": "general-purpose",
                                    "prompt": "List the files."}),
                 text(ALPHA_REPLY)])
    fake.subagent_script.extend([text("README.md is the only file.")])
    done = run_claude(project, home, ALPHA_PROMPT, fake=fake, timeout=180)
    assert done.returncode == 0, done.stderr
    [transcript] = transcripts(home, project)
    return transcript.stem


def asked_after(fake: FakeAnthropic, count: int) -> str:
    return json.dumps(fake.main_requests()[count], ensure_ascii=False)


def test_a_branch_of_a_checkpoint_resumes_with_the_first_turn_and_nothing_of_the_second(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    origin = first_turn(git_project, claude_home, fake_api)
    session_core(git_project, "checkpoint", "create", "after-one", "--session", origin)
    fake_api.extend([text(BETA_REPLY)])
    second = run_claude(git_project, claude_home, BETA_PROMPT, "--resume", origin,
                        fake=fake_api, timeout=120)
    assert second.returncode == 0, second.stderr
    assert BETA_PROMPT in asked_after(fake_api, len(fake_api.main_requests()) - 1)

    new = resume_id(session_core(git_project, "branch", "after-one"))
    folder = transcripts(claude_home, git_project)[0].parent
    assert list((folder / new / "subagents").glob("agent-*.jsonl"))  # the Agent call's run

    before = len(fake_api.main_requests())
    fake_api.extend([text("On the branch.")])
    third = run_claude(git_project, claude_home, "which word did I give you?", "--resume", new,
                       fake=fake_api, timeout=120)
    assert third.returncode == 0, third.stderr
    sent = asked_after(fake_api, before)
    assert ALPHA_PROMPT in sent and ALPHA_REPLY in sent and "which word did I give" in sent
    assert "BETA-4409" not in sent
    assert f"branch of {origin} at checkpoint after-one" in session_core(git_project, "show",
                                                                          new)


def test_an_automatic_checkpoint_is_taken_before_compact(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    origin = first_turn(git_project, claude_home, fake_api)
    compacted = run_claude(git_project, claude_home, "/compact", "--resume", origin,
                           fake=fake_api, timeout=180)
    assert compacted.returncode == 0, compacted.stderr
    assert fake_api.requests_of("compact")  # the client really compacted
    listed = json.loads(session_core(git_project, "checkpoint", "list", "--session", origin,
                                     "--json"))
    [before_compact] = [c for c in listed if c["reason"] == "compact"]
    # taken before the compaction: the summary is not in what it points at, the turn is
    new = resume_id(session_core(git_project, "branch", before_compact["name"]))
    folder = transcripts(claude_home, git_project)[0].parent
    cut = (folder / f"{new}.jsonl").read_text()
    assert ALPHA_REPLY in cut and "compact_boundary" not in cut


def test_a_merge_begins_with_the_files_and_commits_of_the_branch(
        git_project: Path, claude_home: Path, fake_api: FakeAnthropic, suite_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(git_project, suite_data, monkeypatch)
    origin = first_turn(git_project, claude_home, fake_api)
    session_core(git_project, "checkpoint", "create", "try-b", "--session", origin)
    branch = resume_id(session_core(git_project, "branch", "try-b"))
    fake_api.extend([
        tool_use("Write", {"file_path": str(git_project / "parser_b.py"),
                           "content": "def parse(text):\n    return text.split()\n"}),
        tool_use("Bash", {"command": "git add parser_b.py && git commit -m 'Parse with B'",
                          "description": "commit"}),
        text("Parser B works and is committed."),
    ])
    work = run_claude(git_project, claude_home, "try parser B", "--resume", branch,
                      fake=fake_api, timeout=180)
    assert work.returncode == 0, work.stderr
    sha = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=git_project,
                         capture_output=True, text=True, check=True).stdout.split()
    assert " ".join(sha[1:]) == "Parse with B"

    merged = resume_id(session_core(git_project, "merge", branch))
    before = len(fake_api.main_requests())
    fake_api.extend([text("Continuing with B.")])
    done = run_claude(git_project, claude_home, "carry on", "--resume", merged, fake=fake_api,
                      timeout=120)
    assert done.returncode == 0, done.stderr
    sent = asked_after(fake_api, before)
    for needle in ("parser_b.py", "Parse with B", sha[0], branch, ALPHA_PROMPT):
        assert needle in sent, needle
