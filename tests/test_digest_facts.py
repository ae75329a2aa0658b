"""What the digest keeps of a session, as a next session needs it: only edits that held, the
user's real requests, commits and whether they were pushed, the last test run, errors never
fixed and errors fixed with their fix."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from session_core.handoff.branch_note import merged_branch
from session_core.handoff.text import EndState, previous_session
from session_core.transcript import outcomes
from session_core.transcript.digest import digest_lines

SESSION = "22222222-3333-4444-5555-666666666666"
_clock = iter(range(10_000))


def _record(kind: str, content: Any = None, **extra: Any) -> bytes:
    record = {"type": kind, "sessionId": SESSION, "uuid": os.urandom(8).hex(),
              "timestamp": f"2026-11-20T10:{next(_clock) // 60 % 60:02d}:"
                           f"{next(_clock) % 60:02d}.000Z",
              "cwd": "/work/app", "gitBranch": "main", **extra}
    if content is not None:
        record["message"] = {"role": kind, "content": content}
    return json.dumps(record).encode()


def prompt(text: str) -> bytes:
    return _record("user", text)


def queued(operation: str, text: str | None = None) -> bytes:
    record = json.loads(_record("queue-operation", operation=operation))
    if text is not None:
        record["content"] = text
    return json.dumps(record).encode()


def reply(text: str) -> bytes:
    return _record("assistant", [{"type": "text", "text": text}])


def call(name: str, use_id: str, **tool_input: Any) -> bytes:
    return _record("assistant", [{"type": "tool_use", "id": use_id, "name": name,
                                  "input": tool_input}])


def result(use_id: str, output: str, error: bool = False, sidechain: bool = False) -> bytes:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id, "content": output}
    if error:
        block["is_error"] = True
    return _record("user", [block], isSidechain=sidechain)


def bash(use_id: str, command: str, output: str, error: bool = False) -> list[bytes]:
    return [call("Bash", use_id, command=command), result(use_id, output, error)]


def test_only_edits_that_held_count_and_bash_moves_and_deletes_too() -> None:
    digest = digest_lines(SESSION, [
        prompt("tidy up"),
        call("Edit", "e1", file_path="/work/app/a.py"), result("e1", "String not found", True),
        call("Write", "w1", file_path="/work/app/b.py"),
        result("w1", "File created successfully at: /work/app/b.py"),
        *bash("b1", "git mv old.py new.py && rm -f junk.txt", ""),
        *bash("b2", "mix phx.gen.html Blog Post posts", "* creating lib/app/blog/post.ex\n"),
    ])
    assert dict(digest.files) == {
        "/work/app/b.py": "created", "/work/app/old.py": "moved to /work/app/new.py",
        "/work/app/new.py": "created", "/work/app/junk.txt": "deleted",
        "/work/app/lib/app/blog/post.ex": "created"}
    assert "/work/app/a.py" not in digest.files


def test_interrupts_and_task_notifications_are_not_requests() -> None:
    digest = digest_lines(SESSION, [
        prompt("fix the login page"), reply("Working on it."),
        prompt("why does the build fail on CI?"),
        _record("user", [{"type": "text", "text": "[Request interrupted by user]"}]),
        _record("user", "<task-notification><task-id>b1</task-id><status>completed</status>"
                        "</task-notification>"),
        reply("The background task finished; nothing to do."),
    ])
    assert digest.prompts == 2 and digest.last_prompt == "why does the build fail on CI?"
    assert digest.interrupted
    assert digest.last_reply == "Working on it."  # not the answer to the notification
    text = previous_session(digest, None, 4000)
    assert "why does the build fail on CI?" in text and "interrupted" in text
    assert "nothing to do" not in text


def test_queued_messages_and_answers_are_the_users_words() -> None:
    digest = digest_lines(SESSION, [
        prompt("add a CLI"),
        queued("enqueue", "also add --verbose"), queued("enqueue", "carry on"),
        queued("dequeue"),
        prompt("carry on"),
        call("AskUserQuestion", "q1", questions=[]),
        result("q1", 'User has answered your questions: "Which parser?"="argparse". You can'
                     " now continue with the user's answers in mind."),
    ])
    assert list(digest.queued) == ["also add --verbose"]  # "carry on" became a prompt
    assert list(digest.answers) == ['"Which parser?"="argparse"']
    assert digest.prompts == 2


def test_commits_push_and_tests_are_read_from_their_output() -> None:
    digest = digest_lines(SESSION, [
        prompt("ship it"),
        *bash("c1", "git commit -am 'Add retry'", "[main 1a2b3c4] Add retry\n 1 file changed"),
        *bash("t1", "pytest -q", "....\n===== 4 passed, 1 failed in 0.31s =====\n"),
        *bash("c2", "git commit -am 'Fix flake'", "[main 5d6e7f8] Fix flake\n"),
    ])
    assert [commit[:2] for commit in digest.commits] == [("1a2b3c4", "Add retry"),
                                                         ("5d6e7f8", "Fix flake")]
    assert digest.last_test == ("pytest -q", "4 passed, 1 failed in 0.31s")
    assert not digest.push_seen
    text = previous_session(digest, None, 4000)
    assert "Not pushed" in text and "1a2b3c4" in text and "4 passed, 1 failed" in text
    pushed = digest_lines(SESSION, [
        prompt("ship it"),
        *bash("c1", "git commit -m x", "[main 1a2b3c4] x\n"),
        *bash("p1", "git push", "To github.com:me/app.git\n   0f0f0f0..1a2b3c4  main -> main\n"),
    ])
    assert pushed.unpushed == 0 and "Pushed" in previous_session(pushed, None, 4000)


def test_an_error_fixed_later_is_a_gotcha_and_one_never_fixed_stays_open() -> None:
    digest = digest_lines(SESSION, [
        prompt("run it"),
        *bash("r1", "python3 tool.py", "Traceback (most recent call last):\n  File \"tool.py\"\n"
                                       "ModuleNotFoundError: No module named 'yaml'", True),
        *bash("i1", "pip install pyyaml", "Successfully installed pyyaml"),
        *bash("r2", "python3 tool.py --fast", "done"),
        *bash("m1", "make deploy", "make: *** [deploy] Error 2\nmissing credentials", True),
        *bash("g1", "grep -r TODO src", "", True),  # a look that found nothing: no error
    ])
    assert list(digest.gotchas) == [("`python3`: ModuleNotFoundError: No module named 'yaml'",
                                     "after `pip install pyyaml`, `python3 tool.py --fast`"
                                     " succeeded")]
    assert list(digest.open_errors.values()) == ["`make deploy`: make: *** [deploy] Error 2"]


def test_a_subagents_edits_are_folded_from_its_own_transcript() -> None:
    lines = [call("Edit", "s1", file_path="/work/app/b.py"),
             result("s1", "The file has been updated.", sidechain=True)]
    sub = digest_lines(SESSION, [line.replace(b'"gitBranch"', b'"isSidechain": true, "gitBranch"')
                                 for line in lines[:1]] + lines[1:], sidechain=True)
    assert list(sub.files) == ["/work/app/b.py"]
    assert digest_lines(SESSION, lines).files == {}  # the main file's fold ignores sidechains
    main = digest_lines(SESSION, [prompt("edit a and b"), *bash("x", "touch a.py", "")])
    text = previous_session(main, None, 4000, project="/work/app", subagents=[sub])
    assert "b.py (edited by a subagent)" in text and "a.py (created)" in text


def test_a_long_file_list_never_pushes_out_the_ending() -> None:
    many = [line for n in range(300) for line in (
        call("Write", f"w{n}", file_path=f"/work/app/pkg{n % 9}/module_{n}.py"),
        result(f"w{n}", "File created successfully"))]
    digest = digest_lines(SESSION, [prompt("generate the modules"), *many,
                                    *bash("c", "git commit -m gen", "[main abcdef1] gen\n"),
                                    reply("All 300 modules are written; the tests come next.")])
    text = previous_session(digest, None, 4000, project="/work/app")
    assert len(text) <= 4000
    assert "the tests come next" in text and "abcdef1" in text and "Not pushed" in text
    assert "by folder" in text


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_shell_parsing_takes_any_text(command: str) -> None:
    outcomes.split_commands(command)
    outcomes.command_key(command)
    outcomes.changes_state(command)
    outcomes.file_changes(command, command)
    outcomes.cause_line(command)
    outcomes.test_summary(command)
    outcomes.ahead_of_upstream(command)


@given(st.from_regex(r"[0-9a-f]{7,12}", fullmatch=True),
       st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
               max_size=60).map(str.strip).filter(bool))
def test_a_commit_line_gives_back_its_hash_and_subject(sha: str, subject: str) -> None:
    assert outcomes.commits(f"[feature/x {sha}] {subject}\n 2 files changed") == [(sha, subject)]


def test_test_summaries_of_the_common_runners() -> None:
    for output, line in (
            ("==== 3 passed in 0.12s ====", "3 passed in 0.12s"),
            ("Tests:       1 failed, 5 passed, 6 total", "Tests: 1 failed, 5 passed, 6 total"),
            ("test result: ok. 5 passed; 0 failed; 0 ignored",
             "test result: ok. 5 passed; 0 failed; 0 ignored"),
            ("Finished in 0.1 seconds\n14 doctests, 127 tests, 0 failures",
             "14 doctests, 127 tests, 0 failures"),
            ("5 examples, 0 failures", "5 examples, 0 failures"),
            ("ok  \texample.com/pkg\t0.012s", "ok example.com/pkg 0.012s"),
            ("\x1b[32m Tests \x1b[39m 271 passed (271)", "Tests 271 passed (271)")):
        assert outcomes.test_summary(output) == line, output
    assert outcomes.test_summary("compiled 3 files") is None


def test_what_git_status_says_about_the_upstream() -> None:
    assert outcomes.ahead_of_upstream(
        "On branch main\nYour branch is ahead of 'origin/main' by 6 commits.") == (6, "origin/main")
    assert outcomes.ahead_of_upstream("## main...origin/main [ahead 2]") == (2, "origin/main")
    assert outcomes.ahead_of_upstream("Your branch is up to date with 'origin/x'.") == (0,
                                                                                        "origin/x")
    assert outcomes.ahead_of_upstream("nothing to commit") is None


def test_odd_tool_output_never_stops_the_digest() -> None:
    """Found in review: these crashed the fold, and with it every handoff of the session."""
    digest = digest_lines(SESSION, [
        prompt("go"),
        *bash("b1", "sleep 100 &", "Command running in background with ID: ."),
        *bash("b2", "git status", "Your branch is ahead of 'origin/main' by ² commits."),
        reply("still here"),
    ])
    assert digest.last_reply == "still here" and not digest.background


def test_a_failed_run_still_tells_its_tests_and_its_commits() -> None:
    digest = digest_lines(SESSION, [
        prompt("ship"),
        *bash("t1", "pytest -q", "===== 5 passed in 0.2s ====="),
        *bash("t2", "pytest -q", "FAILED test_a.py::test_x\n===== 1 failed, 4 passed in 0.3s"
                                 " =====", error=True),
        *bash("c1", "git commit -am x && git push", "[main 1a2b3c4] x\n 1 file changed\nTo"
              " github.com:me/app.git\n ! [rejected]        main -> main (fetch first)\nerror:"
              " failed to push some refs", error=True),
    ])
    assert digest.last_test == ("pytest -q", "1 failed, 4 passed in 0.3s")
    assert [c[0] for c in digest.commits] == ["1a2b3c4"] and digest.unpushed == 1


def test_push_state_follows_the_order_git_printed_it() -> None:
    status_then_commit = digest_lines(SESSION, [
        prompt("commit"),
        *bash("s1", "git status && git add -A && git commit -m y", "On branch main\nYour"
              " branch is up to date with 'origin/main'.\n[main abcdef1] y\n 1 file changed"),
        *bash("p1", "git push --dry-run", "To github.com:me/app.git\n   0f0f0f0..abcdef1  main"
              " -> main"),
    ])
    assert status_then_commit.unpushed == 1
    assert "Not pushed" in previous_session(status_then_commit, None, 4000)
    assert "outcomes" and outcomes.test_summary("deploy done\nOK", "./deploy.sh && echo OK") \
        is None


def test_only_the_same_step_succeeding_fixes_an_error() -> None:
    digest = digest_lines(SESSION, [
        prompt("use yaml"),
        *bash("y1", "python3 -c 'import yaml'", "ModuleNotFoundError: No module named 'yaml'",
              error=True),
        *bash("y2", "python3 --version", "Python 3.11.7"),
        *bash("r1", "npm publish", "The user doesn't want to proceed with this tool use.",
              error=True),
    ])
    assert not digest.gotchas
    assert list(digest.open_errors) == ["bash python3 import yaml"]  # not the refusal


def test_a_notification_mid_work_does_not_swallow_the_final_answer() -> None:
    digest = digest_lines(SESSION, [
        prompt("run the build and report"),
        _record("user", "<task-notification><task-id>b9</task-id><status>completed</status>"
                        "</task-notification>"),
        reply("The background build finished."),
        call("Read", "r1", file_path="/work/app/log.txt"), result("r1", "ok"),
        reply("The build passed; all 12 targets are green."),
    ])
    assert digest.last_reply == "The build passed; all 12 targets are green."


def test_shell_text_that_is_not_a_command_changes_no_file() -> None:
    changes = outcomes.file_changes("cat > clean.sh <<'EOF'\nrm -rf build\nmv a b\nEOF", "")
    assert changes == []
    assert outcomes.file_changes("mv foo.py src/", "") == [("moved", "foo.py", "src/foo.py")]
    assert outcomes.file_changes("git rm --cached secrets.env", "") == []


def test_project_paths_are_made_relative_only_where_a_path_starts() -> None:
    digest = digest_lines(SESSION, [
        prompt("copy"), *bash("c1", "cp /srv/backup/app/config.py /app/config.py", ""),
        *bash("m1", "make -C /app", "make: *** /opt/app/build/x: No such file", error=True)])
    text = previous_session(digest, None, 4000, project="/app")
    assert "/srv/backup/app/config.py" in text and "/opt/app/build/x" in text
    assert "cp /srv/backup/app/config.py config.py" in text


def test_a_secret_cut_by_a_clip_leaves_no_piece_of_itself() -> None:
    """Clipping came before redaction: a token cut in two was too short for its pattern."""
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1bC2"
    for at in range(640, 720, 7):  # around the first request's 700 characters
        digest = digest_lines(SESSION, [prompt("x " * (at // 2) + token + " and more")])
        text = previous_session(digest, None, 4000)
        assert "ghp_" not in text and token[4:20] not in text, at


def test_a_leading_cd_places_the_files_a_command_changes() -> None:
    assert outcomes.file_changes("cd sub && rm x && mv a b/", "") == [
        ("deleted", "sub/x", None), ("moved", "sub/a", "sub/b/a")]
    assert outcomes.file_changes("cd /tmp && rm y", "") == [("deleted", "/tmp/y", None)]


def test_a_quiet_commit_counts_and_later_output_gives_its_hash() -> None:
    quiet = digest_lines(SESSION, [
        prompt("commit it"),
        *bash("c1", "git add -A && git commit -qm 'Add retry helper with a test'", ""),
        *bash("c2", "git commit --quiet --message='Nothing here'", "nothing to commit",
              error=True),  # failed: no commit
    ])
    assert [c[:2] for c in quiet.commits] == [("", "Add retry helper with a test")]
    text = previous_session(quiet, None, 4000)
    assert "Add retry helper with a test (hash unknown)" in text and "Not pushed" in text
    left = EndState("main", "3f94d7b967aa", None, ended=True)  # HEAD as the hooks last saw it
    assert "Add retry helper with a test (hash unknown; HEAD was 3f94d7b967 when the session" \
           " last ran)" in previous_session(quiet, left, 4000)
    note = merged_branch(quiet, [], 4000, branch_uuid="b", origin=None, checkpoint=None,
                         project=None)
    assert "Commits it made (1):\n- Add retry helper with a test (hash unknown)" in note
    logged = digest_lines(SESSION, [
        prompt("commit it"),
        *bash("c1", "git commit -q -m 'Add retry' && git commit -qam 'Fix flake'", ""),
        *bash("l1", "git log --oneline -3", "5d6e7f8 (HEAD -> main) Fix flake\n1a2b3c4 Add"
              " retry\n0f0f0f0 Start"),
    ])
    assert [c[:2] for c in logged.commits] == [("1a2b3c4", "Add retry"), ("5d6e7f8", "Fix flake")]
    pushed = digest_lines(SESSION, [
        prompt("ship"),
        *bash("c1", "git commit -qm x && git push", "To github.com:me/app.git\n"
              "   0f0f0f0..3f94d7b  main -> main\n"),
    ])
    assert [c[:2] for c in pushed.commits] == [("3f94d7b", "x")] and pushed.unpushed == 0
    rejected = digest_lines(SESSION, [
        prompt("ship"),
        *bash("c1", "git commit -qm y && git push", "To github.com:me/app.git\n ! [rejected]"
              "        main -> main (fetch first)\nerror: failed to push some refs", error=True),
    ])
    assert [c[:2] for c in rejected.commits] == [("", "y")] and rejected.unpushed == 1
    loud = outcomes.git_events("git commit -m z", "[main 1a2b3c4] z\n 1 file changed")
    assert loud == [("commit", "1a2b3c4", "z")]
