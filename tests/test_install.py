"""install.py end to end: a real venv, real pip, real subprocesses, in a HOME with a space.

Creating the venv and pip-installing the package is the slow part, so it happens once per module
(``installed``); every test that changes a project's settings works on a project of its own and
reuses that venv (a later install only merges settings, imports and runs the wiring check).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from session_core.cli.setup import ignores
from session_core.cli.setup.records import InstallRecords
from session_core.cli.setup.settings_file import SettingsPlan, apply_settings, plan_install
from session_core.cli.setup.settings_file import plan_uninstall as plan_uninstall_of
from session_core.cli.setup.suite import HOOK_SCRIPTS, Suite, Target, load_template

REPO = Path(__file__).resolve().parents[1]
INSTALL = REPO / "install.py"
SAMPLE = (REPO.parent / "shared" / "transcripts" / "claude-code-2.1.328" / "projects"
          / "-home-dev-projects-demo-app" / "3bc69d40-47a5-45ec-99a4-4045ce971599.jsonl")
ARCHIVE_LINE = ".claude/session-core/"

# A foreign key, foreign hooks (one on an event we also use) and 4-space indentation without a
# final newline: only a byte-for-byte restore gets this file back.
FOREIGN = (b'{\n    "model": "sonnet",\n    "hooks": {\n        "PreToolUse": [{"matcher": "Bash",'
           b' "hooks": [{"type": "command", "command": "echo guard"}]}],\n        "SessionStart":'
           b' [{"hooks": [{"type": "command", "command": "echo theirs"}]}]\n    }\n}')


@dataclass(frozen=True)
class Installed:
    """The module's one real installation and its first project."""

    root: Path
    home: Path
    env: dict[str, str]
    project: Path
    first: subprocess.CompletedProcess[str]

    @property
    def data(self) -> Path:
        return self.home / ".local" / "share" / "session-core"


def run_install(env: dict[str, str], *args: str, stdin: str = "",
                umask: int = -1) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(INSTALL), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=900, check=False, umask=umask)


def make_project(root: Path, name: str, settings: bytes | None = None, git: bool = True) -> Path:
    project = root / name
    project.mkdir()
    if git:
        subprocess.run(["git", "init", "-q", str(project)], check=True)
    if settings is not None:
        (project / ".claude").mkdir()
        (project / ".claude" / "settings.local.json").write_bytes(settings)
    return project


def base_env(home: Path) -> dict[str, str]:
    """The caller's environment minus anything that would move our folders, with a fake HOME."""
    keep = {"SESSION_CORE_PIP_ARGS"}
    env = {key: value for key, value in os.environ.items()
           if key in keep or not key.startswith(("SESSION_CORE_", "XDG_", "CLAUDE_"))}
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"))
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("install")
    home = root / "h o m e"
    home.mkdir()
    env = base_env(home)
    project = make_project(root, "my project", FOREIGN)
    if SAMPLE.exists():  # something for the import step to find
        folder = home / ".claude" / "projects" / re.sub(r"[^A-Za-z0-9]", "-", str(project))
        folder.mkdir(parents=True)
        shutil.copy(SAMPLE, folder / SAMPLE.name)
    first = run_install(env, str(project), umask=0)  # the loosest umask a user may have
    assert first.returncode == 0, first.stdout + first.stderr
    return Installed(root, home, env, project, first)


def settings_of(project: Path, name: str = "settings.local.json") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project / ".claude" / name).read_bytes())
    return loaded


def our_commands(settings: dict[str, Any], data: Path) -> list[str]:
    """Every handler of ours, as '<event> <script>'."""
    return [f"{event} {Path(_script(h)).name}" for event, groups in settings["hooks"].items()
            for group in groups for h in group["hooks"]
            if _script(h).startswith(str(data / "hooks"))]


