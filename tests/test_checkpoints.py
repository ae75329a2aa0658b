"""Issue 13, items 1-3: checkpoints (named, and the hooks' automatic ones with their retention),
``branch`` (a new session cut at a checkpoint, from the archive's bytes, where Claude Code
looks) and ``merge`` (a continuation that ends with what the branch found, redacted).

Real archives in temp dirs, the CLI and the hooks as real processes; the end-to-end proof
with the real client is tests/e2e/test_branch_e2e.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from session_core.base.retention import kept
from session_core.base.settings import Settings
from session_core.store import checkpoints, sessions
from session_core.store.archive import open_archive
from session_core.transcript import layout
from session_core.transcript.branch import rewrite_line
from session_core.transcript.checkpoint import take

from .conftest import run_cli
from .hookkit import HOOK_TARGETS_BY_EVENT, SESSION, check_contract, encode, make_world, payload
from .hookkit import run_target as run_hook
from .session_builder import Transcript

ORIGIN = "0f0f0f0f-1111-4222-8333-444455556666"
AGENT_BEFORE, AGENT_AFTER = "5ec0001", "5ec0002"
SECRET = "sk-ant-api03-" + "Q" * 40


def git(project: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                          check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    return done.stdout.strip()


def git_project(project: Path) -> str:
    """The project as a git repository with one commit; returns the commit."""
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "t@example.invalid")
    git(project, "config", "user.name", "T")
    (project / "app.py").write_text("print(1)\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "first")
    return git(project, "rev-parse", "HEAD")


def cli(*args: str, project: Path) -> str:
    done = run_cli(*args, "--project", str(project))
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def folder_of(project: Path) -> Path:
    return Path(layout.project_folder(project, Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects"))


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def resume_id(output: str) -> str:
    found = re.search(r"claude --resume ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


class TwoTurns:
    """An origin session: turn one asks a subagent; turn two (after the checkpoint) asks
    another. Claude Code's files, as it lays them out."""

    def __init__(self, project: Path, running: bool = True) -> None:
        self.folder = folder_of(project)
        self.main = Transcript(ORIGIN, cwd=str(project))
        if running:  # active minutes ago: the session running now, git now is its state
            self.main.clock = int(time.time()) - 300
        self.main.prompt("turn one: ALPHA")
        call = self.main.call("Agent", {"description": "look", "prompt": "look around",
                                        "subagent_type": "general-purpose"}, "looked",
                              tool_use_result={"status": "completed", "agentId": AGENT_BEFORE})
        self.main.progress(call, AGENT_BEFORE, "look around")
        self.main.say("Turn one done.")
        self.cut = len(self.main.lines)
        self.transcript = self.main.write(self.folder / f"{ORIGIN}.jsonl")
        self._subagent(AGENT_BEFORE, "looked around")

    def _subagent(self, agent: str, said: str) -> Path:
        sub = Transcript(ORIGIN, agent_id=agent, cwd=self.main.cwd)
        sub.prompt("look around")
        sub.say(said)
        return sub.write(self.folder / ORIGIN / "subagents" / f"agent-{agent}.jsonl")

    def second_turn(self) -> None:
        self.main.prompt("turn two: BETA")
        self.main.call("Agent", {"description": "more", "prompt": "more"}, "more",
                       tool_use_result={"status": "completed", "agentId": AGENT_AFTER})
        self.main.say("Turn two done.")
        self.main.write(self.transcript)
        self._subagent(AGENT_AFTER, "did more")


def test_a_named_checkpoint_stands_where_the_session_is_now_with_git(project: Path) -> None:
    commit = git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    (project / "app.py").write_text("print(2)\n")  # dirty
    origin.main.say("one more line the hooks never saved")
    origin.main.write(origin.transcript)

    out = cli("checkpoint", "create", "before-refactor", "--session", ORIGIN[:8],
              project=project)
    assert "before-refactor" in out and "branch before-refactor" in out
    shown = json.loads(cli("checkpoint", "show", "before-refactor", "--json", project=project))
    # create archived what was new first: the position is the file's end, after its last entry
    assert shown["offset"] == origin.transcript.stat().st_size
    assert shown["last_uuid"] == origin.main.lines[-1]["uuid"]
    assert (shown["git_branch"], shown["git_commit"], shown["git_dirty"]) == ("main", commit,
                                                                              True)
    assert shown["reason"] == "named" and shown["session"] == ORIGIN

    again = run_cli("checkpoint", "create", "before-refactor", "--project", str(project))
    assert again.returncode == 4 and b"exists already" in again.stderr
    bad = run_cli("checkpoint", "create", "../x", "--project", str(project))
    assert bad.returncode == 2 and b"cannot name a checkpoint" in bad.stderr
    hooks_own = run_cli("checkpoint", "create", "end-0f0f0f0f-3", "--project", str(project))
    assert hooks_own.returncode == 2
    listed = cli("checkpoint", "list", "--session", ORIGIN, project=project)
    assert "before-refactor" in listed and "named" in listed


