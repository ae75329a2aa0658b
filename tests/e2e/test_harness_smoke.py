"""Smoke tests proving the e2e harness drives the real Claude Code client (pinned 2.1.330).

They also pin the client behaviour the hook suite relies on: which hook events fire in `-p`
mode and with what stdin, where SessionStart context reaches the model, and what the status
line command receives. If the pinned client changes, these are the tests that say how.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .claude_harness import (
    CLAUDE_VERSION,
    ClaudeMissingError,
    TmuxSession,
    _check_binary,
    claude_bin_fixture,  # noqa: F401  (registers the claude_bin fixture)
    claude_home_fixture,  # noqa: F401
    exec_hook,
    fake_api_fixture,  # noqa: F401
    git_project_fixture,  # noqa: F401
    hook_settings,
    read_jsonl,
    read_recording,
    recording_script,
    run_claude,
    transcripts,
    write_settings,
)
from .fake_api import FakeAnthropic, text, tool_use

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COMMON_HOOK_FIELDS = {"session_id", "transcript_path", "cwd", "hook_event_name"}


def _tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for msg in body["messages"]
        if msg["role"] == "user" and isinstance(msg["content"], list)
        for block in msg["content"]
        if block.get("type") == "tool_result"
    ]


def test_bash_tool_round_trip(
    claude_home: Path, git_project: Path, fake_api: FakeAnthropic
) -> None:
    """A scripted Bash call really runs, its result goes back to the API, a transcript is kept."""
    fake_api.extend([tool_use("Bash", {"command": "echo hi > out.txt"}), text("All done.")])

    proc = run_claude(git_project, claude_home, "write hi to out.txt", fake=fake_api)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "All done."
    assert (git_project / "out.txt").read_text() == "hi\n"
    mains = fake_api.main_requests()
    assert len(mains) == 2 and fake_api.exhausted == 0
    assert mains[0]["stream"] is True and mains[0]["tools"]
    tool_id = fake_api.requests_of("main")[0].response["content"][0]["id"]  # type: ignore[index]
    results = _tool_results(mains[1])
    assert [r["tool_use_id"] for r in results] == [tool_id]
    assert results[0]["is_error"] is False

    [transcript] = transcripts(claude_home, git_project)
    records = read_jsonl(transcript)
    assert {r.get("sessionId") for r in records if "sessionId" in r} == {transcript.stem}
    blocks = [
        b
        for r in records
        if r.get("type") == "assistant"
        for b in r["message"]["content"]
        if b.get("type") == "tool_use"
    ]
    assert [(b["id"], b["name"]) for b in blocks] == [(tool_id, "Bash")]
    # The client names the session in a header, handy to match requests to transcripts.
    assert fake_api.requests_of("main")[0].headers["x-claude-code-session-id"]


def test_exec_form_hooks_fire_in_print_mode(
    tmp_path: Path, claude_home: Path, git_project: Path, fake_api: FakeAnthropic
) -> None:
    """Exec-form hooks (no shell, a space in the script path) get each event's JSON on stdin."""
    log = tmp_path / "hook log.jsonl"
    script = recording_script(tmp_path / "hook scripts" / "log hook.py", log)
    events = ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"]
    write_settings(git_project, hook_settings({e: exec_hook(script, e) for e in events}))
    fake_api.extend(["pong"])

    proc = run_claude(git_project, claude_home, "ping", fake=fake_api)

    assert proc.returncode == 0, proc.stderr
    entries = read_recording(log)
    assert [e["argv"] for e in entries] == [[e] for e in events]  # each once, in this order
    by_event = {e["argv"][0]: e["payload"] for e in entries}
    [transcript] = transcripts(claude_home, git_project)
    for event, payload in by_event.items():
        assert payload.keys() >= COMMON_HOOK_FIELDS, event
        assert payload["hook_event_name"] == event
        assert payload["session_id"] == transcript.stem
        assert payload["transcript_path"] == str(transcript)
        assert payload["cwd"] == str(git_project)

    start, prompt, stop, end = (by_event[e] for e in events)
    assert start["source"] == "startup"
    assert "model" not in start  # interactive SessionStart carries it, -p does not
    assert prompt["prompt"] == "ping"
    assert prompt["permission_mode"] == "bypassPermissions"
    assert prompt["prompt_id"] == stop["prompt_id"] == end["prompt_id"]
    assert stop["last_assistant_message"] == "pong"
    assert stop["stop_hook_active"] is False
    assert stop["background_tasks"] == [] and stop["session_crons"] == []
    assert end["reason"] == "other"  # SessionEnd does fire in -p
    # Hooks see where the project is and which session they belong to.
    env = entries[0]["env"]
    assert env["CLAUDE_PROJECT_DIR"] == str(git_project)
    assert env["CLAUDE_CODE_SESSION_ID"] == transcript.stem
    assert all(e["cwd"] == str(git_project) for e in entries)


