"""Recall at the point of action, through real hook processes: before the first edit of a file
in a session, which earlier session changed it and why; after a failed command, what fixed the
same error before. Once per session, nothing when the archive knows nothing, off by setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, run_cli

EARLIER = "33333333-4444-4555-8666-777777777777"
LATER = "44444444-5555-4666-8777-888888888888"


def _hook(event: str, payload: dict[str, Any], project: Path) -> str | None:
    """The additionalContext the hook printed, or None when it printed nothing."""
    recall = event in ("PreToolUse", "PostToolUseFailure")  # as the template starts them
    argv = [sys.executable, "-S", str(REPO / "hooks" / "recall.py")] if recall else [
        sys.executable, str(REPO / "hooks" / "run.py")]
    done = subprocess.run([*argv, event],
                          input=json.dumps(payload).encode(), capture_output=True, timeout=30,
                          check=False, env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    assert done.returncode == 0 and not done.stderr, done.stderr
    if not done.stdout:
        return None
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == event
    return str(output["additionalContext"])


def _line(kind: str, content: Any, project: Path, **extra: Any) -> str:
    return json.dumps({"type": kind, "sessionId": EARLIER, "uuid": os.urandom(8).hex(),
                       "timestamp": "2026-11-30T09:00:00.000Z", "cwd": str(project),
                       "message": {"role": kind, "content": content}, **extra})


def _earlier_session(project: Path, tmp_path: Path) -> None:
    """Session 1: edits app.py (saying why), hits a missing module, installs it, runs again."""
    app = str(project / "app.py")
    calls = [
        ("e1", "Edit", {"file_path": app, "old_string": "a", "new_string": "b"},
         "The file has been updated.", False),
        ("b1", "Bash", {"command": "python3 tool.py"},
         "Traceback (most recent call last):\n  File \"tool.py\", line 1\n"
         "ModuleNotFoundError: No module named 'yaml'", True),
        ("b2", "Bash", {"command": "pip install pyyaml"}, "Successfully installed", False),
        ("b3", "Bash", {"command": "python3 tool.py"}, "ok", False),
    ]
    lines = [_line("user", "make the retry limit configurable", project),
             _line("assistant", [{"type": "text", "text": "I will read the limit from the"
                                  " environment in app.py."}], project)]
    for use_id, name, tool_input, output, failed in calls:
        lines.append(_line("assistant", [{"type": "tool_use", "id": use_id, "name": name,
                                          "input": tool_input}], project))
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id,
                                  "content": output}
        if failed:
            result["is_error"] = True
        lines.append(_line("user", [result], project))
    transcript = tmp_path / f"{EARLIER}.jsonl"
    transcript.write_text("\n".join(lines) + "\n")
    assert _hook("Stop", {"session_id": EARLIER, "transcript_path": str(transcript)},
                 project) is None


def _edit(project: Path, name: str, session: str = LATER) -> dict[str, Any]:
    return {"session_id": session, "cwd": str(project), "hook_event_name": "PreToolUse",
            "tool_name": "Edit", "tool_input": {"file_path": str(project / name),
                                                "old_string": "x", "new_string": "y"}}


def test_before_the_first_edit_of_a_file_it_says_which_session_changed_it(
        project: Path, tmp_path: Path) -> None:
    _earlier_session(project, tmp_path)
    note = _hook("PreToolUse", _edit(project, "app.py"), project)
    assert note is not None and len(note) <= 600
    assert EARLIER in note and "app.py" in note and str(project) not in note
    assert "make the retry limit configurable" in note
    assert "read the limit from the environment" in note
    assert _hook("PreToolUse", _edit(project, "app.py"), project) is None  # once a session
    assert _hook("PreToolUse", _edit(project, "other.py"), project) is None  # never changed
    assert _hook("PreToolUse", _edit(project, "app.py", EARLIER), project) is None  # its own


def test_after_a_failed_command_it_says_what_fixed_that_error_before(
        project: Path, tmp_path: Path) -> None:
    _earlier_session(project, tmp_path)
    failure = {"session_id": LATER, "cwd": str(project), "hook_event_name": "PostToolUseFailure",
               "tool_name": "Bash", "tool_input": {"command": "python3 other_tool.py --all"},
               "error": "Exit code 1\nTraceback (most recent call last):\n  File"
                        " \"/elsewhere/other_tool.py\", line 3\n"
                        "ModuleNotFoundError: No module named 'yaml'"}
    note = _hook("PostToolUseFailure", failure, project)
    assert note is not None and EARLIER in note
    assert "No module named 'yaml'" in note and "python3 tool.py" in note
    assert "pip install pyyaml" in note  # what changed between the failure and the success
    other = {**failure, "error": "fatal: not a git repository"}
    assert _hook("PostToolUseFailure", other, project) is None


@pytest.mark.parametrize("event", ["PreToolUse", "PostToolUseFailure"])
def test_recall_can_be_turned_off_and_needs_no_archive(project: Path, tmp_path: Path,
                                                       event: str) -> None:
    payload = _edit(project, "app.py") if event == "PreToolUse" else {
        "session_id": LATER, "tool_name": "Bash", "error": "No module named 'yaml'"}
    assert _hook(event, payload, project) is None  # no archive yet: nothing, no error
    assert not (project / ".claude" / "session-core" / "archive.db").exists()
    _earlier_session(project, tmp_path)
    (project / ".claude" / "session-core.json").write_text('{"recall": false}')
    assert _hook(event, payload, project) is None


def test_blame_lists_the_sessions_that_changed_a_file(project: Path, tmp_path: Path) -> None:
    _earlier_session(project, tmp_path)
    done = run_cli("blame", "app.py", "--project", str(project))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.startswith("app.py (1 session)") and EARLIER in text
    assert "asked: make the retry limit configurable" in text
    as_json = run_cli("blame", str(project / "app.py"), "--json", "--project", str(project))
    [row] = json.loads(as_json.stdout)
    assert row["file"] == "app.py" and row["sessions"][0]["session"] == EARLIER
    assert row["sessions"][0]["said"].startswith("I will read the limit")
    missing = run_cli("blame", "nowhere.py", "--project", str(project))
    assert missing.returncode == 3 and b"no session of this project changed" in missing.stderr


def test_a_subagents_change_of_a_file_never_hides_the_sessions_own(project: Path,
                                                                    tmp_path: Path) -> None:
    """One row per transcript: the session's three edits and its subagent's one add up."""
    _earlier_session(project, tmp_path)
    agents = tmp_path / EARLIER / "subagents"
    agents.mkdir(parents=True)
    agent = agents / "agent-a1.jsonl"
    edit = {"type": "tool_use", "id": "s1", "name": "Edit",
            "input": {"file_path": str(project / "app.py"), "old_string": "b",
                      "new_string": "c"}}
    agent.write_text("\n".join([
        _line("assistant", [edit], project, isSidechain=True, agentId="a1",
              timestamp="2026-11-30T08:00:00.000Z"),
        _line("user", [{"type": "tool_result", "tool_use_id": "s1", "content": "ok"}], project,
              isSidechain=True, agentId="a1", timestamp="2026-11-30T08:00:01.000Z")]) + "\n")
    assert _hook("SubagentStop", {"session_id": EARLIER, "agent_transcript_path": str(agent),
                                  "transcript_path": str(tmp_path / f"{EARLIER}.jsonl")},
                 project) is None
    [row] = json.loads(run_cli("blame", "app.py", "--json", "--project", str(project)).stdout)
    [change] = row["sessions"]
    assert change["edits"] == 2 and change["action"] == "edited"  # the newest: the session's


def test_a_change_whose_session_is_gone_is_passed_over(tmp_path: Path) -> None:
    """A row of file_changes whose session was forgotten meanwhile (or is an orphan) takes no
    place among the sessions a note names, and never a row of nothing."""
    from session_core.handoff.recall import before_edit
    from session_core.store import recall, sessions
    from session_core.store.connection import Database
    from session_core.store.migrations import migrate

    db = Database(tmp_path / "archive.db")
    migrate(db)
    with db.write() as conn:
        real = sessions.ensure(conn, "11111111-2222-4333-8444-555555555555")
        conn.execute("INSERT INTO files(id, path, session_id, kind, project_folder, rel_path)"
                     " VALUES (1, '/t.jsonl', ?, 'session', 'p', 't.jsonl')", (real,))
        for session_id, at in ((real, "2026-11-01T00:00:00.000Z"),
                               (999, "2026-11-02T00:00:00.000Z")):  # 999: no such session
            conn.execute("INSERT INTO file_changes(path, session_id, file_id, at, action, edits)"
                         " VALUES ('/src/a.py', ?, 1, ?, 'edited', 1)", (session_id, at))
    changes = recall.changes_of(db.conn, "/src/a.py", limit=1)
    assert [c.session_uuid for c in changes] == ["11111111-2222-4333-8444-555555555555"]
    assert "session 11111111" in before_edit(db.conn, "/src/a.py", None, None)