def test_branch_is_cut_at_the_checkpoint_from_the_archive_alone(project: Path) -> None:
    commit = git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", "--session", ORIGIN, project=project)
    origin.second_turn()
    cli("import", project=project)
    for path in origin.folder.rglob("*.jsonl"):  # Claude Code deleted them: the archive has all
        path.unlink()

    out = cli("branch", "cp1", project=project)
    new = resume_id(out)
    assert new != ORIGIN
    written = origin.folder / f"{new}.jsonl"
    got = records(written)
    expected = origin.main.lines[:origin.cut]
    assert [r["uuid"] for r in got] == [r["uuid"] for r in expected]  # cut at the checkpoint
    assert {r["sessionId"] for r in got} == {new}
    seen: set[str] = set()
    for record in got:  # the parent chain is whole: every parent came before
        assert record["parentUuid"] is None or record["parentUuid"] in seen
        seen.add(record["uuid"])
    assert "BETA" not in written.read_text() and "ALPHA" in written.read_text()
    before = origin.folder / new / "subagents" / f"agent-{AGENT_BEFORE}.jsonl"
    assert {r["sessionId"] for r in records(before)} == {new}
    assert "looked around" in before.read_text()
    assert not (origin.folder / new / "subagents" / f"agent-{AGENT_AFTER}.jsonl").exists()
    assert written.stat().st_mode & 0o777 == 0o600

    shown = cli("show", new, project=project)
    assert f"branch of {ORIGIN} at checkpoint cp1" in shown
    assert f"Branched  {new} at checkpoint cp1" in cli("show", ORIGIN, project=project)
    data = json.loads(cli("show", new, "--json", project=project))
    assert data["origin"]["origin_uuid"] == ORIGIN and data["origin"]["kind"] == "branch"
    assert json.loads(cli("checkpoint", "show", "cp1", "--json", project=project))[
        "branches"] == [new]
    exported = run_cli("export", new, "--project", str(project))
    assert exported.stdout == written.read_bytes()  # archived as written
    assert commit  # the checkpoint's commit: see the worktree test


def test_branch_with_a_worktree_checks_out_the_commit_and_files_the_session_there(
        project: Path, tmp_path: Path) -> None:
    commit = git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    (project / "app.py").write_text("print(3)\n")
    git(project, "commit", "-qam", "later")
    tree = tmp_path / "tree"

    out = cli("branch", "cp1", "--worktree", str(tree), "--name", "try-other", project=project)
    new = resume_id(out)
    assert f"cd {tree} && claude --resume {new}" in out
    assert git(tree, "rev-parse", "HEAD") == commit
    assert git(tree, "branch", "--show-current") == "try-other"
    got = records(folder_of(tree) / f"{new}.jsonl")
    assert {r["cwd"] for r in got if "cwd" in r} == {str(tree)}
    assert not (origin.folder / f"{new}.jsonl").exists()


