"""A branch, a merge or a fork is a session file that starts with copies of another session's
lines: what those lines spent and changed was spent and changed once, by that session. Its
cost is what was spent on it after its copied prefix (Claude Code's ``cost-state`` totals run
on from the copied total when it is resumed), and its copied tool calls are no further
changes of a file (``blame``, ``stats``' most changed, the recall note)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from session_core.store import recall
from session_core.store.archive import open_archive
from session_core.transcript.digest import refresh_digests

from .session_builder import Transcript
from .test_checkpoints import ORIGIN, cli, folder_of, git_project, records, resume_id

START = 1795423786250  # one process run of Claude Code: its totals run on across a resume


def cost_state(session: str, total: float) -> dict[str, Any]:
    return {"type": "cost-state", "sessionId": session, "totalCostUSD": total,
            "totalDuration": 1519, "startTime": START, "modelUsage": {}}


def _world(project: Path) -> tuple[str, str, str, str]:
    """An origin that created test_retry.py ($0.05 by the checkpoint, $0.08 in all), a branch
    resumed from the checkpoint that edited it ($0.02 of its own: its total ran on to $0.07),
    a second branch nobody resumed, and the merge of the first into the origin. Returns
    (origin's file, branch, untouched branch, merge)."""
    git_project(project)
    folder = folder_of(project)
    target = str(project / "test_retry.py")
    origin = Transcript(ORIGIN, cwd=str(project))
    origin.prompt("write the retry test")
    origin.call("Write", {"file_path": target, "content": "x = 1\n"},
                "File created successfully at: " + target)
    origin.say("Written.")
    origin.lines.append(cost_state(ORIGIN, 0.05))
    path = origin.write(folder / f"{ORIGIN}.jsonl")
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    origin.prompt("and the docs")
    origin.say("Done.")
    origin.lines.append(cost_state(ORIGIN, 0.08))
    origin.write(path)
    cli("import", project=project)

    branch = resume_id(cli("branch", "cp1", project=project))
    idle = resume_id(cli("branch", "cp1", project=project))
    branch_file = folder / f"{branch}.jsonl"
    work = Transcript(branch, cwd=str(project))  # the resumed branch, as Claude Code appends
    work.parent = records(branch_file)[-1].get("uuid")
    work.clock += 600
    work.prompt("retry with backoff")
    work.call("Edit", {"file_path": target, "old_string": "1", "new_string": "2"},
              "The file has been updated.")
    work.say("Backoff added.")
    work.lines.append(cost_state(branch, 0.07))
    for line in work.lines:  # its own requests: message ids of its own
        if line["type"] == "assistant":
            line["message"]["id"] += "_branch"
    with branch_file.open("a") as handle:
        handle.write(work.text())
    merged = resume_id(cli("merge", branch, project=project))
    return str(path), branch, idle, merged


def _cost(project: Path, session: str) -> Any:
    return json.loads(cli("show", session, "--json", project=project))["cost_usd"]


def test_a_copy_costs_only_what_was_spent_on_it_after_its_copied_prefix(project: Path) -> None:
    _, branch, idle, merged = _world(project)
    assert _cost(project, ORIGIN) == 0.08
    assert abs(_cost(project, branch) - 0.02) < 1e-9  # $0.07 less the $0.05 it was cut at
    assert _cost(project, idle) == 0.0  # recorded: nothing spent on it
    assert _cost(project, merged) == 0.0  # the origin's $0.08 copied, and a note
    listed = {row["uuid"]: row["cost_usd"] for row in
              json.loads(cli("list", "--json", project=project))}
    assert abs(sum(cost or 0 for cost in listed.values()) - 0.10) < 1e-9
    totals = json.loads(cli("stats", "--json", project=project))["totals"]
    assert abs(totals["cost_usd"] - 0.10) < 1e-9, totals
    assert "$0.02" in cli("show", branch, project=project)


def test_copied_tool_calls_are_no_further_changes_of_the_file(project: Path) -> None:
    _, branch, idle, merged = _world(project)

    def check() -> None:
        rows = json.loads(cli("blame", "test_retry.py", "--json", project=project))
        changes = [(c["session"], c["action"], c["edits"]) for c in rows[0]["sessions"]]
        assert changes == [(branch, "edited", 1), (ORIGIN, "created", 1)], changes
        most = json.loads(cli("stats", "--json", project=project))["files"]
        assert [(f["file"], f["edits"], f["sessions"]) for f in most] == [
            ("test_retry.py", 2, 2)]
        with open_archive(project) as archive:  # the recall note before an edit still says so
            conn = archive.db.conn
            path = str(project / "test_retry.py")
            assert [c.session_uuid for c in recall.changes_of(conn, path, idle)] == [
                branch, ORIGIN]
            assert [c.session_uuid for c in recall.changes_of(conn, path, ORIGIN)] == [branch]

    check()
    with open_archive(project) as archive:  # digests folded again from the frames: the same
        with archive.db.write() as conn:
            conn.execute("DELETE FROM digests")
            conn.execute("DELETE FROM file_changes")
        done, problems = refresh_digests(archive.db, archive.settings.max_indexed_line_bytes)
        assert done >= 4 and not problems
    check()
    assert merged


def test_a_fork_of_a_real_session_adds_no_cost_and_no_change(project: Path) -> None:
    """Claude Code's own copy (a fork: the session's lines under a new ``sessionId``), of a
    real 2.1.328 transcript whose resumed run ran its ``cost-state`` total on to $0.028."""
    real = Path(__file__).parent / "fixtures" / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
    folder = folder_of(project)
    folder.mkdir(parents=True)
    (folder / real.name).write_bytes(real.read_bytes())
    cli("import", project=project)
    before = json.loads(cli("stats", "--json", project=project))
    assert before["totals"]["cost_usd"] == 0.028 and before["files"]
    fork = "f0f0f0f0-2222-4333-8444-555566667777"
    (folder / f"{fork}.jsonl").write_bytes(real.read_bytes().replace(
        real.stem.encode(), fork.encode()))
    cli("import", project=project)
    assert _cost(project, fork) == 0.0
    after = json.loads(cli("stats", "--json", project=project))
    assert after["totals"]["cost_usd"] == 0.028
    assert after["files"] == before["files"]
