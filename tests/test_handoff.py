"""The SessionStart handoff: what the next session is told, within budget, and only when useful."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from session_core.handoff.text import after_compaction, fit, previous_session
from session_core.transcript.digest import digest_lines

from .conftest import FIXTURES, REPO

SESSION = "11111111-2222-3333-4444-555555555555"


def _line(kind: str, content: Any, **extra: Any) -> bytes:
    record = {"type": kind, "sessionId": SESSION, "uuid": os.urandom(8).hex(),
              "timestamp": "2026-11-20T10:00:00.000Z", "gitBranch": "feature/x",
              "cwd": "/work/app", "message": {"role": kind, "content": content}, **extra}
    return json.dumps(record).encode()


def _tool(name: str, tool_input: dict[str, Any], use_id: str) -> bytes:
    return _line("assistant", [{"type": "tool_use", "id": use_id, "name": name,
                                "input": tool_input}])


def _result(use_id: str, result: Any = None, error: str | None = None) -> bytes:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id,
                             "content": error or "ok"}
    if error:
        block["is_error"] = True
    return _line("user", [block], toolUseResult=result)


def session_lines() -> list[bytes]:
    return [
        _line("user", "Add retry logic to fetch_user"),
        _tool("Write", {"file_path": "/work/app/retry.py", "content": "x"}, "t1"),
        _result("t1"),
        _tool("Edit", {"file_path": "/work/app/api.py", "old_string": "a", "new_string": "b"},
              "t2"),
        _result("t2", error="String to replace not found"),
        _tool("TaskCreate", {"subject": "Write tests for retry", "description": "d"}, "t3"),
        _result("t3", {"task": {"id": "1", "subject": "Write tests for retry"}}),
        _tool("TaskCreate", {"subject": "Document backoff", "description": "d"}, "t4"),
        _result("t4", {"task": {"id": "2", "subject": "Document backoff"}}),
        _tool("TaskUpdate", {"taskId": "2", "status": "completed"}, "t5"),
        _result("t5", {"success": True}),
        _tool("Bash", {"command": "pytest -q"}, "t6"),
        _result("t6"),
        _line("user", "now make it configurable"),
        _line("assistant", [{"type": "text", "text": "Retry is in place; tests are next."}]),
    ]


def test_digest_reads_what_the_session_did() -> None:
    digest = digest_lines(SESSION, session_lines())
    assert digest.first_prompt == "Add retry logic to fetch_user"
    assert digest.last_prompt == "now make it configurable" and digest.prompts == 2
    assert digest.changed_files == ["/work/app/retry.py"]  # the edit of api.py failed
    assert [t.subject for t in digest.pending_tasks()] == ["Write tests for retry"]
    assert list(digest.commands) == ["pytest -q"]
    errors = list(digest.open_errors.values())
    assert errors == ["Edit /work/app/api.py: String to replace not found"]
    assert digest.last_reply == "Retry is in place; tests are next."
    assert digest.git_branch == "feature/x"


def test_todowrite_latest_state_wins() -> None:
    lines = [_tool("TodoWrite", {"todos": [{"content": "A", "status": "pending"},
                                          {"content": "B", "status": "pending"}]}, "t1"),
             _tool("TodoWrite", {"todos": [{"content": "A", "status": "completed"},
                                          {"content": "B", "status": "in_progress"}]}, "t2")]
    digest = digest_lines(SESSION, lines)
    assert [(t.subject, t.status) for t in digest.pending_tasks()] == [("B", "in_progress")]


def test_handoff_names_what_matters_first_and_keeps_the_budget() -> None:
    digest = digest_lines(SESSION, session_lines())
    text = previous_session(digest, None, 4000)
    for needle in (SESSION, "retry.py", "api.py", "Write tests for retry",
                   "Add retry logic to fetch_user", "feature/x", "claude --resume"):
        assert needle in text
    assert "Document backoff" not in text  # completed tasks are not pending
    small = previous_session(digest, None, 400)
    assert len(small) <= 400 and SESSION in small and "Write tests for retry" in small


@settings(max_examples=200)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=0.5),
                          st.lists(st.text(max_size=300), max_size=6)), max_size=6)
       .filter(lambda sections: sum(share for share, _ in sections) <= 1.0),
       st.integers(min_value=0, max_value=9000))
def test_fit_never_exceeds_the_budget(sections: list[tuple[float, list[str]]],
                                      budget: int) -> None:
    assert len(fit(sections, budget)) <= budget


_VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers()))
_TOOL_LINES = st.builds(
    lambda name, value: _tool(name, {"file_path": value, "command": value, "todos": value,
                                     "taskId": value}, "x"),
    st.sampled_from(["Write", "Edit", "Bash", "TodoWrite", "TaskUpdate", "TaskList"]), _VALUES)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=80), _TOOL_LINES), max_size=20))
def test_digest_survives_any_lines(lines: list[bytes]) -> None:
    digest = digest_lines(SESSION, lines)
    assert len(previous_session(digest, None, 2000)) <= 2000
    assert len(after_compaction(digest, 2000)) <= 2000


def test_compact_handoff_keeps_tasks_files_and_decisions() -> None:
    text = after_compaction(digest_lines(SESSION, session_lines()), 4000)
    assert "Write tests for retry" in text and "retry.py" in text
    assert "Retry is in place" in text


def _hook(script: str, event: str, payload: dict[str, Any], project: Path) -> bytes:
    result = subprocess.run(
        [sys.executable, str(REPO / "hooks" / script), event], input=json.dumps(payload).encode(),
        capture_output=True, timeout=30, check=False,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    assert result.returncode == 0
    return result.stdout


def test_empty_history_means_no_output(project: Path) -> None:
    out = _hook("run.py", "SessionStart",
                {"session_id": "new", "source": "startup", "hook_event_name": "SessionStart"},
                project)
    assert out == b""


def test_startup_after_a_saved_session_hands_it_over_and_resume_is_one_line(
        project: Path, tmp_path: Path) -> None:
    transcripts = tmp_path / "cc"
    transcripts.mkdir()
    old = transcripts / f"{SESSION}.jsonl"
    old.write_bytes(b"\n".join(session_lines()) + b"\n")
    _hook("run.py", "Stop", {"session_id": SESSION, "transcript_path": str(old),
                                       "last_assistant_message": "x"}, project)
    out = _hook("run.py", "SessionStart",
                {"session_id": "new", "source": "clear",
                 "transcript_path": str(transcripts / "new.jsonl")}, project)
    context = json.loads(out)["hookSpecificOutput"]
    assert context["hookEventName"] == "SessionStart"
    assert SESSION in context["additionalContext"] and "retry.py" in context["additionalContext"]
    assert len(context["additionalContext"]) <= 4000
    resumed = _hook("run.py", "SessionStart",
                    {"session_id": SESSION, "source": "resume", "transcript_path": str(old)},
                    project)
    note = json.loads(resumed)["hookSpecificOutput"]["additionalContext"]
    assert "\n" not in note and SESSION in note


def test_handoff_budget_comes_from_settings(project: Path, tmp_path: Path) -> None:
    (project / ".claude").mkdir()
    (project / ".claude" / "session-core.json").write_text('{"handoff_chars": 300}')
    name = "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
    old = tmp_path / name
    old.write_bytes(FIXTURES.joinpath(name).read_bytes())
    _hook("run.py", "Stop", {"session_id": "6b32797c-28fc-4a1f-b9c8-863fe6c99815",
                                       "transcript_path": str(old)}, project)
    out = _hook("run.py", "SessionStart", {"session_id": "n", "source": "startup"},
                project)
    assert 0 < len(json.loads(out)["hookSpecificOutput"]["additionalContext"]) <= 300


def test_a_reply_the_transcript_does_not_hold_yet_still_counts_as_saved(
        project: Path, tmp_path: Path) -> None:
    """Stop often fires before Claude Code writes the reply: the status line must not say 0."""
    lagging = tmp_path / f"{SESSION}.jsonl"
    lagging.write_bytes(b"")
    for event, field, text in (("UserPromptSubmit", "prompt", "hello"),
                               ("Stop", "last_assistant_message", "Hi there.")):
        _hook("run.py", event, {"session_id": SESSION, "transcript_path": str(lagging),
                              field: text}, project)
    state = json.loads((project / ".claude" / "session-core" / "live" / f"{SESSION}.json")
                       .read_text())
    assert state["saved"] == 2


def test_a_background_task_notice_is_not_a_request() -> None:
    lines = [*session_lines(),
             _line("user", "<task-notification> <task-id>b1</task-id> done</task-notification>")]
    digest = digest_lines(SESSION, lines)
    assert digest.last_prompt == "now make it configurable" and digest.prompts == 2


def test_a_session_that_may_still_be_open_is_not_offered_for_resume(
        project: Path, tmp_path: Path) -> None:
    transcript = tmp_path / f"{SESSION}.jsonl"
    transcript.write_bytes(b"\n".join(session_lines()) + b"\n")
    payload = {"session_id": SESSION, "transcript_path": str(transcript)}
    _hook("run.py", "Stop", payload, project)  # saved just now, not ended
    start = {"session_id": "new", "source": "startup"}
    text = json.loads(_hook("run.py", "SessionStart", start, project))
    context = text["hookSpecificOutput"]["additionalContext"]
    assert SESSION in context and "may still be open" in context
    assert "claude --resume" not in context
    _hook("run.py", "SessionEnd", {**payload, "reason": "prompt_input_exit"}, project)
    text = json.loads(_hook("run.py", "SessionStart", start, project))
    assert f"claude --resume {SESSION}" in text["hookSpecificOutput"]["additionalContext"]


def test_the_compact_note_adds_only_what_claude_codes_summary_lacks(
        project: Path, tmp_path: Path) -> None:
    """SessionStart ``compact`` fires before PostCompact: the summary it reads is the one the
    transcript holds, and it repeats nothing that summary already says."""
    summary = ("This session is being continued from a previous conversation. The user asked"
               " for retry logic; retry.py was written. Pending: Write tests for retry.")
    lines = [*session_lines(),
             _tool("Bash", {"command": "git commit -am 'Add retry'"}, "t9"),
             _result("t9", error=None),
             _line("system", None, subtype="compact_boundary"),
             _line("user", summary, isCompactSummary=True)]
    lines[-3] = json.dumps({**json.loads(lines[-3]), "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t9",
         "content": "[main 9f8e7d6] Add retry\n 1 file changed"}]}}).encode()
    transcript = tmp_path / f"{SESSION}.jsonl"
    transcript.write_bytes(b"\n".join(lines) + b"\n")
    payload = {"session_id": SESSION, "transcript_path": str(transcript)}
    _hook("run.py", "PreCompact", payload, project)
    out = _hook("run.py", "SessionStart", {**payload, "source": "compact"}, project)
    note = json.loads(out)["hookSpecificOutput"]["additionalContext"]
    assert "9f8e7d6" in note and "Add retry" in note  # the summary lacks the commit
    assert "Write tests for retry" not in note  # the summary has the pending task
    assert "String to replace not found" in note  # and not the failed edit


def test_a_session_whose_only_edit_was_its_subagents_is_handed_over(
        project: Path, tmp_path: Path) -> None:
    """Work delegated to a subagent is work: the session before it, which edited a file
    itself, must not be handed over in its place."""
    import time

    from .conftest import run_cli
    from .session_builder import Transcript

    earlier_id, work_id = ("e1111111-2222-4333-8444-555555555555",
                           "a1111111-2222-4333-8444-555555555555")
    agent = "a1b2c3d"
    now = int(time.time())
    earlier, work, sub = Transcript(earlier_id), Transcript(work_id), Transcript(work_id, agent)
    earlier.clock, work.clock, sub.clock = now - 9000, now - 7200, now - 7100
    earlier.prompt("Write the readme")
    earlier.call("Write", {"file_path": "/work/app/README.md", "content": "# app"},
                 "File created successfully at: /work/app/README.md")
    work.prompt("Fix the helper, through an agent")
    sub.prompt("Edit helpers.py so add() adds")
    sub.call("Edit", {"file_path": "/work/app/helpers.py", "old_string": "a - b",
                      "new_string": "a + b"},
             "The file /work/app/helpers.py has been updated successfully.")
    work.call("Agent", {"description": "fix the helper", "prompt": "Edit helpers.py so add()"
                        " adds"}, "Fixed.", tool_use_result={"status": "completed",
                                                              "agentId": agent})
    work.say("The helper adds now.")
    folder = tmp_path / "transcripts"
    paths = [earlier.write(folder / f"{earlier_id}.jsonl"),
             work.write(folder / f"{work_id}.jsonl"),
             sub.write(folder / work_id / "subagents" / f"agent-{agent}.jsonl")]
    assert run_cli("import", *map(str, paths), "--project", str(project)).returncode == 0
    done = run_cli("handoff", "--project", str(project))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert f"claude --resume {work_id}" in text and "helpers.py" in text, text
    assert f"{earlier_id} (" in text and "1 changed file(s) and no commit" in text, text
