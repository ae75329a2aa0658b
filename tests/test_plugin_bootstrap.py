"""The plugin's bootstrap (hooks/plugin_entry.py, session_core.cli.setup.plugin): while the
virtual environment does not exist a hook exits 0 at once, prints nothing and notes its session;
one worker at a time builds it; once it is ready the entry hands the hook, stdin and all, to its
python; the worker archives what the notes name. hooks/hooks.json is settings.template.json's
hooks through the entry."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from session_core.cli.setup import plugin

from .conftest import FIXTURES, REPO, run_cli

ENTRY = REPO / "hooks" / "plugin_entry.py"
HOOKS = "${CLAUDE_PLUGIN_ROOT}/hooks"
SESSION = "55604662-cf2a-4331-851a-ec234028f8ca"  # tests/fixtures/short.jsonl's


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "plugin data"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A plugin root with what the entry looks at (the signed files, the package) and a hook
    script that echoes its arguments and stdin."""
    folder = tmp_path / "plugin root"
    (folder / ".claude-plugin").mkdir(parents=True)
    (folder / "hooks").mkdir()
    (folder / "session_core").symlink_to(REPO / "session_core")  # what the cold path runs
    (folder / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (folder / ".claude-plugin" / "plugin.json").write_text('{"name": "x"}\n')
    (folder / "hooks" / "echo.py").write_text(
        "import sys\nsys.stdout.write(repr(sys.argv[1:]) + sys.stdin.read())\n")
    return folder


def entry(args: list[str], data: Path, root: Path, stdin: bytes = b"",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The entry as Claude Code runs a plugin hook (hooks/hooks.json's command)."""
    environ = {**clean_env(), "CLAUDE_PLUGIN_DATA": str(data), "CLAUDE_PLUGIN_ROOT": str(root),
               **(env or {})}
    return subprocess.run([sys.executable, "-I", "-S", str(ENTRY), *args], input=stdin,
                          env=environ, capture_output=True, timeout=60, check=False)


def clean_env() -> dict[str, str]:
    """No CLAUDE* variable of a Claude Code session the tests may run in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE")}


def payload(project: Path, event: str = "Stop") -> bytes:
    return json.dumps({"session_id": SESSION, "hook_event_name": event, "cwd": str(project),
                       "transcript_path": f"/somewhere/{SESSION}.jsonl"}).encode()


def hold_the_worker_lock(data: Path) -> Any:
    """What a running worker holds: while it is held no entry starts another worker."""
    return plugin.worker_lock(data)


def test_hooks_json_is_the_templates_hooks_through_the_entry() -> None:
    wanted = plugin.hooks_json(REPO)
    assert (REPO / "hooks" / "hooks.json").read_text(encoding="utf-8") == wanted, \
        "hooks/hooks.json is out of date: run python -m session_core.cli.setup.plugin"
    hooks = json.loads(wanted)["hooks"]
    template = json.loads((REPO / "settings.template.json").read_text())
    assert list(hooks) == list(template["hooks"])  # the same events, in the same order
    for event, groups in template["hooks"].items():
        for group, ours in zip(groups, hooks[event], strict=True):
            assert group.get("matcher") == ours.get("matcher")
            for handler, mine in zip(group["hooks"], ours["hooks"], strict=True):
                assert mine["command"] == "python3" and mine["timeout"] == handler["timeout"]
                assert mine["args"][:3] == ["-I", "-S", f"{HOOKS}/plugin_entry.py"]
                assert [a.replace(HOOKS, "${SESSION_CORE_HOOKS}")
                        for a in mine["args"][3:]] == handler["args"]
    assert "statusLine" not in json.loads(wanted)  # a plugin cannot ship one


def test_the_manifests_name_the_plugin_and_its_marketplace() -> None:
    manifest = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    market = json.loads((REPO / ".claude-plugin" / "marketplace.json").read_text())
    version = next(line.split('"')[1] for line in (REPO / "pyproject.toml").read_text()
                   .splitlines() if line.startswith("version"))
    assert manifest["name"] == "session-core" and manifest["version"] == version
    assert [(p["name"], p["source"]) for p in market["plugins"]] == [("session-core", "./")]


def test_without_a_venv_a_hook_exits_0_prints_nothing_and_notes_its_session(
        data: Path, root: Path, project: Path) -> None:
    with hold_the_worker_lock(data) as held:
        assert held
        done = entry(["-S", str(root / "hooks" / "run.py"), "Stop"], data, root,
                     payload(project), env={"CLAUDE_PROJECT_DIR": str(project)})
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    note = json.loads((data / "pending" / f"{SESSION}.json").read_text())
    assert note["session_id"] == SESSION and note["project"] == str(project)
    assert note["transcript_path"] == f"/somewhere/{SESSION}.jsonl" and note["event"] == "Stop"
    assert not list(data.glob("venv-*")) and not (data / "worker.log").exists()  # no worker
    assert (data / "pending").stat().st_mode & 0o777 == 0o700


def test_a_session_id_that_is_not_a_plain_name_names_no_file(
        data: Path, root: Path, project: Path) -> None:
    bad = json.dumps({"session_id": "../../x", "cwd": str(project),
                      "transcript_path": "/t/x.jsonl"}).encode()
    with hold_the_worker_lock(data):
        assert entry(["run.py", "Stop"], data, root, bad).returncode == 0
    [note] = (data / "pending").iterdir()
    assert note.name.startswith("project-") and not (data.parent / "x.json").exists()
    facts = json.loads(note.read_text())
    assert facts["session_id"] is None and facts["transcript_path"] is None  # whole project


def test_stdin_that_never_closes_still_lets_the_hook_exit(
        data: Path, root: Path, project: Path) -> None:
    environ = {**clean_env(), "CLAUDE_PLUGIN_DATA": str(data), "CLAUDE_PLUGIN_ROOT": str(root),
               "CLAUDE_CODE_SESSION_ID": SESSION, "CLAUDE_PROJECT_DIR": str(project)}
    with hold_the_worker_lock(data):
        proc = subprocess.Popen([sys.executable, "-I", "-S", str(ENTRY), "run.py", "Stop"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environ)
        assert proc.stdin is not None
        proc.stdin.write(b'{"session_id": "')  # and nothing more, never closed
        proc.stdin.flush()
        code = proc.wait(timeout=60)
        out = proc.stdout.read() if proc.stdout else b""
        proc.stdin.close()
    assert code == 0 and out == b""
    assert json.loads((data / "pending" / f"{SESSION}.json").read_text())["project"] == str(
        project)


def test_no_second_worker_while_one_runs(
        data: Path, root: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(plugin, "_spawn", lambda argv, data, env: started.append(argv))
    with hold_the_worker_lock(data):
        assert not plugin.start_worker(data, str(root), str(ENTRY))
        for _ in range(3):
            assert entry(["run.py", "Stop"], data, root, payload(project)).returncode == 0
        assert plugin.work(str(root), data, str(ENTRY)) == 0  # a worker that finds it held
    assert started == [] and not list(data.glob("venv-*")) and not (data / "ready").exists()
    assert plugin.start_worker(data, str(root), str(ENTRY))  # free again: one starts
    [argv] = started
    assert argv[-2:] == [str(ENTRY), plugin.WORKER_FLAG]


def test_the_worker_is_started_detached(
        data: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Popen:
        def __init__(self, argv: list[str], **options: Any) -> None:
            calls.append(options)

    monkeypatch.setattr(subprocess, "Popen", Popen)  # the module plugin starts it with
    assert plugin.start_worker(data, str(root), str(ENTRY))
    [options] = calls
    assert options["stdin"] is subprocess.DEVNULL and options["stdout"] is not subprocess.PIPE
    assert options.get("start_new_session") or options.get("creationflags")
    assert options["env"]["CLAUDE_PLUGIN_DATA"] == str(data) and options["close_fds"]


def test_two_workers_at_once_build_once(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    gate = threading.Event()

    def build(venv: Path, root: Path, stamp: str) -> None:
        builds.append(venv)
        gate.wait(10)  # the second worker arrives while this one builds
        python = plugin.venv_python(venv)
        python.parent.mkdir(parents=True)
        python.symlink_to(sys.executable)

    monkeypatch.setattr(plugin, "build_venv", build)
    monkeypatch.setattr(plugin, "venv_ok", lambda venv, stamp: venv in builds)
    codes: list[int] = []
    first = threading.Thread(target=lambda: codes.append(plugin.work(str(REPO), data,
                                                                     str(ENTRY))))
    first.start()
    while not builds:
        time.sleep(0.01)
    assert plugin.work(str(REPO), data, str(ENTRY)) == 0  # left at once: the lock is held
    gate.set()
    first.join(30)
    assert codes == [0] and len(builds) == 1
    assert plugin.read_marker(data) == (str(REPO), plugin.signature(str(REPO)),
                                        str(plugin.venv_python(builds[0])))
    assert (data / plugin.ENTRY).read_bytes() == ENTRY.read_bytes()


def test_a_failed_build_is_tried_again_only_later(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(venv: Path, root: Path, stamp: str) -> None:
        raise plugin.BuildError("pip could not install: no index")

    monkeypatch.setattr(plugin, "build_venv", fail)
    assert plugin.work(str(REPO), data, str(ENTRY)) == 1
    assert "no index" in (data / plugin.FAILED).read_text()
    assert not (data / "ready").exists()
    assert plugin.failed_recently(data)
    assert not plugin.start_worker(data, str(REPO), str(ENTRY))
    assert not plugin.failed_recently(data, now=time.time() + plugin.RETRY_AFTER_S + 1)


def ready(data: Path, root: Path, python: str = sys.executable) -> None:
    plugin.write_marker(data, str(root), Path(python))


def test_once_ready_the_hook_runs_in_the_venvs_python_with_the_same_stdin(
        data: Path, root: Path) -> None:
    ready(data, root)
    done = entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, b'{"a": 1}')
    assert (done.returncode, done.stdout) == (0, b"['Stop']{\"a\": 1}")
    assert not (data / "pending").exists()


def test_the_first_event_in_a_project_has_the_worker_keep_its_archive_out_of_git(
        data: Path, root: Path, tmp_path: Path) -> None:
    project = tmp_path / "new project"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    ready(data, root)
    with hold_the_worker_lock(data):  # the worker comes later; the hook goes on meanwhile
        done = entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, b"{}",
                     env={"CLAUDE_PROJECT_DIR": str(project)})
    assert (done.returncode, done.stdout) == (0, b"['Stop']{}")
    [note] = plugin.pending_notes(data)
    assert json.loads(note.read_text())["kind"] == "exclude"
    assert plugin.catch_up(data, Path(sys.executable)) and not plugin.pending_notes(data)
    assert ".claude/session-core/" in (project / ".git" / "info" / "exclude").read_text()
    assert (project / ".claude" / "session-core").is_dir()  # so the entry asks no more
    with hold_the_worker_lock(data):
        entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, b"{}",
              env={"CLAUDE_PROJECT_DIR": str(project)})
    assert plugin.pending_notes(data) == []


def test_a_changed_plugin_is_not_ready_until_the_worker_saw_it(
        data: Path, root: Path, project: Path) -> None:
    ready(data, root)
    (root / ".claude-plugin" / "plugin.json").write_text('{"name": "x", "version": "2"}\n')
    with hold_the_worker_lock(data):
        done = entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, payload(project))
    assert (done.returncode, done.stdout) == (0, b"")
    assert (data / "pending" / f"{SESSION}.json").is_file()


def test_a_gone_venv_python_is_not_ready(data: Path, root: Path, project: Path) -> None:
    ready(data, root, python=str(data / "venv-gone" / "bin" / "python"))
    with hold_the_worker_lock(data):
        done = entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, payload(project))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert (data / "pending" / f"{SESSION}.json").is_file()


def fake_venv(folder: Path, python: Path) -> Path:
    """A virtual environment without the suite in it, its python a link to ``python``: what a
    Python upgrade leaves (the link now names another interpreter; its site-packages are for
    the old one)."""
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text(f"home = {python.parent}\n")
    (folder / "bin" / "python").symlink_to(python)
    return folder / "bin" / "python"


def real_hooks(root: Path) -> None:
    for name in ("run.py", "recall.py", "status_line.py", "suite_path.py"):
        shutil.copyfile(REPO / "hooks" / name, root / "hooks" / name)


@pytest.mark.parametrize("script", ["run.py", "recall.py"])
def test_a_venv_whose_python_cannot_import_the_suite_hands_back_and_exits_0(
        data: Path, root: Path, project: Path, tmp_path: Path, script: str) -> None:
    """The interpreter runs, the suite does not import: no traceback, exit 0, ``ready`` gone
    and the session noted, so the worker checks and rebuilds the environment."""
    real_hooks(root)
    base = Path(os.path.realpath(sys.executable))
    ready(data, root, python=str(fake_venv(tmp_path / "venv-broken", base)))
    args = [*(["-S"] if script == "recall.py" else []), str(root / "hooks" / script), "Stop"]
    with hold_the_worker_lock(data):
        done = entry(["-S", *args], data, root, payload(project), env={"PYTHONPATH": ""})
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert not (data / "ready").exists()
    assert (data / "pending" / f"{SESSION}.json").is_file()


def test_an_install_whose_hook_cannot_import_the_suite_still_says_why(
        root: Path, tmp_path: Path) -> None:
    """Outside the plugin (no entry ran it) the import error is the user's to see."""
    real_hooks(root)
    python = fake_venv(tmp_path / "venv-broken", Path(os.path.realpath(sys.executable)))
    done = subprocess.run([str(python), "-S", str(root / "hooks" / "run.py"), "Stop"],
                          input=b"{}", env={**clean_env(), "PYTHONPATH": ""},
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 1 and b"session_core" in done.stderr


def test_another_interpreter_behind_the_venvs_python_is_not_ready(
        data: Path, root: Path, project: Path, tmp_path: Path) -> None:
    """A Python upgrade re-points the venv's link: the entry does not start it at all."""
    other = tmp_path / "python3.99"
    other.write_text("#!/bin/sh\necho started >&2\nexit 1\n")
    other.chmod(0o755)
    python = fake_venv(tmp_path / "venv-old", Path(os.path.realpath(sys.executable)))
    ready(data, root, python=str(python))
    python.unlink()
    python.symlink_to(other)
    with hold_the_worker_lock(data):
        done = entry([str(root / "hooks" / "echo.py"), "Stop"], data, root, payload(project))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert (data / "pending" / f"{SESSION}.json").is_file()


def test_the_copy_in_the_data_folder_runs_the_status_line_without_plugin_variables(
        data: Path, root: Path) -> None:
    ready(data, root)
    shutil.copyfile(ENTRY, data / plugin.ENTRY)
    environ = clean_env()
    done = subprocess.run([sys.executable, "-I", "-S", str(data / plugin.ENTRY), "echo.py"],
                          input=b"status", env=environ, capture_output=True, timeout=60,
                          check=False)
    assert (done.returncode, done.stdout) == (0, b"[]status")
    (data / "ready").unlink()  # not ready: the status line shows nothing, notes nothing
    done = subprocess.run([sys.executable, "-I", "-S", str(data / plugin.ENTRY), "echo.py"],
                          input=b"status", env=environ, capture_output=True, timeout=60,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert not (data / "pending").exists()


def test_the_copy_in_the_data_folder_runs_the_command(data: Path, root: Path) -> None:
    shutil.copyfile(ENTRY, data / plugin.ENTRY)
    command = [sys.executable, "-I", "-S", str(data / plugin.ENTRY), "-m", "session_core"]
    early = subprocess.run([*command, "--help"], env=clean_env(), capture_output=True,
                           timeout=60, check=False)
    assert early.returncode == 1 and b"not ready" in early.stderr  # says so, unlike a hook
    ready(data, root)
    done = subprocess.run([*command, "--help"], env=clean_env(), capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and b"session-core" in done.stdout, done.stderr


def test_the_entrys_signature_is_the_packages(root: Path) -> None:
    spec = importlib.util.spec_from_file_location("plugin_entry", ENTRY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._signature(str(root)) == plugin.signature(str(root))
    assert module.MARKER_HEADER == plugin.MARKER_HEADER
    assert module.WORKER_FLAG == plugin.WORKER_FLAG
    for python in (sys.executable, str(root / "no" / "python")):
        assert module._interpreter(python) == plugin.interpreter_signature(python)
    suite_path = importlib.util.spec_from_file_location("suite_path", REPO / "hooks"
                                                         / "suite_path.py")
    assert suite_path is not None and suite_path.loader is not None
    hooks_side = importlib.util.module_from_spec(suite_path)
    suite_path.loader.exec_module(hooks_side)
    assert (hooks_side.ENTRY_ENV, hooks_side.HANDED_BACK_ENV) == (module.ENTRY_ENV,
                                                                  module.HANDED_BACK_ENV)


def test_the_worker_archives_what_the_notes_name(data: Path, project: Path) -> None:
    folder = project.parent / "claude projects" / "-x"
    transcript = folder / f"{SESSION}.jsonl"
    folder.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "short.jsonl", transcript)
    plugin.note_pending(data, {"session_id": SESSION, "transcript_path": str(transcript)},
                        str(project))
    plugin.note_pending(data, {"session_id": "gone", "transcript_path": str(folder / "g.jsonl")},
                        str(project))
    assert plugin.catch_up(data, Path(sys.executable))
    assert plugin.pending_notes(data) == []
    listed = run_cli("list", "--json", "--project", str(project))
    assert listed.returncode == 0, listed.stderr
    assert [s["uuid"] for s in json.loads(listed.stdout)] == [SESSION]