def test_session_start_context_reaches_the_model(
    tmp_path: Path, claude_home: Path, git_project: Path, fake_api: FakeAnthropic
) -> None:
    """SessionStart additionalContext is in the first main request, as a `system` message."""
    out = {"hookEventName": "SessionStart", "additionalContext": "MARKER-123"}
    stdout = json.dumps({"hookSpecificOutput": out})
    script = recording_script(tmp_path / "hooks dir" / "ctx.py", tmp_path / "ctx.log", stdout)
    write_settings(git_project, hook_settings({"SessionStart": exec_hook(script, "SessionStart")}))
    fake_api.extend(["ok"])

    proc = run_claude(git_project, claude_home, "hello", fake=fake_api)

    assert proc.returncode == 0, proc.stderr
    first = fake_api.main_requests()[0]
    assert "MARKER-123" in json.dumps(first)
    assert "MARKER-123" not in json.dumps(first["system"])  # not the system prompt...
    holders = [m for m in first["messages"] if "MARKER-123" in json.dumps(m)]
    assert [m["role"] for m in holders] == ["system"]  # ...but a system-role message
    assert "SessionStart hook additional context: MARKER-123" in json.dumps(holders[0])
    assert "MARKER-123" not in json.dumps([m for m in first["messages"] if m["role"] == "user"])


def _status_line_settings(script: Path, *extra: str) -> dict[str, Any]:
    """statusLine runs `command` through a shell, so quote the paths."""
    return {"type": "command", "command": shlex.join([sys.executable, str(script), *extra])}


def test_status_line_renders_interactively(
    tmp_path: Path, claude_home: Path, git_project: Path, fake_api: FakeAnthropic
) -> None:
    """The status line command's output shows in the TUI, and gets the documented JSON."""
    log = tmp_path / "statusline.jsonl"
    script = recording_script(tmp_path / "status line" / "sl.py", log, "SL-MARKER-7\n")
    write_settings(git_project, {"statusLine": _status_line_settings(script)})
    fake_api.extend(["hello from the fake"])

    started = time.monotonic()
    with TmuxSession(git_project, claude_home, fake=fake_api) as tui:
        tui.wait_for("SL-MARKER-7", timeout=20)
        first_render = time.monotonic() - started
        tui.type_text("hi", enter=True)
        tui.wait_for("hello from the fake", timeout=20)
        # The status line is re-run after the reply; wait for the run that saw the turn.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(e["payload"] and e["payload"].get("prompt_id") for e in read_recording(log)):
                break
            time.sleep(0.1)
        tui.exit()

    assert first_render < 15
    payloads = [e["payload"] for e in read_recording(log)]
    [transcript] = transcripts(claude_home, git_project)
    first, last = payloads[0], payloads[-1]
    for p in (first, last):
        assert p["session_id"] == transcript.stem
        assert p["transcript_path"] == str(transcript)
        assert p["cwd"] == p["workspace"]["current_dir"] == str(git_project)
        assert p["version"] == CLAUDE_VERSION
        assert {"id", "display_name"} <= p["model"].keys()
        assert "hook_event_name" not in p
    assert "prompt_id" not in first and first["context_window"]["current_usage"] is None
    assert last["prompt_id"] and last["context_window"]["current_usage"]["input_tokens"] > 0
    assert last["cost"]["total_api_duration_ms"] >= 0

    # The sample kept in tests/fixtures must stay the shape this client sends.
    sample = json.loads((FIXTURES / "statusline-2.1.330.json").read_text())
    assert sample.keys() == last.keys()


