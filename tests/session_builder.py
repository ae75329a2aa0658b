"""Transcripts written as Claude Code writes them (2.1.x record shapes: one line per content
block, results as user records, subagents in ``<session>/subagents/agent-<id>.jsonl`` tied to
their Task call by ``toolUseResult.agentId`` and ``agent_progress`` records), for tests that
need a session of a known shape: long, with errors, subagents, secrets or hostile text."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

START = 1_772_359_200  # 2026-03-01 10:00:00 UTC


class Transcript:
    """Lines of one transcript file, each a record with a fresh uuid chained to the last."""

    def __init__(self, session: str, agent_id: str | None = None, cwd: str = "/work/app") -> None:
        self.session, self.agent_id, self.cwd = session, agent_id, cwd
        self.lines: list[dict[str, Any]] = []
        self._uuids = 0
        self._calls = 0
        self.clock = START + (3600 if agent_id else 0)
        self.parent: str | None = None

    def _uuid(self) -> str:
        self._uuids += 1
        return f"{self._uuids:08x}-{(self.agent_id or '0000')[:4]}-4222-8333-{self.session[-12:]}"

    def _stamp(self) -> str:
        self.clock += 2
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.clock))

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        uuid = self._uuid()
        line = {"parentUuid": self.parent, "isSidechain": self.agent_id is not None,
                "userType": "external", "cwd": self.cwd, "sessionId": self.session,
                "version": "2.1.39", "gitBranch": "main", "type": kind, "uuid": uuid,
                "timestamp": self._stamp(), **fields}
        if self.agent_id:
            line["agentId"] = self.agent_id
        self.lines.append(line)
        self.parent = uuid
        return line

    def prompt(self, content: str | list[dict[str, Any]], **extra: Any) -> None:
        self.record("user", message={"role": "user", "content": content}, **extra)

    def say(self, text: str) -> None:
        self.assistant({"type": "text", "text": text})

    def think(self, text: str) -> None:
        self.assistant({"type": "thinking", "thinking": text, "signature": "c2ln"})

    def assistant(self, block: dict[str, Any]) -> None:
        self.record("assistant", requestId="req_1", message={
            "model": "claude-opus-4-6", "id": f"msg_{len(self.lines):05d}", "type": "message",
            "role": "assistant", "content": [block], "stop_reason": None,
            "usage": {"input_tokens": 3, "output_tokens": 5}})

    def call(self, name: str, tool_input: dict[str, Any], result: str | list[dict[str, Any]],
             error: bool = False, tool_use_result: Any = None) -> str:
        """A tool call and its result; returns the call's id."""
        self._calls += 1
        call_id = f"toolu_{self.agent_id or 'main'}_{self._calls:05d}"
        self.assistant({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id,
                                 "content": result}
        if error:
            block["is_error"] = True
        self.record("user", message={"role": "user", "content": [block]},
                    toolUseResult=tool_use_result if tool_use_result is not None else
                    ("Error: failed" if error else {"stdout": "", "stderr": ""}),
                    sourceToolAssistantUUID=self.parent)
        return call_id

    def progress(self, parent_call: str, agent_id: str, prompt: str) -> None:
        self.record("progress", toolUseID=f"agent_msg_{agent_id}", parentToolUseID=parent_call,
                    data={"type": "agent_progress", "agentId": agent_id, "prompt": prompt,
                          "message": {"type": "user"}, "normalizedMessages": []})

    def hook_progress(self) -> None:
        self.record("progress", data={"type": "hook_progress", "hookEvent": "PostToolUse",
                                      "hookName": "PostToolUse:Bash", "command": "true"})

    def text(self) -> str:
        return "".join(json.dumps(line) + "\n" for line in self.lines)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text())
        return path


def output_lines(turn: int, call: int, count: int = 6) -> str:
    return "\n".join(f"turn {turn} call {call} output line {n}" for n in range(1, count + 1))


class LongSession:
    """A session of ``turns`` turns of three Bash calls each (results of six lines, every
    tenth call failing), a Task call at ``task_turn`` whose subagent file holds its own calls,
    and one subagent file no call started."""

    SESSION = "5e551011-aaaa-4bbb-8ccc-000000001500"
    AGENT = "a1b2c3d"
    STRAY = "f00dfee"

    def __init__(self, turns: int = 125, task_turn: int = 60) -> None:
        self.turns, self.task_turn = turns, task_turn
        self.main = Transcript(self.SESSION)
        self.sub = Transcript(self.SESSION, self.AGENT)
        self.stray = Transcript(self.SESSION, self.STRAY)
        self.errors = 0
        self.calls = 0
        self._build()

    def _build(self) -> None:
        for turn in range(1, self.turns + 1):
            self.main.prompt(f"Prompt number {turn}: please do step {turn}")
            self.main.say(f"Reply {turn}a: starting step {turn}.")
            for call in range(1, 4):
                self.calls += 1
                error = self.calls % 10 == 0
                self.errors += error
                self.main.call("Bash", {"command": f"run-step {turn} {call}",
                                        "description": f"step {turn}.{call}"},
                               output_lines(turn, call), error=error)
                self.main.hook_progress()
            if turn == self.task_turn:
                self._task()
            self.main.say(f"Reply {turn}b: step {turn} done.")
        self.stray.prompt("Warmup")
        self.stray.say("Stray run ready.")

    def _task(self) -> None:
        prompt = "Investigate the flaky test in tests/test_sync.py and report the cause."
        self.sub.prompt(prompt)
        self.sub.say("Subagent: looking at the test.")
        self.sub.call("Read", {"file_path": "/work/app/tests/test_sync.py"},
                      "\n".join(f"{n}→line {n} of test_sync" for n in range(1, 9)))
        self.sub.say("Subagent finding: the test sleeps 0.1 s and races the writer.")
        self.task_call = f"toolu_main_{self.main._calls + 1:05d}"
        self.main.assistant({"type": "tool_use", "id": self.task_call, "name": "Task",
                             "input": {"description": "Find the flaky test",
                                       "prompt": prompt, "subagent_type": "Explore"}})
        self.main.progress(self.task_call, self.AGENT, prompt)
        self.main.progress(self.task_call, self.AGENT, prompt)
        self.main._calls += 1
        self.main.record("user", message={"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": self.task_call,
             "content": [{"type": "text", "text": "Task report: the test races the writer."}]}]},
            toolUseResult={"status": "completed", "agentId": self.AGENT,
                           "content": [{"type": "text", "text": "Task report"}],
                           "totalDurationMs": 1000, "totalTokens": 10, "totalToolUseCount": 1})

    def write(self, folder: Path) -> list[Path]:
        """The three files laid out as Claude Code lays them out."""
        main = self.main.write(folder / f"{self.SESSION}.jsonl")
        sub = self.sub.write(folder / self.SESSION / "subagents" / f"agent-{self.AGENT}.jsonl")
        stray = self.stray.write(folder / self.SESSION / "subagents"
                                 / f"agent-{self.STRAY}.jsonl")
        return [main, sub, stray]