def test_merge_continues_the_origin_with_what_the_branch_found_redacted(project: Path) -> None:
    git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    new = resume_id(cli("branch", "cp1", project=project))
    branch_file = origin.folder / f"{new}.jsonl"
    work = Transcript(new, cwd=str(project))  # the branch's own turn, as Claude Code appends it
    work.parent = records(branch_file)[-1]["uuid"]
    work.prompt("try the other parser")
    work.call("Write", {"file_path": str(project / "parser_b.py"), "content": "x = 1\n"},
              "File created successfully")
    work.call("Bash", {"command": "git commit -am 'Parse with B'"},
              "[main 1a2b3c4] Parse with B\n 1 file changed",
              tool_use_result={"stdout": "[main 1a2b3c4] Parse with B\n 1 file changed",
                               "stderr": ""})
    work.say(f"Parser B works; the key was {SECRET}.")
    with branch_file.open("a") as handle:
        handle.write(work.text())
    origin.second_turn()  # the origin went on meanwhile: the merge continues it from its end

    out = cli("merge", new, project=project)
    merged = resume_id(out)
    got = records(origin.folder / f"{merged}.jsonl")
    *copied, note = got
    assert [r["uuid"] for r in copied] == [r["uuid"] for r in origin.main.lines]
    assert {r["sessionId"] for r in got} == {merged}
    assert note["type"] == "user" and note["parentUuid"] == origin.main.lines[-1]["uuid"]
    text = note["message"]["content"]
    for needle in ("parser_b.py", "1a2b3c4", "Parse with B", "Parser B works", new,
                   "try the other parser", "[redacted:"):
        assert needle in text, needle
    assert SECRET not in text
    assert "ALPHA" not in text  # what the branch found, not what it was copied from
    assert f"merge: continues {ORIGIN} with what branch {new} found" in cli(
        "show", merged, project=project)
    assert f"Merged    {merged}" in cli("show", ORIGIN, project=project)

    lone = run_cli("merge", ORIGIN, "--project", str(project))  # no origin of its own
    assert lone.returncode == 2 and b"--into" in lone.stderr


def _checkpoints(world_db: Path) -> list[checkpoints.Checkpoint]:
    import sqlite3

    with sqlite3.connect(world_db) as conn:
        return checkpoints.listed(conn)


def test_the_hooks_take_checkpoints_before_compaction_every_n_turns_and_at_the_end(
        project: Path) -> None:
    world = make_world(project, os.environ)
    (project / ".claude").mkdir(exist_ok=True)
    (project / ".claude" / "session-core.json").write_text('{"checkpoint_every_turns": 1}')
    data = encode(payload(world))
    size = world.transcript.stat().st_size

    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["PreCompact"], data, world), None)
    [compact] = _checkpoints(world.archive_db)
    assert (compact.reason, compact.offset, compact.session_uuid) == ("compact", size, SESSION)
    assert compact.last_uuid is not None and compact.last_uuid in world.transcript.read_text()
    assert compact.name == f"compact-{SESSION[:8]}-1"  # counted per session
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["Stop"], data, world), None)
    assert [c.reason for c in _checkpoints(world.archive_db)] == ["compact"]  # no new prompt
    turn = Transcript(SESSION)
    turn.prompt("one more")
    turn.say("Sure.")
    with world.transcript.open("a") as out:
        out.write(turn.text())
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["Stop"], data, world), None)
    *_, turns = _checkpoints(world.archive_db)
    assert turns.reason == "turns" and turns.prompts == compact.prompts + 1
    assert turns.last_uuid == turn.lines[-1]["uuid"] and turns.name == f"turns-{SESSION[:8]}-2"
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["Stop"], data, world), None)
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["SessionEnd"], data, world), None)
    assert [c.reason for c in _checkpoints(world.archive_db)] == ["compact", "turns"]  # same place

    with world.transcript.open("a") as out:
        out.write(json.dumps({"type": "last-prompt", "sessionId": SESSION}) + "\n")
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["SessionEnd"], data, world), None)
    end = _checkpoints(world.archive_db)[-1]
    assert end.reason == "end" and end.offset == world.transcript.stat().st_size
    assert end.last_uuid == turn.lines[-1]["uuid"]  # the last entry: a record without a uuid


def test_a_session_without_an_archived_transcript_gets_no_checkpoint_and_no_failure(
        project: Path) -> None:
    world = make_world(project, os.environ)
    data = encode(payload(world, session_id="99999999-1111-4222-8333-444455556666",
                          transcript_path=str(project / "missing.jsonl")))
    check_contract(run_hook(HOOK_TARGETS_BY_EVENT["PreCompact"], data, world), None)
    assert _checkpoints(world.archive_db) == []


def test_retention_keeps_the_newest_the_days_and_the_weeks() -> None:
    # newest first: Tue 1 Dec twice, Mon 30 Nov (same ISO week), Mon 23 Nov (the week before)
    days = ["20261201", "20261201", "20261130", "20261123"]
    assert kept(days, 1, 0, 0) == {0}
    assert kept(days, 1, 2, 0) == {0, 2}
    assert kept(days, 1, 2, 2) == {0, 2, 3}
    assert kept(days, 0, 0, 1) == {0}
    assert kept(days, 10, 0, 0) == {0, 1, 2, 3}


