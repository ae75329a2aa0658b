"""install.py end to end: a real venv, real pip, real subprocesses, in a HOME with a space.

Creating the venv and pip-installing the package is the slow part, so it happens once per module
(``installed``); every test that changes a project's settings works on a project of its own and
reuses that venv (a later install only merges settings, imports and runs the wiring check).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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


def run_install(env: dict[str, str], *args: str,
                stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(INSTALL), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=900, check=False)


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
    first = run_install(env, str(project))
    assert first.returncode == 0, first.stdout + first.stderr
    return Installed(root, home, env, project, first)


def settings_of(project: Path, name: str = "settings.local.json") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project / ".claude" / name).read_bytes())
    return loaded


def our_commands(settings: dict[str, Any], data: Path) -> list[str]:
    """Every handler of ours, as '<event> <script>'."""
    return [f"{event} {Path(h['args'][0]).name}" for event, groups in settings["hooks"].items()
            for group in groups for h in group["hooks"]
            if str(h.get("args", [""])[0]).startswith(str(data / "hooks"))]


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file and folder below the roots."""
    seen: dict[str, tuple[int, int]] = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            info = path.lstat()
            seen[str(path)] = (info.st_size, info.st_mtime_ns)
    return seen


def load_installer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("session_core_install", INSTALL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_first_install_merges_ours_beside_theirs(installed: Installed) -> None:
    settings = settings_of(installed.project)
    assert settings["model"] == "sonnet"
    assert settings["hooks"]["PreToolUse"] == [
        {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo guard"}]}]
    start = settings["hooks"]["SessionStart"]
    assert start[0] == {"hooks": [{"type": "command", "command": "echo theirs"}]}
    assert start[1]["hooks"][0]["command"] == str(installed.data / "venv" / "bin" / "python")
    assert "SessionEnd session_saver.py" in our_commands(settings, installed.data)
    assert "status_line.py" in settings["statusLine"]["command"]
    claude = installed.project / ".claude"
    assert (claude / "settings.local.json.session-core-backup").read_bytes() == FOREIGN
    assert (claude / "settings.local.json").read_bytes().endswith(b"}\n")
    gitignore = (installed.project / ".gitignore").read_text()
    assert gitignore.splitlines().count(ARCHIVE_LINE) == 1
    for script in (REPO / "hooks").glob("*.py"):
        assert (installed.data / "hooks" / script.name).read_bytes() == script.read_bytes()
    out = installed.first.stdout
    assert "check: SessionStart hook ok" in out and "characters of handoff" in out
    assert re.search(r"import: (Imported|No transcripts)", out)


def test_command_is_linked(installed: Installed) -> None:
    link = installed.home / ".local" / "bin" / "session-core"
    assert link.is_symlink()
    done = subprocess.run([str(link), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "session-core" in done.stdout
    assert 'export PATH="$HOME/.local/bin:$PATH"' in installed.first.stdout


def test_second_install_changes_nothing(installed: Installed) -> None:
    watched = [installed.project / ".claude" / "settings.local.json",
               installed.project / ".claude" / "settings.local.json.session-core-backup",
               installed.project / ".gitignore", installed.data / "install-state.json",
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
    assert not (project / ".claude" / "settings.local.json.session-core-backup").exists()
    assert (project / ".claude" / "session-core").is_dir()  # data is kept
    assert (installed.data / "venv").is_dir()


def test_shared_settings_file(installed: Installed) -> None:
    project = make_project(installed.root, "shared one", FOREIGN)
    done = run_install(installed.env, str(project), "--shared")
    assert done.returncode == 0, done.stderr
    assert "SessionStart session_loader.py" in our_commands(
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
    installer = load_installer()
    layout = installer.Layout(REPO, tmp_path / "data")
    ours = {"type": "command", "command": str(layout.python),
            "args": [f"{layout.hooks}/session_loader.py", "SessionStart"], "timeout": 3}
    theirs = {"type": "command", "command": "echo theirs"}
    settings = {"hooks": {"SessionStart": [{"hooks": [ours]}, {"hooks": [theirs]},
                                           {"hooks": [theirs, ours]}]}}
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.local.json").write_text(json.dumps(settings))
    target = installer.Target(project, False)
    plan = installer.plan_install(layout, target, installer.load_template(layout), False,
                                  {"settings": {}})
    merged = json.loads(plan.new)["hooks"]["SessionStart"]
    assert merged[0]["hooks"][0]["timeout"] == 10  # ours, updated where it was
    assert merged[1:] == [{"hooks": [theirs]}, {"hooks": [theirs]}]
