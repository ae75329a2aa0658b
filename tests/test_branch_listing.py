"""Branches and merges as ``list``, ``show``, the session resolver and the resume note see
them: a session session-core wrote copies its origin's records, which are indexed under the
origin (same keys), so what it holds, when it was active and what it is called are read
through its ``branches`` link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from session_core.handoff.notes import resume_note
from session_core.handoff.text import resumed
from session_core.store import sessions
from session_core.store.archive import open_archive
from session_core.store.summary import session_summary

from .conftest import run_cli
from .session_builder import START, Transcript
from .test_checkpoints import cli, folder_of, git_project, records, resume_id

ORIGIN = "0837c669-1111-4222-8333-444455556666"
OTHER = "0e0e0e0e-2222-4222-8333-777788889999"
AGENT = "5ec0009"


def _origin(project: Path) -> Path:
    """An October-ish (old) session: a prompt, a subagent call, a reply; a newer unrelated
    session after it. Both long before today."""
    folder = folder_of(project)
    main = Transcript(ORIGIN, cwd=str(project))
    main.prompt("port the parser to rust")
    main.call("Agent", {"description": "look", "prompt": "look around"}, "looked",
              tool_use_result={"status": "completed", "agentId": AGENT})
    main.say("Ported.")
    path = main.write(folder / f"{ORIGIN}.jsonl")
    sub = Transcript(ORIGIN, agent_id=AGENT, cwd=str(project))
    sub.prompt("look around")
    sub.say("looked around")
    sub.write(folder / ORIGIN / "subagents" / f"agent-{AGENT}.jsonl")
    other = Transcript(OTHER, cwd=str(project))
    other.clock = START + 30 * 86400  # newer than the origin, older than any branch
    other.prompt("something else")
    other.say("Done.")
    other.write(folder / f"{OTHER}.jsonl")
    return path


def _listed(project: Path) -> list[dict[str, Any]]:
    return list(json.loads(cli("list", "--json", project=project)))


def _work_in(project: Path, session: str, prompt: str) -> None:
    """The session resumed: a turn of its own appended, as Claude Code does, and archived."""
    path = folder_of(project) / f"{session}.jsonl"
    work = Transcript(session, cwd=str(project))
    work.clock = START + 60 * 86400
    work.parent = records(path)[-1]["uuid"]
    work.prompt(prompt)
    work.say("Tried it.")
    with path.open("a") as handle:
        handle.write(work.text())
    cli("import", project=project)


def _checkpointed(project: Path) -> None:
    """A git project whose origin session is archived with a checkpoint ``cp1`` in it."""
    git_project(project)
    _origin(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", "--session", ORIGIN, project=project)


def test_a_new_branch_is_listed_when_made_named_for_its_origin_and_with_what_it_holds(
        project: Path) -> None:
    _checkpointed(project)
    branch = resume_id(cli("branch", "cp1", project=project))

    listed = _listed(project)
    assert [s["uuid"] for s in listed] == [branch, OTHER, ORIGIN]  # made now: the newest
    made, _, origin = listed
    assert origin["kind"] == "session" and origin["origin_uuid"] is None
    assert made["kind"] == "branch" and made["origin_uuid"] == ORIGIN
    assert made["title"] == "branch of 0837c669: port the parser to rust"
    assert made["last_ts"] > origin["last_ts"]
    # it holds the copied conversation (subagent included), though indexed under the origin
    assert (made["messages"], made["prompts"], made["tool_calls"]) == (
        origin["messages"], origin["prompts"], origin["tool_calls"]) == (6, 1, 1)
    text = cli("list", project=project)
    assert "branch of 0837c669: port the parser" in text.splitlines()[1]
    today = made["last_ts"][:10]
    assert [s["uuid"] for s in json.loads(cli("list", "--since", today, "--json",
                                              project=project))] == [branch]


def test_a_merge_is_titled_for_what_it_continues_and_its_note_is_no_prompt(
        project: Path) -> None:
    _checkpointed(project)
    branch = resume_id(cli("branch", "cp1", "--name", "alt", project=project))
    _work_in(project, branch, "try the other parser")
    merged = resume_id(cli("merge", branch, project=project))

    by_id = {s["uuid"]: s for s in _listed(project)}
    assert by_id[branch]["title"] == "branch of 0837c669: alt"  # its --name
    assert (by_id[branch]["messages"], by_id[branch]["prompts"]) == (8, 2)  # 6 copied + 2
    merge = by_id[merged]
    assert merge["kind"] == "merge" and merge["origin_uuid"] == ORIGIN
    assert merge["title"] == "merge of alt into 0837c669: port the parser to rust"
    assert (merge["messages"], merge["prompts"]) == (6 + 1, 1)  # the note: no prompt of ours
    assert "Merged in from branch" not in merge["title"]
    shown = cli("show", merged, project=project)
    assert "Messages  7 (1 prompt," in shown and "Title     merge of alt" in shown


def test_a_branch_is_referred_to_by_its_name_wherever_a_session_is(project: Path) -> None:
    _checkpointed(project)
    branch = resume_id(cli("branch", "cp1", "--name", "alt", project=project))
    assert f"Session   {branch}" in cli("show", "alt", project=project)
    _work_in(project, branch, "try the other parser")
    assert f"Merged branch {branch} into" in cli("merge", "alt", project=project)
    with open_archive(project) as archive:
        conn = archive.db.conn
        assert sessions.resolve(conn, "alt").uuid == branch
        assert sessions.resolve(conn, ORIGIN[:8]).uuid == ORIGIN  # prefixes as before
    again = resume_id(cli("branch", "cp1", "--name", "alt", project=project))
    both = run_cli("show", "alt", "--project", str(project))
    assert both.returncode != 0 and b"names several branches" in both.stderr
    assert again.encode() in both.stderr
    assert f"Session   {again}" in cli("show", again, project=project)  # an id still works


def test_a_branch_of_a_branch_holds_and_is_named_for_the_whole_chain(project: Path) -> None:
    _checkpointed(project)
    branch = resume_id(cli("branch", "cp1", "--name", "alt", project=project))
    _work_in(project, branch, "try the other parser")
    cli("checkpoint", "create", "cp2", "--session", "alt", project=project)
    deeper = resume_id(cli("branch", "cp2", project=project))
    by_id = {s["uuid"]: s for s in _listed(project)}
    assert by_id[deeper]["title"] == "branch of alt: port the parser to rust"
    assert (by_id[deeper]["messages"], by_id[deeper]["prompts"]) == (8, 2) == (
        by_id[branch]["messages"], by_id[branch]["prompts"])


def test_the_resume_note_counts_as_list_does_copies_included(project: Path) -> None:
    _checkpointed(project)
    branch = resume_id(cli("branch", "cp1", project=project))
    _work_in(project, branch, "try the other parser")
    merged = resume_id(cli("merge", branch, project=project))
    listed = {s["uuid"]: s["messages"] for s in _listed(project)}
    assert listed == {ORIGIN: 6, OTHER: 2, branch: 8, merged: 7}
    with open_archive(project) as archive:
        conn = archive.db.conn
        for uuid, count in listed.items():  # the subagent's messages too, as list says
            assert resume_note(conn, uuid) == resumed(uuid, count), uuid
            assert session_summary(conn, uuid).messages == count
    assert f"resumed; the archive holds its 8 messages (session-core show {branch})" in \
        resumed(branch, 8)
    assert "holds its 1 message (" in resumed(branch, 1)
