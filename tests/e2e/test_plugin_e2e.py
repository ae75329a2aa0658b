"""Issue 13, item 6, with the real client: the repository as a Claude Code plugin, added as a
local marketplace and installed with the client's own plugin commands in a fresh HOME. The
first session runs before the plugin's virtual environment exists (its hooks only note it and
start the build); once the build is done, that session is archived in the project, and the next
session's first request carries its handoff, as with install.py. Then the status line, which a
plugin cannot ship, as the README says to add it by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from session_core.cli.setup import plugin

from ..conftest import REPO
from .claude_harness import TmuxSession, claude_binary, claude_env, run_claude, transcripts
from .fake_api import FakeAnthropic, text
from .test_suite_e2e import FIRST_PROMPT, run_session_one, session_core

PLUGIN, MARKETPLACE = "session-core", "claude-session-core"
README = REPO / "README.md"
BUILD_DEADLINE_S = 900
"""Only against a hang: the build is a venv and a pip install (the index or a wheel cache)."""


def plugin_checkout(dest: Path) -> Path:
    """The checkout as a user clones it: the files git tracks or would (installing a plugin
    from a folder copies all of it; a working copy's .venv and node_modules stay out)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=REPO, capture_output=True, check=True)
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def claude_plugin(home: Path, fake: FakeAnthropic, *args: str) -> str:
    done = subprocess.run([str(claude_binary()), "plugin", *args], cwd=home,
                          env=claude_env(home, fake), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_until_caught_up(data: Path) -> None:
    """The worker marked the environment ready and archived every session it was told of."""
    deadline = time.monotonic() + BUILD_DEADLINE_S
    while time.monotonic() < deadline:
        pending = list((data / "pending").glob("*.json"))
        if (data / "ready").is_file() and not pending and not plugin.worker_running(data):
            return
        if (data / "build-failed").is_file():
            break
        time.sleep(0.5)
    log = data / "worker.log"
    raise AssertionError("the plugin's worker did not finish:\n"
                         + (log.read_text() if log.is_file() else "(no worker.log)"))


def test_the_plugin_archives_a_session_and_hands_the_next_one_its_note(
        tmp_path: Path, git_project: Path, claude_home: Path, fake_api: FakeAnthropic) -> None:
    source = plugin_checkout(tmp_path / "plugin source")
    claude_plugin(claude_home, fake_api, "marketplace", "add", str(source))
    claude_plugin(claude_home, fake_api, "install", f"{PLUGIN}@{MARKETPLACE}")
    assert f"{PLUGIN}@{MARKETPLACE}" in claude_plugin(claude_home, fake_api, "list", "--json")
    data = claude_home / ".claude" / "plugins" / "data" / f"{PLUGIN}-{MARKETPLACE}"

    transcript = run_session_one(git_project, claude_home, fake_api)  # before the venv exists
    wait_until_caught_up(data)
    assert (git_project / ".claude" / "session-core" / "archive.db").is_file()
    assert not (git_project / ".claude" / "settings.local.json").exists()  # nothing installed
    status = subprocess.run(["git", "status", "--porcelain", "-uall"], cwd=git_project,
                            capture_output=True, text=True, check=True).stdout
    assert ".claude/" not in status and "retry.py" in status  # the archive is kept out of git

    before = len(fake_api.main_requests())
    fake_api.extend([text("Picking up where we left off.")])
    second = run_claude(git_project, claude_home, "what is left to do?", fake=fake_api)
    assert second.returncode == 0, second.stderr
    first_request = json.dumps(fake_api.main_requests()[before], ensure_ascii=False)
    for needle in ("retry.py", "README.md", "Write tests for retry",
                   "Wire retry into fetch_user", FIRST_PROMPT, transcript.stem):
        assert needle in first_request, needle
    archived = session_core("list", "--json", "--project", str(git_project))
    assert archived.returncode == 0, archived.stderr
    sessions = {s["uuid"] for s in json.loads(archived.stdout)}
    assert sessions == {t.stem for t in transcripts(claude_home, git_project)}  # both of them
    assert len(sessions) == 2

    # The status line a plugin cannot ship, added by hand as the README shows.
    settings = claude_home / ".claude" / "settings.json"
    merged = {**json.loads(settings.read_text()), "statusLine": readme_status_line()}
    settings.write_text(json.dumps(merged, indent=2))
    fake_api.extend([text("Hi there.")])
    with TmuxSession(git_project, claude_home, fake=fake_api) as tmux:
        tmux.wait_for("archive: nothing saved yet", timeout=60)  # the line runs, reads ours
        tmux.type_text("hello", enter=True)
        tmux.wait_for("Hi there.", timeout=30)
        tmux.wait_for(re.compile(r"[1-9]\d* msgs saved"), timeout=60)  # and follows the saves


def readme_status_line() -> dict[str, object]:
    """The ``statusLine`` of the README's plugin section, as a user copies it."""
    section = README.read_text(encoding="utf-8").split("## As a Claude Code plugin", 1)[1]
    block = section.split("```json", 1)[1].split("```", 1)[0]
    line: dict[str, object] = json.loads("{" + block + "}")["statusLine"]
    return line