def test_automatic_checkpoints_are_pruned_and_named_ones_kept(project: Path) -> None:
    origin = TwoTurns(project)
    cli("import", project=project)
    settings = Settings(checkpoint_keep_last=1, checkpoint_keep_daily=0,
                        checkpoint_keep_weekly=0)
    git_state = ("main", "abc", None)
    with open_archive(project) as archive:
        named = take(archive.db, ORIGIN, "named", git_state, settings, name="mine")
        first = take(archive.db, ORIGIN, "compact", git_state, settings)
        assert named is not None and first is None  # at the same place as the newest: skipped
    origin.second_turn()
    cli("import", project=project)
    with open_archive(project) as archive:
        second = take(archive.db, ORIGIN, "end", git_state, settings)
        assert second is not None
    origin.main.say("and more")
    origin.main.write(origin.transcript)
    cli("import", project=project)
    with open_archive(project) as archive:
        third = take(archive.db, ORIGIN, "compact", git_state, settings)
        assert third is not None
        left = checkpoints.listed(archive.db.conn,
                                  sessions.resolve(archive.db.conn, ORIGIN).session_id)
    assert [c.name for c in left] == ["mine", third.name]


def test_forget_takes_the_checkpoints_and_the_link_with_the_session(project: Path) -> None:
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    new = resume_id(cli("branch", "cp1", project=project))
    alone = run_cli("forget", new, "--yes", "--project", str(project))
    assert alone.returncode == 4 and ORIGIN in alone.stderr.decode()  # a branch is a copy
    alone = run_cli("forget", ORIGIN, "--yes", "--project", str(project))
    assert alone.returncode == 4 and new in alone.stderr.decode()  # and its origin's text
    cli("forget", new, "--yes", "--with-copies", project=project)
    assert "No checkpoints" in cli("checkpoint", "list", project=project)
    with open_archive(project) as archive:
        assert archive.db.conn.execute("SELECT count(*) FROM branches").fetchone()[0] == 0
    assert origin.transcript.exists()  # Claude Code's own files are not ours to delete


def test_cleanup_keeps_named_checkpoints_and_a_fresh_branch_with_its_origin(
        project: Path) -> None:
    TwoTurns(project, running=False)  # days old, as are its branch's copies of its messages
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    new = resume_id(cli("branch", "cp1", project=project))
    out = cli("cleanup", "--older-than", "5", "--dry-run", project=project)
    assert "Nothing to remove" in out, out
    assert f"kept {ORIGIN}: shares messages with {new[:8]}; they have named checkpoint(s): cp1" \
        in out and f"kept {new}" in out, out
    with open_archive(project) as archive, archive.db.write() as conn:
        conn.execute("UPDATE checkpoints SET reason = 'end'")  # no named one left
    out = cli("cleanup", "--older-than", "5", "--yes", project=project)
    assert "Nothing to remove" in out and f"kept {ORIGIN}" in out, out
    assert f"kept {new}: shares messages with {ORIGIN[:8]} (a resume" in out, out
    assert {ORIGIN, new} <= {s["uuid"] for s in json.loads(cli("list", "--json",
                                                                   project=project))}
    cli("verify", project=project)


def test_rewrite_keeps_the_bytes_but_the_id() -> None:
    line = (b'{"parentUuid":null,"sessionId":"' + ORIGIN.encode() + b'","type":"system",'
            b'"session_id":"' + ORIGIN.encode() + b'","content":"caf\xc3\xa9"}')
    new = "12345678-1111-4222-8333-444455556666"
    assert rewrite_line(line, ORIGIN, new) == line.replace(ORIGIN.encode(), new.encode())
    spaced = json.dumps({"sessionId": ORIGIN, "uuid": "u1"}).encode()  # not compact: rewritten
    assert json.loads(rewrite_line(spaced, ORIGIN, new)) == {"sessionId": new, "uuid": "u1"}
    assert rewrite_line(b"{not json", ORIGIN, new) == b"{not json"


def work_on(path: Path, session: str, project: Path) -> None:
    """A turn of the branch's own, as Claude Code appends it when someone resumes it (minutes
    ago), archived: a merge has what it found to tell."""
    from session_core.cli.checkpoint import catch_up

    work = Transcript(session, cwd=str(project))
    work.clock = int(time.time()) - 120
    work.parent = records(path)[-1]["uuid"]
    work.prompt("try parser B")
    work.say("Parser B works.")
    with path.open("a") as handle:
        handle.write(work.text())
    with open_archive(project) as archive:
        catch_up(archive, session)