def test_status_line_ignores_args(
    tmp_path: Path, claude_home: Path, git_project: Path, fake_api: FakeAnthropic
) -> None:
    """statusLine has no exec form: an `args` list is accepted but never passed to the command."""
    script = recording_script(tmp_path / "sl dir" / "sl.py", tmp_path / "sl.log", "SL-ARGS-END\n")
    settings = _status_line_settings(script)
    settings["args"] = ["EXTRA-ARG"]
    write_settings(git_project, {"statusLine": settings})

    with TmuxSession(git_project, claude_home, fake=fake_api) as tui:
        screen = tui.wait_for("SL-ARGS-END", timeout=20)

    assert "EXTRA-ARG" not in screen
    runs = read_recording(tmp_path / "sl.log")
    assert runs and all(e["argv"] == [] for e in runs)
    assert re.search(r"bypass permissions on", screen)


def _post(url: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers["content-type"], resp.read()


def _sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in raw.decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_fake_api_protocol_without_the_client(tmp_path: Path) -> None:
    """The fake speaks both JSON and SSE, keeps side requests off the script, and logs all."""
    main = {"model": "m", "max_tokens": 100, "tools": [{"name": "Bash"}], "messages": []}
    log = tmp_path / "requests.jsonl"
    with FakeAnthropic(
        [tool_use("Bash", {"command": "ls"}), "bye"], side_reply="side", log_path=log
    ) as fake:
        url = fake.url + "/v1/messages"
        status, ctype, raw = _post(url + "?beta=true", {**main, "stream": True})
        assert status == 200 and ctype == "text/event-stream"
        events = _sse_events(raw)
        names = [name for name, _ in events]
        assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
        partial = "".join(
            d["delta"]["partial_json"] for n, d in events if n == "content_block_delta"
        )
        assert json.loads(partial) == {"command": "ls"}
        assert events[-2][1]["delta"]["stop_reason"] == "tool_use"

        # A title request (no tools, a JSON schema) and a max_tokens=1 probe leave the script.
        schema = {"type": "object", "properties": {"title": {"type": "string"}}}
        title_req = {
            "max_tokens": 50,
            "tools": [],
            "messages": [],
            "output_config": {"format": {"type": "json_schema", "schema": schema}},
        }
        _, _, raw = _post(url, title_req)
        assert json.loads(json.loads(raw)["content"][0]["text"]) == {"title": "Fake title"}
        _, _, raw = _post(url, {**main, "max_tokens": 1})
        assert json.loads(raw)["content"][0]["text"] == "side"

        _, ctype, raw = _post(url, main)
        assert ctype == "application/json"
        assert json.loads(raw)["content"] == [{"type": "text", "text": "bye"}]
        _, _, raw = _post(url, main)
        assert fake.exhausted == 1 and fake.remaining == 0

        _, _, raw = _post(url + "/count_tokens", main)
        assert json.loads(raw)["input_tokens"] > 0
        head = urllib.request.Request(fake.url + "/", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(fake.url + "/api/unknown", timeout=10)
        assert err.value.code == 404

    kinds = [r.kind for r in fake.requests]
    assert kinds == ["main", "side", "side", "main", "main", "count_tokens", "other", "other"]
    assert [r.reply_index for r in fake.requests_of("main")] == [0, 1, None]
    assert len(read_jsonl(log)) == len(fake.requests) and not fake.errors


def test_missing_client_is_a_clear_failure(tmp_path: Path) -> None:
    """CI installs the client, so its absence must fail loudly with the fix, never skip."""
    with pytest.raises(ClaudeMissingError, match="npm ci"):
        _check_binary(str(tmp_path / "no-such-claude"))