def _script(handler: dict[str, Any]) -> str:
    """The script a handler runs: its first argument that is not an interpreter option."""
    return next((str(a) for a in handler.get("args", []) if not str(a).startswith("-")), "")


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file and folder below the roots."""
    seen: dict[str, tuple[int, int]] = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            info = path.lstat()
            seen[str(path)] = (info.st_size, info.st_mtime_ns)
    return seen


def backup_of(installed: Installed, settings: Path) -> Path:
    """Where the install keeps a settings file's pre-install bytes: in the suite's folder."""
    return Suite(installed.data).backup_of(settings)


def test_first_install_merges_ours_beside_theirs(installed: Installed) -> None:
    settings = settings_of(installed.project)
    assert settings["model"] == "sonnet"
    theirs, ours = settings["hooks"]["PreToolUse"]  # their guard kept, ours beside it
    assert theirs == {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo guard"}]}
    assert ours["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"
    assert ours["hooks"][0]["args"][0] == "-S" and ours["hooks"][0]["args"][2] == "PreToolUse"
    start = settings["hooks"]["SessionStart"]
    assert start[0] == {"hooks": [{"type": "command", "command": "echo theirs"}]}
    assert start[1]["hooks"][0]["command"] == str(installed.data / "venv" / "bin" / "python")
    assert "SessionEnd run.py" in our_commands(settings, installed.data)
    assert "status_line.py" in settings["statusLine"]["command"]
    claude = installed.project / ".claude"
    merged = (claude / "settings.local.json").read_bytes()
    assert backup_of(installed, claude / "settings.local.json").read_bytes() == FOREIGN
    assert sorted(p.name for p in claude.iterdir()) == ["session-core", "settings.local.json"]
    # the user's formatting is kept: 4-space indent, their inline arrays, no final newline
    assert merged.startswith(FOREIGN.split(b'"PreToolUse"')[0]) and not merged.endswith(b"\n")
    assert b'"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo' \
        b' guard"}]}, {"matcher": "Edit|Write' in merged  # their inline array stays inline
    assert b'\n            {\n                "hooks": [\n' in merged
    assert not (installed.project / ".gitignore").exists()  # git's own exclude file serves
    exclude = (installed.project / ".git" / "info" / "exclude").read_text()
    assert exclude.splitlines().count(ARCHIVE_LINE) == 1
    for name in HOOK_SCRIPTS:  # the plugin's entry is the plugin's, not the installer's
        installed_script = installed.data / "hooks" / name
        assert installed_script.read_bytes() == (REPO / "hooks" / name).read_bytes()
    out = installed.first.stdout
    assert "check: SessionStart hook ok" in out and "characters of handoff" in out
    assert "archive: nothing saved yet'" in out and "0 msgs saved" not in out, out  # the probe's
    assert re.search(r"import: (Imported|No transcripts)", out)


def test_nothing_installed_is_writable_by_others_even_at_umask_000(
        installed: Installed) -> None:
    """Any local user who could change the hook scripts or the venv could run code as you."""
    loose = [str(path) for path in [installed.data, *installed.data.rglob("*")]
             if not path.is_symlink() and path.lstat().st_mode & 0o022]
    assert not loose, loose[:10]
    archive = installed.project / ".claude" / "session-core"
    private = [str(path) for path in [archive, *archive.rglob("*")] if path.lstat().st_mode & 0o077]
    assert not private, private


def test_command_is_linked(installed: Installed) -> None:
    link = installed.home / ".local" / "bin" / "session-core"
    assert link.is_symlink()
    done = subprocess.run([str(link), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "session-core" in done.stdout
    assert 'export PATH="$HOME/.local/bin:$PATH"' in installed.first.stdout


def test_second_install_changes_nothing(installed: Installed) -> None:
    watched = [installed.project / ".claude" / "settings.local.json",
               backup_of(installed, installed.project / ".claude" / "settings.local.json"),
               installed.project / ".git" / "info" / "exclude",
               installed.data / "install-state.json",
               installed.data / "venv" / "session-core.stamp"]
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched}
    backups = sorted((installed.project / ".claude").glob("*backup*"))
    again = run_install(installed.env, str(installed.project))
    assert again.returncode == 0, again.stderr
    assert "venv: up to date" in again.stdout and "hooks: up to date" in again.stdout
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched} == before
    assert sorted((installed.project / ".claude").glob("*backup*")) == backups


def test_dry_run_changes_nothing(installed: Installed) -> None:
    project = make_project(installed.root, "dry run", FOREIGN)
    before = snapshot(installed.root)
    shown = run_install(installed.env, str(project), "--dry-run", "--statusline")
    assert shown.returncode == 0, shown.stderr
    assert "+++ " in shown.stdout and "Actions:" in shown.stdout and "echo theirs" in shown.stdout
    for extra in (["--uninstall"], ["--uninstall", "--purge"]):
        done = run_install(installed.env, str(installed.project), "--dry-run", *extra)
        assert done.returncode == 0 and "Actions:" in done.stdout, done.stderr
    assert snapshot(installed.root) == before


def test_uninstall_restores_the_original_bytes(installed: Installed) -> None:
    project = make_project(installed.root, "round trip", FOREIGN)
    assert run_install(installed.env, str(project)).returncode == 0
    done = run_install(installed.env, str(project), "--uninstall")
    assert done.returncode == 0, done.stderr
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN
    assert not backup_of(installed, project / ".claude" / "settings.local.json").exists()
    assert (project / ".claude" / "session-core").is_dir()  # data is kept
    assert (installed.data / "venv").is_dir()


def test_shared_settings_file(installed: Installed) -> None:
    project = make_project(installed.root, "shared one", FOREIGN)
    done = run_install(installed.env, str(project), "--shared", "--yes")
    assert done.returncode == 0, done.stderr
    assert "warning: --shared writes this machine's absolute paths" in done.stderr
    assert "SessionStart run.py" in our_commands(
        settings_of(project, "settings.json"), installed.data)
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN
    assert run_install(installed.env, str(project), "--uninstall", "--shared").returncode == 0
    assert not (project / ".claude" / "settings.json").exists()
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN


def test_missing_settings_file_is_created_then_removed(installed: Installed) -> None:
    project = make_project(installed.root, "no settings", git=False)
    assert run_install(installed.env, str(project)).returncode == 0
    assert our_commands(settings_of(project), installed.data)
    assert not (project / ".gitignore").exists()  # neither git nor a .gitignore: left alone
    assert run_install(installed.env, str(project), "--uninstall").returncode == 0
    assert not (project / ".claude" / "settings.local.json").exists()


def test_purge_deletes_the_archive(installed: Installed) -> None:
    project = make_project(installed.root, "purged", FOREIGN)
    assert run_install(installed.env, str(project)).returncode == 0
    assert (project / ".claude" / "session-core").is_dir()
    asked = run_install(installed.env, str(project), "--uninstall", "--purge", stdin="n\n")
    assert asked.returncode == 0 and "[y/N]" in asked.stdout
    assert (project / ".claude" / "session-core").is_dir()
    assert run_install(installed.env, str(project)).returncode == 0
    done = run_install(installed.env, str(project), "--uninstall", "--purge", "--yes")
    assert done.returncode == 0, done.stderr
    assert not (project / ".claude" / "session-core").exists()
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN


def test_foreign_status_line_kept_then_replaced_and_restored(installed: Installed) -> None:
    original = b'{"statusLine": {"type": "command", "command": "my-status --short"}}\n'
    project = make_project(installed.root, "status line", original)
    kept = run_install(installed.env, str(project))
    assert kept.returncode == 0 and "kept your statusLine" in kept.stdout
    assert settings_of(project)["statusLine"]["command"] == "my-status --short"
    assert run_install(installed.env, str(project), "--statusline").returncode == 0
    assert "status_line.py" in settings_of(project)["statusLine"]["command"]
    assert run_install(installed.env, str(project), "--uninstall").returncode == 0
    assert (project / ".claude" / "settings.local.json").read_bytes() == original


def test_foreign_file_at_the_link_is_left_alone(installed: Installed) -> None:
    other_home = installed.root / "other home"
    (other_home / ".local" / "bin").mkdir(parents=True)
    foreign = other_home / ".local" / "bin" / "session-core"
    foreign.write_text("#!/bin/sh\necho mine\n")
    env = {**base_env(other_home), "XDG_DATA_HOME": str(installed.home / ".local" / "share")}
    done = run_install(env, str(make_project(installed.root, "other", git=False)))
    assert done.returncode == 0, done.stderr
    assert "venv: up to date" in done.stdout and "is not ours; left alone" in done.stdout
    assert foreign.read_text() == "#!/bin/sh\necho mine\n"


def test_errors_name_the_problem_and_change_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h o m e"
    env = {**base_env(home), "XDG_DATA_HOME": str(tmp_path / "x d g")}
    project = make_project(tmp_path, "broken", b"{not json")
    done = run_install(env, str(project))
    assert done.returncode == 8 and done.stderr.startswith("Error: ") and "\nTry: " in done.stderr
    assert (project / ".claude" / "settings.local.json").read_bytes() == b"{not json"
    missing = run_install(env, str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and missing.stderr.startswith("Error: ")
    shown = run_install(env, str(make_project(tmp_path, "fresh")), "--dry-run")
    assert shown.returncode == 0
    assert str(tmp_path / "x d g" / "session-core" / "venv") in shown.stdout
    assert not (tmp_path / "x d g").exists() and not home.exists()


def test_merge_keeps_position_and_strips_mixed_groups(tmp_path: Path) -> None:
    """Pure merge logic: a re-install replaces our group in place; a foreign group that someone
    mixed our handler into keeps its own handlers and loses only ours."""
    suite = Suite(tmp_path / "data")
    ours = {"type": "command", "command": str(suite.python),
            "args": [f"{suite.hooks}/session_loader.py", "SessionStart"], "timeout": 3}
    theirs = {"type": "command", "command": "echo theirs"}
    settings = {"hooks": {"SessionStart": [{"hooks": [ours]}, {"hooks": [theirs]},
                                           {"hooks": [theirs, ours]}]}}
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.local.json").write_text(json.dumps(settings))
    plan = plan_install(suite, Target(project, False), load_template(suite, REPO), False,
                        InstallRecords(suite.state, {}))
    assert plan.new is not None
    merged = json.loads(plan.new)["hooks"]["SessionStart"]
    assert merged[0]["hooks"][0]["timeout"] == 10  # ours, updated where it was
    assert merged[1:] == [{"hooks": [theirs]}, {"hooks": [theirs]}]


# --- bugs a review reproduced ------------------------------------------------------------------


def git_out(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                          check=True).stdout


def test_created_local_settings_stays_out_of_git_status(installed: Installed) -> None:
    """settings.local.json holds this user's absolute paths: one the installer creates in a git
    work tree goes into .git/info/exclude (not committed), once; uninstall leaves the line."""
    project = make_project(installed.root, "fresh git")
    done = run_install(installed.env, str(project))
    assert done.returncode == 0, done.stderr
    assert "settings.local.json" not in git_out(project, "status", "--porcelain", "-uall")
    exclude = project / ".git" / "info" / "exclude"
    assert exclude.read_text().splitlines().count(".claude/settings.local.json") == 1
    assert "exclude: added .claude/settings.local.json" in done.stdout
    again = run_install(installed.env, str(project))
    assert again.returncode == 0 and "exclude:" not in again.stdout, again.stderr
    assert run_install(installed.env, str(project), "--uninstall").returncode == 0
    assert not (project / ".claude" / "settings.local.json").exists()
    assert exclude.read_text().splitlines().count(".claude/settings.local.json") == 1
    # a file that existed before the install is the user's business: no exclude line
    theirs = make_project(installed.root, "own settings", FOREIGN)
    assert run_install(installed.env, str(theirs)).returncode == 0
    assert ".claude/settings.local.json" not in (theirs / ".git/info/exclude").read_text()


def exclude_settings(project: Path) -> list[str]:
    """What the install does for a settings.local.json it creates: the lines it adds."""
    added = []
    for entry in ignores.needed(project, created_local_settings=True):
        if entry.line.endswith("settings.local.json"):
            ignores.add(entry)
            added.append(f"exclude: added {entry.line} to {entry.file}")
    return added


def test_exclude_finds_the_git_dir_of_worktrees_and_subfolders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = make_project(tmp_path, "main repo")
    subprocess.run(["git", "-C", str(main), "-c", "user.name=t", "-c", "user.email=t@t", "commit",
                    "-q", "--allow-empty", "-m", "init"], check=True)
    worktree = tmp_path / "work tree"
    subprocess.run(["git", "-C", str(main), "worktree", "add", "-q", "--detach",
                    str(worktree)], check=True)
    inner = main / "sub [1]"
    for project in (worktree, inner):  # a .git file; a project below the top folder
        (project / ".claude").mkdir(parents=True)
        (project / ".claude" / "settings.local.json").write_text("{}\n")
        assert "settings.local.json" in git_out(project, "status", "--porcelain", "-uall")
        lines = exclude_settings(project)
        assert lines and lines[0].startswith("exclude: added"), lines
        assert "settings.local.json" not in git_out(project, "status", "--porcelain", "-uall")
        assert exclude_settings(project) == []
    exclude = (main / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude[-2:] == [".claude/settings.local.json", "/sub \\[1]/.claude/settings.local.json"]
    # already ignored by the project's own .gitignore: nothing added
    covered = make_project(tmp_path, "covered")
    (covered / ".gitignore").write_text(".claude/\n")
    assert exclude_settings(covered) == []
    # without git on PATH: the .git file of a worktree still leads to the common info/exclude
    monkeypatch.setattr(ignores, "git", lambda *args: None)
    (main / ".git" / "info" / "exclude").write_text("")
    lines = exclude_settings(worktree)
    assert lines and str(main / ".git" / "info" / "exclude") in lines[0], lines
    assert exclude_settings(worktree) == []


def settings_plan_run(suite: Suite, project: Path, shared: bool = False,
                      statusline: bool = False, uninstall: bool = False) -> SettingsPlan:
    """One install or uninstall of the settings file alone (no venv, hooks or wiring check)."""
    target = Target(project, shared)
    records = InstallRecords.load(suite.state, suite_in_use=False)
    if uninstall:
        plan = plan_uninstall_of(suite, target, records)
    else:
        plan = plan_install(suite, target, load_template(suite, REPO), statusline, records)
    apply_settings(plan, suite, records)
    records.save()
    return plan


def test_symlinked_settings_file_stays_a_symlink(tmp_path: Path) -> None:
    suite = Suite(tmp_path / "data")
    dotfiles = tmp_path / "dot files"
    dotfiles.mkdir()
    real = dotfiles / "claude-settings.json"
    real.write_bytes(FOREIGN)
    project = tmp_path / "linked"
    (project / ".claude").mkdir(parents=True)
    link = project / ".claude" / "settings.json"
    link.symlink_to(real)
    settings_plan_run(suite, project, shared=True)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "hooks" in json.loads(real.read_bytes()) and real.read_bytes() != FOREIGN
    settings_plan_run(suite, project, shared=True, uninstall=True)
    assert link.is_symlink() and real.read_bytes() == FOREIGN
    # a dangling link: the file it names is created, then removed; the link stays as it was
    dangling = project / ".claude" / "settings.local.json"
    dangling.symlink_to(dotfiles / "local.json")
    settings_plan_run(suite, project)
    assert dangling.is_symlink() and (dotfiles / "local.json").is_file()
    settings_plan_run(suite, project, uninstall=True)
    assert dangling.is_symlink() and not (dotfiles / "local.json").exists()
    assert sorted(p.name for p in dotfiles.iterdir()) == ["claude-settings.json"]  # no temp file


STATUS = b'{\n  "model": "opus",\n  "statusLine": {"type": "command", "command": "my-status"}\n}\n'


@pytest.mark.parametrize("lost", ["project moved", "state lost"])
def test_replaced_status_line_comes_back_without_the_state_record(tmp_path: Path,
                                                                  lost: str) -> None:
    suite = Suite(tmp_path / "data")
    project = tmp_path / "old place"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.local.json").write_bytes(STATUS)
    settings_plan_run(suite, project, statusline=True)
    assert "status_line.py" in settings_of(project)["statusLine"]["command"]
    if lost == "project moved":
        project = project.rename(tmp_path / "new place")
        settings_plan_run(suite, project)  # a re-install after the move, too
    else:
        suite.state.unlink()
    settings_plan_run(suite, project, uninstall=True)
    assert (project / ".claude" / "settings.local.json").read_bytes() == STATUS


@pytest.mark.parametrize("theirs", [b'{\n\t"statusLine": {"type": "command", "command": "mine"}\n}',
                                    b"{}"])
def test_one_projects_uninstall_never_takes_another_projects_copy(tmp_path: Path,
                                                                  theirs: bytes) -> None:
    """Project A had no settings file; B's pre-install copy holds the same user settings as
    A's file once ours are out. Uninstalling A removes the file the install created, and B
    still gets its own bytes back."""
    suite = Suite(tmp_path / "data")
    b, a = tmp_path / "B", tmp_path / "A"
    (b / ".claude").mkdir(parents=True)
    (b / ".claude" / "settings.local.json").write_bytes(theirs)
    settings_plan_run(suite, b, statusline=b"statusLine" in theirs)
    (a / ".claude").mkdir(parents=True)
    settings_plan_run(suite, a)
    settings_plan_run(suite, a, uninstall=True)
    assert not (a / ".claude" / "settings.local.json").exists()
    settings_plan_run(suite, b, uninstall=True)
    assert (b / ".claude" / "settings.local.json").read_bytes() == theirs


def test_a_copy_another_projects_file_still_owns_is_never_taken(tmp_path: Path) -> None:
    """Project A's own pre-install copy is gone; B's holds the same settings. B still has its
    file, so the copy is B's: uninstalling A leaves it, and B gets its exact bytes back."""
    suite = Suite(tmp_path / "data")
    a, b = tmp_path / "A", tmp_path / "B"
    for project in (b, a):
        (project / ".claude").mkdir(parents=True)
        (project / ".claude" / "settings.local.json").write_bytes(b"{}")
        settings_plan_run(suite, project)
    suite.backup_of(a / ".claude" / "settings.local.json").unlink()
    settings_plan_run(suite, a, uninstall=True)
    assert json.loads((a / ".claude" / "settings.local.json").read_bytes()) == {}
    settings_plan_run(suite, b, uninstall=True)
    assert (b / ".claude" / "settings.local.json").read_bytes() == b"{}"