def _failing_second_ingest(patch: Any) -> None:
    """The copy's first file archives, the next one fails (a full disk, a lock that stayed)."""
    from session_core.base.errors import DatabaseError
    from session_core.transcript import ingest

    real, calls = ingest.ingest_file, []

    def ingest_file(db: Any, path: Any, settings: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(path)
        if len(calls) > 1:
            raise DatabaseError("cannot write the archive (disk full)", "free disk space")
        return real(db, path, settings, *args, **kwargs)

    patch.setattr(ingest, "ingest_file", ingest_file)


def _archived(project: Path) -> tuple[int, ...]:
    with open_archive(project) as archive:
        conn = archive.db.conn
        return tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("branches", "sessions", "files"))


def test_a_branch_that_fails_half_way_leaves_no_session_link_or_worktree(
        project: Path, tmp_path: Path) -> None:
    """The link goes in with the copy's archiving, in one transaction; on a failure the
    written files and the worktree (and its git branch) go too, so the same branch works
    when tried again."""
    import argparse

    import pytest

    from session_core.base.errors import DatabaseError
    from session_core.cli.branch import cmd_branch, cmd_merge

    git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    before, on_disk = _archived(project), sorted(origin.folder.rglob("*"))
    tree = tmp_path / "tree"
    with pytest.MonkeyPatch.context() as patch, open_archive(project) as archive, \
            pytest.raises(DatabaseError, match="disk full"):
        _failing_second_ingest(patch)
        cmd_branch(archive, argparse.Namespace(checkpoint="cp1", name="try-b",
                                               worktree=str(tree)))
    assert _archived(project) == before  # neither the link nor half the copy
    assert sorted(origin.folder.rglob("*")) == on_disk
    assert not tree.exists() and not list(folder_of(tree).rglob("*.jsonl"))
    assert "try-b" not in git(project, "branch", "--list")
    assert str(tree) not in git(project, "worktree", "list")
    new = resume_id(cli("branch", "cp1", "--worktree", str(tree), "--name", "try-b",
                        project=project))  # the same again: now it works
    assert _archived(project)[0] == 1 and (folder_of(tree) / f"{new}.jsonl").is_file()
    work_on(folder_of(tree) / f"{new}.jsonl", new, project)

    before, on_disk = _archived(project), sorted(origin.folder.rglob("*"))
    with pytest.MonkeyPatch.context() as patch, open_archive(project) as archive, \
            pytest.raises(DatabaseError, match="disk full"):
        _failing_second_ingest(patch)  # a merge: the same, without a worktree
        cmd_merge(archive, argparse.Namespace(branch=new, into=ORIGIN))
    assert _archived(project) == before
    assert sorted(origin.folder.rglob("*")) == on_disk


def test_a_branch_or_merge_nobody_resumed_is_not_the_previous_session(project: Path) -> None:
    """The merge is the newest session (its note is stamped now) and its last request, the
    note, has no reply: told as the previous session it would say the session ended during
    it. Until someone resumes it, the session it continues is the one before."""
    from session_core.handoff.notes import choose, previous_session

    git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    new = resume_id(cli("branch", "cp1", project=project))
    with open_archive(project) as archive:
        choice = choose(archive.db, "", archive.settings)
        assert choice is not None and choice.row.uuid == ORIGIN  # the branch nobody resumed: not
    work_on(origin.folder / f"{new}.jsonl", new, project)  # resumed: its own work
    out = cli("merge", new, project=project)
    assert "last message is a note of what the branch found" in out
    merged = resume_id(out)
    with open_archive(project) as archive:
        choice = choose(archive.db, "", archive.settings)
        assert choice is not None and choice.row.uuid == new  # not the merge nobody resumed
        assert {o.digest.session_uuid for o in choice.others} <= {ORIGIN}
        found = previous_session(archive.db.conn, "")
        assert found is not None and found.uuid == new

    resumed = origin.folder / f"{merged}.jsonl"  # now someone resumes it and works on
    work = Transcript(merged, cwd=str(project))
    work.parent = records(resumed)[-1]["uuid"]
    work.prompt("carry on with parser B")
    work.say("Carried on.")
    with resumed.open("a") as handle:
        handle.write(work.text())
    cli("import", project=project)
    with open_archive(project) as archive:
        choice = choose(archive.db, "", archive.settings)
        assert choice is not None and choice.row.uuid == merged


