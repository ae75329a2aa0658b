"""``show`` of a long session read from the conversation model: every message, results folded,
errors marked, subagent runs indented under the Task call that started them (unlinked ones at
the end), and the model's links between a subagent file and its call, read from real
transcripts and from each way Claude Code records them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from session_core.transcript.conversation import TOOL, read_conversation

from .conftest import SHARED, run_cli
from .session_builder import LongSession, Transcript


@pytest.fixture(scope="module")
def long_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LongSession]:
    built = LongSession()
    folder = tmp_path_factory.mktemp("transcripts")
    paths = built.write(folder)
    assert len(paths[0].read_text().splitlines()) >= 1500
    project = tmp_path_factory.mktemp("show project")
    done = run_cli("import", *map(str, paths), "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project, built


def show(project: Path, *args: str) -> str:
    done = run_cli("show", LongSession.SESSION[:8], *args, "--project", str(project))
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_show_prints_every_message_of_a_long_session_in_order(
        long_session: tuple[Path, LongSession]) -> None:
    project, built = long_session
    text = show(project)
    assert "not shown" not in text
    at = -1
    for turn in range(1, built.turns + 1):  # every prompt, its replies and calls, in order
        for said in (f"    Prompt number {turn}: please do step {turn}",
                     f"    Reply {turn}a: starting step {turn}.",
                     f"  tool Bash: run-step {turn} 1", f"  tool Bash: run-step {turn} 3",
                     f"    Reply {turn}b: step {turn} done."):
            found = text.find(said, at + 1)
            assert found > at, (turn, said)
            at = found


def test_show_folds_each_result_to_three_lines_and_marks_errors(
        long_session: tuple[Path, LongSession]) -> None:
    project, built = long_session
    text = show(project)
    assert text.count("\n  ✗ error\n") == built.errors
    assert text.count("\n  →\n") == built.calls - built.errors + 1  # + the Task's result
    assert text.count("… 3 more line(s)") == built.calls  # six lines each: three shown
    assert "turn 7 call 2 output line 3" in text and "turn 7 call 2 output line 4" not in text


def test_a_subagent_run_is_nested_under_the_call_that_started_it(
        long_session: tuple[Path, LongSession]) -> None:
    project, built = long_session
    lines = show(project).splitlines()
    call = next(i for i, line in enumerate(lines) if "tool Task: Find the flaky test" in line)
    assert lines[call + 1] == "    ┌ subagent a1b2c3d: 4 message(s)"
    end = lines.index("    └ end of subagent a1b2c3d")
    inside = lines[call + 2:end]
    assert inside and all(line.startswith("    │ ") for line in inside)
    said = "\n".join(inside)
    assert "Investigate the flaky test" in said
    assert "tool Read: /work/app/tests/test_sync.py" in said
    assert "… 5 more line(s)" in said and "races the writer." in said
    assert lines[end + 1:end + 3] == ["  →", "      Task report: the test races the writer."]
    text = "\n".join(lines)
    assert text.count("Investigate the flaky test") == 1  # once, inside the run
    assert lines[end + 3].endswith("  assistant")  # the conversation goes on after it
    assert lines[end + 4] == f"    Reply {built.task_turn}b: step {built.task_turn} done."


def test_a_run_no_call_started_comes_last_and_says_so(
        long_session: tuple[Path, LongSession]) -> None:
    project, built = long_session
    lines = show(project).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┌ subagent f00dfee"))
    assert "no tool call of this session started it" in lines[start]
    assert f"Reply {built.turns}b" in lines[start - 1]
    assert lines[-1] == "└ end of subagent f00dfee" and "      Warmup" in lines[start + 1:]


def test_limit_and_tail_count_messages_with_their_runs(
        long_session: tuple[Path, LongSession]) -> None:
    project, _ = long_session
    first = show(project, "--limit", "4")
    assert "Prompt number 1:" in first and "run-step 1 2" in first and "run-step 1 3" not in first
    assert first.rstrip().endswith("more message(s) not shown: --limit)")
    tail = show(project, "--tail", "2")
    assert "earlier message(s) not shown: --tail" in tail
    assert "Reply 125b" in tail and "subagent f00dfee" in tail and "Reply 125a" not in tail


def test_show_nests_the_real_subagent_under_its_task_call(tmp_path: Path) -> None:
    spotter = SHARED / "marot-spotter"
    session = "8463c716-a2ea-4c14-9efa-87158ebd9f20"
    files = [spotter / f"{session}.jsonl", *sorted((spotter / session).rglob("*.jsonl"))]
    assert run_cli("import", *map(str, files), "--project", str(tmp_path)).returncode == 0
    lines = run_cli("show", session, "--project", str(tmp_path)).stdout.decode().splitlines()
    call = next(i for i, line in enumerate(lines)
                if "tool Task: Explore Tmux module and test setup" in line)
    assert lines[call + 1] == "    ┌ subagent a7be2f0: 33 message(s)"
    assert lines[call + 2].startswith("    │ ") and "user" in lines[call + 2]
    assert any(line.startswith("┌ compaction helper acompact-f46190") for line in lines[call:])


def _lines(transcript: Transcript) -> list[bytes]:
    return transcript.text().encode().splitlines()


def _task_session(result_names_agent: bool, progress: bool,
                  same_prompt: bool = True) -> tuple[Transcript, Transcript]:
    main, sub = Transcript("5e55aaaa-0000-4000-8000-000000000001"), \
        Transcript("5e55aaaa-0000-4000-8000-000000000001", "abc1234")
    main.prompt("go")
    sub.prompt("Look at the database schema" if same_prompt else "(a prompt worded otherwise)")
    sub.say("schema found")
    call_id = "toolu_task_1"
    main.assistant({"type": "tool_use", "id": call_id, "name": "Agent",
                    "input": {"description": "schema", "prompt": "Look at the database schema"}})
    if progress:
        main.progress(call_id, "abc1234", "Look at the database schema")
    main.record("user", message={"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call_id, "content": "schema found"}]},
        toolUseResult={"status": "completed", **({"agentId": "abc1234"}
                                                 if result_names_agent else {})})
    return main, sub


@pytest.mark.parametrize(("names", "progress", "same_prompt"),
                         [(True, False, False), (False, True, False), (False, False, True)])
def test_a_run_is_tied_to_its_call_by_result_by_progress_or_by_its_prompt(
        names: bool, progress: bool, same_prompt: bool) -> None:
    main, sub = _task_session(names, progress, same_prompt)
    read = read_conversation(_lines(main), [("s/subagents/agent-abc1234.jsonl", _lines(sub))])
    [call] = [m.call for m in read.messages if m.kind == TOOL and m.call is not None]
    assert [run.agent_id for run in call.runs] == ["abc1234"] and read.unlinked == []
    assert call.result is not None and call.result.text == "schema found"
    assert [m.text for m in call.runs[0].messages][1:] == ["schema found"]


def test_a_run_whose_prompt_no_call_gave_stays_unlinked() -> None:
    main, sub = _task_session(False, False)
    sub.lines[0]["message"]["content"] = "something else entirely"
    read = read_conversation(_lines(main), [("agent-abc1234.jsonl", _lines(sub))])
    assert [run.agent_id for run in read.unlinked] == ["abc1234"]
    assert all(not m.call.runs for m in read.messages if m.call is not None)


def test_a_run_naming_a_call_inside_itself_is_not_a_loop() -> None:
    sub = Transcript("5e55aaaa-0000-4000-8000-000000000001", "abc1234")
    sub.prompt("loop")
    call_id = sub.call("Task", {"prompt": "loop"}, "x", tool_use_result={"agentId": "abc1234"})
    read = read_conversation([], [("agent-abc1234.jsonl", _lines(sub))])
    assert [run.agent_id for run in read.unlinked] == ["abc1234"]
    assert call_id and sum(1 for _ in read.walk()) == 2


def test_resumed_history_and_torn_lines_are_read_once() -> None:
    main = Transcript("5e55aaaa-0000-4000-8000-000000000001")
    main.prompt("only once")
    main.say("answer")
    lines = _lines(main)
    read = read_conversation([*lines, *lines, b'{"type": "user", "mess'])
    assert [m.text for m in read.messages] == ["only once", "answer"]
    assert json.loads(lines[0])["uuid"] == read.messages[0].uuid


def test_a_text_cut_inside_an_emoji_is_still_read() -> None:
    """Claude Code may cut a string between the halves of a surrogate pair and write the lone
    half as an escape: that message is shown, with U+FFFD for the half."""
    main = Transcript("5e55aaaa-0000-4000-8000-000000000001")
    main.prompt("cut here \ud83d")
    main.say("and answered")
    lines = _lines(main)
    assert b"\\ud83d" in lines[0]
    read = read_conversation(lines)
    assert [m.text for m in read.messages] == ["cut here \ufffd", "and answered"]