def test_shared_asks_first_and_says_why(installed: Installed) -> None:
    project = make_project(installed.root, "shared asked", FOREIGN)
    before = snapshot(project)
    declined = run_install(installed.env, str(project), "--shared", stdin="n\n")
    assert declined.returncode == 2 and "[y/N]" in declined.stdout
    assert "absolute paths" in declined.stderr and "each teammate must" in declined.stderr
    assert str(installed.data / "venv" / "bin" / "python") in declined.stderr
    assert "Error: --shared was not confirmed" in declined.stderr
    no_tty = run_install(installed.env, str(project), "--shared")
    assert no_tty.returncode == 2, no_tty.stdout
    assert snapshot(project) == before
    agreed = run_install(installed.env, str(project), "--shared", stdin="y\n")
    assert agreed.returncode == 0, agreed.stderr
    assert our_commands(settings_of(project, "settings.json"), installed.data)
    shown = run_install(installed.env, "--help")
    assert "--shared" in shown.stdout and "teammate must" in shown.stdout.replace("\n", " ")


def test_pip_builds_a_copy_and_leaves_the_checkout_clean(installed: Installed) -> None:
    """pip builds a local folder in place: setuptools would leave build/ and *.egg-info in the
    checkout, and reinstall a module deleted from it out of build/lib."""
    checkout = installed.root / "check out"
    checkout.mkdir()
    for name in ("install.py", "pyproject.toml", "README.md", "settings.template.json"):
        shutil.copy(REPO / name, checkout / name)
    for name in ("session_core", "hooks"):
        shutil.copytree(REPO / name, checkout / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    stale = checkout / "session_core" / "zz_stale.py"
    stale.write_text("X = 1\n")
    project = make_project(installed.root, "from a copy", git=False)
    python = str(installed.data / "venv" / "bin" / "python")
    first = subprocess.run([sys.executable, str(checkout / "install.py"), str(project)],
                           env=installed.env, capture_output=True, text=True, check=False)
    assert first.returncode == 0 and "venv: installed" in first.stdout, first.stderr
    assert subprocess.run([python, "-I", "-c", "import session_core.zz_stale"],
                          check=False).returncode == 0
    stale.unlink()
    second = subprocess.run([sys.executable, str(checkout / "install.py"), str(project)],
                            env=installed.env, capture_output=True, text=True, check=False)
    assert second.returncode == 0 and "venv: installed" in second.stdout, second.stderr
    assert subprocess.run([python, "-I", "-c", "import session_core.zz_stale"], capture_output=True,
                          check=False).returncode != 0
    assert sorted(p.name for p in checkout.iterdir()) == [
        "README.md", "hooks", "install.py", "pyproject.toml", "session_core",
        "settings.template.json"]


def test_hooks_folder_follows_the_hook_runtime_rule(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring check looks for health.json where the hooks put it: archive_dir_for's rule
    (realpath of SESSION_CORE_DATA_DIR) evaluated in the project, the hooks' working folder."""
    from session_core.base.locations import archive_dir as archive_dir_for

    project = tmp_path / "proj"
    project.mkdir()
    (tmp_path / "real data").mkdir()
    (tmp_path / "linked data").symlink_to(tmp_path / "real data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the installer's own working folder must not matter
    for value in ("", str(tmp_path / "linked data"), "rel/data", "../linked data", "~/x"):
        monkeypatch.setenv("SESSION_CORE_DATA_DIR", value)
        got = Target(project, False).archive
        monkeypatch.chdir(project)
        want = archive_dir_for(str(project))
        monkeypatch.chdir(elsewhere)
        assert got == Path(want), value


def fake_claude(root: Path, version: str) -> dict[str, str]:
    """PATH with a ``claude`` that only knows ``--version``."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    script = bin_dir / "claude"
    script.write_text(f"#!/bin/sh\necho '{version} (Claude Code)'\n")
    script.chmod(0o755)
    home = root / "installer home"
    home.mkdir()
    env = base_env(home)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_a_claude_code_too_old_for_exec_form_hooks_is_refused_unless_confirmed(
        tmp_path: Path) -> None:
    env = fake_claude(tmp_path, "2.1.100")
    project = make_project(tmp_path, "old claude", FOREIGN)
    refused = run_install(env, str(project))  # no answer at the prompt: no
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "2.1.100" in refused.stderr and "Try: update it" in refused.stderr
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN
    assert not (tmp_path / "installer home" / ".local").exists()  # no venv built either
    dry = run_install(env, "--dry-run", str(project))
    assert dry.returncode == 0 and "older than 2.1.139" in dry.stdout + dry.stderr


def test_a_recent_claude_code_is_named_in_the_plan(tmp_path: Path) -> None:
    env = fake_claude(tmp_path, "2.1.330")
    project = make_project(tmp_path, "new claude")
    dry = run_install(env, "--dry-run", str(project))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "claude: 2.1.330 runs exec-form hooks" in dry.stdout


# --- the installer in the package: session-core install / uninstall ------------------------------


def session_core(installed: Installed, *args: str, stdin: str = "",
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed suite's own command, as a user runs it once install.py has run."""
    cli = installed.data / "venv" / "bin" / "session-core"
    return subprocess.run([str(cli), *args], env=env or installed.env, input=stdin,
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_installed_command_installs_into_another_project_without_the_checkout(
        installed: Installed) -> None:
    project = make_project(installed.root, "second project", FOREIGN)
    done = session_core(installed, "install", str(project))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check: SessionStart hook ok" in done.stdout and "hooks: up to date" in done.stdout
    assert "SessionStart run.py" in our_commands(settings_of(project), installed.data)
    assert session_core(installed, "uninstall", str(project)).returncode == 0
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN


def test_purge_takes_out_every_line_and_folder_the_install_added(installed: Installed) -> None:
    """A git project with no .claude/ and an exclude file of its own: afterwards exactly what
    was there before, byte for byte, and nothing of ours left in the project."""
    project = make_project(installed.root, "leave no trace")
    exclude = project / ".git" / "info" / "exclude"
    exclude.write_bytes(b"# mine\n*.swp")  # no final newline: ours is appended after one
    before = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    done = run_install(installed.env, str(project))
    assert done.returncode == 0, done.stderr
    lines = exclude.read_text().splitlines()
    assert lines[:2] == ["# mine", "*.swp"] and ".claude/session-core/" in lines
    assert ".claude/settings.local.json" in lines
    assert "settings.local.json" not in git_out(project, "status", "--porcelain", "-uall")
    purged = session_core(installed, "uninstall", str(project), "--purge", "--yes")
    assert purged.returncode == 0, purged.stderr
    after = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before, sorted(set(after) ^ set(before))
    assert not (project / ".claude").exists()
    assert "purge: took .claude/session-core/ out of" in purged.stdout
    assert str(installed.data) in purged.stdout  # other projects still use the suite: it stays
    assert (installed.data / "venv").is_dir()


def test_uninstalling_the_last_project_with_purge_takes_the_suite_too(tmp_path: Path) -> None:
    home = tmp_path / "one user"
    env = base_env(home)
    project = make_project(tmp_path, "only project", FOREIGN)
    assert run_install(env, str(project)).returncode == 0
    data = home / ".local" / "share" / "session-core"
    assert (data / "venv").is_dir() and (home / ".local" / "bin" / "session-core").is_symlink()
    dry = run_install(env, str(project), "--uninstall", "--purge", "--dry-run")
    assert f"purge: would remove {data} (no other project uses it)" in dry.stdout, dry.stdout
    assert (data / "venv").is_dir()
    done = run_install(env, str(project), "--uninstall", "--purge", "--yes")
    assert done.returncode == 0, done.stderr
    assert not data.exists() and not (home / ".local" / "bin" / "session-core").exists()
    assert not (home / ".local" / "state" / "session-core").exists()
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN
    assert sorted(p.name for p in (project / ".claude").iterdir()) == ["settings.local.json"]


def test_an_install_of_an_earlier_version_is_migrated(installed: Installed) -> None:
    """Earlier versions wired one script per role and kept the settings file's copy beside it:
    a re-install rewires to run.py, keeps old script names working for projects not yet
    re-installed, and moves the copy out of the project; uninstall still restores the bytes."""
    project = make_project(installed.root, "old install", FOREIGN)
    hooks = installed.data / "hooks"
    old = json.loads(FOREIGN)
    python = str(installed.data / "venv" / "bin" / "python")
    for event, script in (("SessionStart", "session_loader.py"), ("Stop", "session_saver.py")):
        old["hooks"].setdefault(event, []).append({"hooks": [
            {"type": "command", "command": python, "args": [f"{hooks}/{script}", event]}]})
        (hooks / script).write_text("from session_core.hookrun import main\n")
    settings = project / ".claude" / "settings.local.json"
    settings.write_text(json.dumps(old, indent=2) + "\n")
    legacy_copy = settings.with_name("settings.local.json.session-core-backup")
    legacy_copy.write_bytes(FOREIGN)
    done = run_install(installed.env, str(project))
    assert done.returncode == 0, done.stderr
    commands = our_commands(settings_of(project), installed.data)
    assert commands and all(c.endswith(" recall.py" if c.startswith(("PreToolUse",
                                                                       "PostToolUseFailure"))
                                       else " run.py") for c in commands), commands
    for script in ("session_loader.py", "session_saver.py"):
        assert (hooks / script).read_bytes() == (REPO / "hooks" / "run.py").read_bytes()
    assert not legacy_copy.exists() and backup_of(installed, settings).read_bytes() == FOREIGN
    # another project wired by the earlier version, not re-installed yet, still saves
    other = make_project(installed.root, "not re-installed", git=False)
    transcript = other / "55604662-cf2a-4331-851a-ec234028f8ca.jsonl"
    shutil.copy(REPO / "tests" / "fixtures" / "short.jsonl", transcript)
    payload = json.dumps({"session_id": transcript.stem, "transcript_path": str(transcript),
                          "cwd": str(other)})
    saved = subprocess.run([python, str(hooks / "session_saver.py"), "Stop"], input=payload,
                           capture_output=True, text=True, timeout=60, check=False,
                           env={**installed.env, "CLAUDE_PROJECT_DIR": str(other)})
    assert saved.returncode == 0 and saved.stdout == "", saved.stderr
    assert (other / ".claude" / "session-core" / "archive.db").is_file()
    assert run_install(installed.env, str(project), "--uninstall").returncode == 0
    assert settings.read_bytes() == FOREIGN


def test_an_archive_folder_of_the_users_choosing_keeps_what_is_not_ours(
        installed: Installed) -> None:
    """SESSION_CORE_DATA_DIR puts the archive out of the project, which has no .claude/ yet:
    the install creates what it needs (and excludes nothing it did not put in the project);
    the purge takes the archive and leaves the folder's other files, and the project as it
    was."""
    project = make_project(installed.root, "archive elsewhere")
    data = installed.root / "my data"
    for mine in ("NOTES.txt", "backups/taxes.pdf", "live/setlist.txt"):
        (data / mine).parent.mkdir(parents=True, exist_ok=True)
        (data / mine).write_text("mine")
    env = {**installed.env, "SESSION_CORE_DATA_DIR": str(data)}
    done = session_core(installed, "install", str(project), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data / "archive.db").is_file() and (project / ".claude").is_dir()
    assert f"SESSION_CORE_DATA_DIR puts this archive in {data}" in done.stdout
    assert f"into {data}." in done.stdout
    excluded = (project / ".git" / "info" / "exclude").read_text().splitlines()
    assert ".claude/settings.local.json" in excluded
    assert not [line for line in excluded if "session-core" in line]
    assert session_core(installed, "backup", "--project", str(project), env=env).returncode == 0
    assert len(list((data / "backups").iterdir())) == 2
    purged = session_core(installed, "uninstall", str(project), "--purge", "--yes", env=env)
    assert purged.returncode == 0, purged.stderr
    assert sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file()) == [
        "NOTES.txt", "backups/taxes.pdf", "live/setlist.txt"]
    assert "the folder stays" in purged.stdout
    assert not (project / ".claude").exists()


def test_an_update_upgrades_the_archives_of_every_installed_project(installed: Installed) -> None:
    """Hooks never upgrade an archive: the install that brings a new version upgrades every
    other project the suite is installed in, or their hooks would stop saving until a command
    ran there."""
    older = make_project(installed.root, "archive of an older version", FOREIGN)
    assert session_core(installed, "install", str(older)).returncode == 0
    archive = older / ".claude" / "session-core" / "archive.db"
    shutil.copyfile(REPO / "tests" / "fixtures" / "archive_v2" / "archive.db", archive)
    newer = make_project(installed.root, "installed after the update", FOREIGN)
    done = session_core(installed, "install", str(newer))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"upgrade: Upgraded {archive} from schema v2" in done.stdout
    with sqlite3.connect(archive) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] > 2
    again = session_core(installed, "install", str(newer))
    assert "Upgraded" not in again.stdout
    for project in (older, newer):
        assert session_core(installed, "uninstall", str(project)).returncode == 0


def test_what_claude_code_writes_to_the_settings_during_the_install_is_kept(
        installed: Installed) -> None:
    """The import and the wiring check take a while; a permission Claude Code grants
    meanwhile (it writes settings.local.json) survives the install's own write."""
    project = make_project(installed.root, "granted meanwhile", FOREIGN)
    settings = project / ".claude" / "settings.local.json"
    cli = installed.data / "venv" / "bin" / "session-core"
    real = cli.with_name("session-core.real")
    granted = json.dumps({**json.loads(FOREIGN), "permissions": {"allow": ["Bash(ls)"]}})
    cli.rename(real)
    try:
        cli.write_text(f'#!/bin/sh\nif [ "$1" = import ]; then printf %s {shlex.quote(granted)}'
                       f" > {shlex.quote(str(settings))}; fi\nexec {shlex.quote(str(real))}"
                       ' "$@"\n')
        cli.chmod(0o755)
        done = subprocess.run([str(real), "install", str(project)], env=installed.env,
                              capture_output=True, text=True, timeout=600, check=False)
    finally:
        real.replace(cli)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("check: SessionStart hook ok") == 1  # ours did not change
    after = settings_of(project)
    assert after["permissions"] == {"allow": ["Bash(ls)"]}
    assert "SessionStart run.py" in our_commands(after, installed.data)
    assert session_core(installed, "uninstall", str(project)).returncode == 0
    assert settings_of(project)["permissions"] == {"allow": ["Bash(ls)"]}


def test_a_purge_without_install_records_keeps_the_suite_other_projects_use(
        installed: Installed) -> None:
    """The records say which projects run their hooks from the suite; once they were lost,
    no purge can know it is the last (not even after an install wrote new records), and
    the suite stays."""
    state = Suite(installed.data).state
    kept = state.with_name("kept-aside.json")
    state.rename(kept)
    project = make_project(installed.root, "records lost", FOREIGN)
    try:
        assert session_core(installed, "install", str(project)).returncode == 0
        done = session_core(installed, "uninstall", str(project), "--purge", "--yes")
        assert done.returncode == 0, done.stderr
        assert "were missing or damaged" in done.stdout
        assert (installed.data / "venv" / "bin" / "python").exists()
    finally:
        kept.replace(state)
    assert (project / ".claude" / "settings.local.json").read_bytes() == FOREIGN