def test_a_checkpoint_of_an_old_session_keeps_its_git_state_not_todays(
        project: Path, tmp_path: Path) -> None:
    from session_core.base.clock import utc_stamp
    from session_core.store import state

    then = git_project(project)
    TwoTurns(project, running=False)  # days old
    cli("import", project=project)
    with open_archive(project) as archive, archive.db.write() as conn:
        state.record_event(conn, ORIGIN, "SessionEnd", utc_stamp(time.time() - 86400), True,
                           "main", then, "exit")
    (project / "app.py").write_text("print(2)\n")
    git(project, "commit", "-qam", "today")
    (project / "app.py").write_text("print(3)\n")  # dirty today

    out = cli("checkpoint", "create", "old", "--session", ORIGIN[:8], project=project)
    assert f"git state as session {ORIGIN[:8]} left it: main {then[:10]}, dirty state" \
           " unknown" in out, out
    assert "after prompt 1 (byte " in out, out
    shown = json.loads(cli("checkpoint", "show", "old", "--json", project=project))
    assert (shown["git_branch"], shown["git_commit"], shown["git_dirty"]) == ("main", then, None)
    tree = tmp_path / "tree"
    cli("branch", "old", "--worktree", str(tree), project=project)
    assert git(tree, "rev-parse", "HEAD") == then  # the session's commit, not today's

    with open_archive(project) as archive, archive.db.write() as conn:
        state.delete(conn, ORIGIN)  # nothing recorded: the branch its entries named
    out = cli("checkpoint", "create", "older", "--session", ORIGIN[:8], project=project)
    assert "left it: main commit unknown, dirty state unknown" in out, out


def test_branch_says_when_the_files_are_not_as_at_the_checkpoint(project: Path) -> None:
    git_project(project)
    TwoTurns(project)
    cli("import", project=project)
    made = cli("checkpoint", "create", "cp1", project=project)
    assert "git state now: main " in made and ", clean" in made, made
    assert "Files:" not in cli("branch", "cp1", project=project)  # as it was
    (project / "app.py").write_text("print(5)\n")
    dirty = cli("branch", "cp1", project=project)
    assert "uncommitted changes now, clean then" in dirty and "--worktree" in dirty, dirty
    git(project, "commit", "-qam", "later")
    moved = cli("branch", "cp1", project=project)
    [line] = [line for line in moved.splitlines() if line.startswith("Files:")]
    assert "HEAD is" in line and "rewinds the conversation, not the files" in line


def test_merge_refuses_a_branch_that_did_nothing_and_names_the_project_it_was_made_in(
        project: Path, tmp_path: Path) -> None:
    git_project(project)
    TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "cp1", project=project)
    new = resume_id(cli("branch", "cp1", project=project))
    empty = run_cli("merge", new, "--project", str(project))
    assert empty.returncode == 4, empty.stderr
    assert b"Error: nothing to merge" in empty.stderr and b"Try: " in empty.stderr

    tree = tmp_path / "tree"
    branched = resume_id(cli("branch", "cp1", "--worktree", str(tree), project=project))
    cli("import", project=tree)  # the worktree's own archive: it has no link of the branch
    there = run_cli("merge", branched[:8], "--project", str(tree))
    assert there.returncode == 2, there.stderr
    said = there.stderr.decode()
    assert "may have been branched in another project" in said, said
    assert f"--project {project}" in said and "Try: run the merge there" in said, said


def test_checkpoint_show_and_list_read_as_a_person_would(project: Path) -> None:
    git_project(project)
    origin = TwoTurns(project)
    cli("import", project=project)
    cli("checkpoint", "create", "mine", project=project)
    origin.second_turn()
    cli("import", project=project)
    with open_archive(project) as archive:
        auto = take(archive.db, ORIGIN, "end", ("main", None, None), archive.settings)
    assert auto is not None and auto.name == f"end-{ORIGIN[:8]}-1"
    shown = cli("checkpoint", "show", "mine", project=project)
    assert "Git         main " in shown and "git main" not in shown, shown
    assert "Position    after prompt 1 (byte " in shown, shown
    named = cli("checkpoint", "list", "--named", project=project)
    assert "mine" in named and auto.name not in named, named
    ends = cli("checkpoint", "list", "--reason", "end", project=project)
    assert auto.name in ends and "mine" not in ends, ends
    helped = run_cli("checkpoint", "create", "--help").stdout.decode()
    assert "the checkpoint's name" in helped
