"""Run the real Claude Code client (pinned in tests/e2e/package.json) against FakeAnthropic.

Why: unit tests only prove that we parse the files we think Claude Code writes; these helpers let
a test drive the actual client, its hooks, its status line and its transcripts, offline and fast.

Everything runs in a throw-away HOME, with a `.claude.json` that skips onboarding and trusts the
project, and an environment scrubbed of the caller's Claude/Anthropic variables (tests are often
run from inside a Claude Code session, whose CLAUDECODE=1 would otherwise leak in).
A missing client is a test FAILURE with instructions, never a skip: CI installs it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from .fake_api import FakeAnthropic

__all__ = [
    "CLAUDE_BIN",
    "CLAUDE_VERSION",
    "ClaudeMissingError",
    "TmuxSession",
    "claude_bin_fixture",
    "claude_binary",
    "claude_env",
    "claude_home_fixture",
    "exec_hook",
    "fake_api_fixture",
    "git_project_fixture",
    "hook_settings",
    "make_git_project",
    "project_key",
    "read_jsonl",
    "read_recording",
    "recording_script",
    "run_claude",
    "transcripts",
    "trust_project",
    "write_claude_state",
    "write_settings",
]

API_KEY = "dummy"
E2E_DIR = Path(__file__).resolve().parent
CLAUDE_VERSION = "2.1.330"
# SESSION_CORE_E2E_CLAUDE may point at another binary (e.g. to try a newer client by hand).
CLAUDE_BIN = Path(os.environ.get("SESSION_CORE_E2E_CLAUDE") or E2E_DIR / "node_modules/.bin/claude")

# Variables never inherited from the parent: a parent Claude Code session sets CLAUDECODE=1 and
# CLAUDE_CODE_*; ANTHROPIC_* would send the client elsewhere; CLAUDE_CONFIG_DIR would move the
# state file away from <home>/.claude.json.
_SCRUB_PREFIXES = ("CLAUDE", "ANTHROPIC_", "OTEL_", "DISABLE_", "IS_SANDBOX")


class ClaudeMissingError(RuntimeError):
    """The pinned client is not installed or does not run."""


@functools.lru_cache(maxsize=1)
def _check_binary(path: str) -> str:
    if not Path(path).exists():
        raise ClaudeMissingError(
            f"Claude Code client not found at {path}. Install it with `bash tests/run.sh` or "
            "`cd tests/e2e && npm ci && node node_modules/@anthropic-ai/claude-code/install.cjs`."
        )
    try:
        proc = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClaudeMissingError(f"`{path} --version` failed to run: {exc}") from exc
    if proc.returncode != 0:
        raise ClaudeMissingError(
            f"`{path} --version` exited {proc.returncode}: {proc.stderr.strip()[:500]}. "
            "Its postinstall may not have run: "
            "`cd tests/e2e && node node_modules/@anthropic-ai/claude-code/install.cjs`."
        )
    return proc.stdout.strip()


def claude_binary() -> Path:
    """Path of a working pinned client; raises ClaudeMissingError with how to fix it."""
    version = _check_binary(str(CLAUDE_BIN))
    if "SESSION_CORE_E2E_CLAUDE" not in os.environ and not version.startswith(CLAUDE_VERSION):
        raise ClaudeMissingError(
            f"expected Claude Code {CLAUDE_VERSION}, got {version!r}: run `npm ci` in tests/e2e"
        )
    return CLAUDE_BIN


# --------------------------------------------------------------------------------------------
# Home, project and settings
# --------------------------------------------------------------------------------------------


def write_claude_state(
    home: Path, trusted: Iterable[Path] = (), *, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write `<home>/.claude.json` so the client starts with no onboarding or trust dialog.

    Keys (checked on 2.1.330): `hasCompletedOnboarding` skips the theme/login wizard;
    `projects[<abs dir>].hasTrustDialogAccepted` skips the folder-trust dialog (interactive only;
    `-p` treats the folder as trusted); `bypassPermissionsModeAccepted` skips the warning that
    `--permission-mode bypassPermissions` shows interactively; `customApiKeyResponses` pre-approves
    ANTHROPIC_API_KEY (interactive only). Existing content is kept.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".claude.json"
    state: dict[str, Any] = {}
    if path.exists():
        state = json.loads(path.read_text(encoding="utf-8") or "{}")
    state.update(
        {
            "hasCompletedOnboarding": True,
            "bypassPermissionsModeAccepted": True,
            # Interactive runs otherwise ask "Detected a custom API key ... use it?" (default No).
            # The list holds the key's last 20 characters.
            "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
        }
    )
    state.setdefault("projects", {})
    for proj in trusted:
        entry = state["projects"].setdefault(str(Path(proj).resolve()), {})
        entry["hasTrustDialogAccepted"] = True
    if extra:
        state.update(extra)
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return path


def trust_project(home: Path, project_dir: Path) -> None:
    """Mark one more directory as trusted in `<home>/.claude.json`."""
    write_claude_state(home, [project_dir])


def make_git_project(path: Path, files: Mapping[str, str] | None = None) -> Path:
    """A git repo with one commit and a local identity, like a user's real project."""
    path.mkdir(parents=True, exist_ok=True)
    files = dict(files or {"README.md": "# demo project\n"})
    for rel, content in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "E2E Tester")
    git("config", "user.email", "e2e@example.invalid")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", "initial commit")
    return path


def write_settings(project_dir: Path, settings: Mapping[str, Any], *, local: bool = True) -> Path:
    """Write `<project>/.claude/settings.local.json` (or settings.json) and return its path."""
    path = project_dir / ".claude" / ("settings.local.json" if local else "settings.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return path


def exec_hook(script: Path | str, *args: str, timeout: int = 10) -> dict[str, Any]:
    """An exec-form hook handler: this Python runs `script args...`, no shell, spaces safe."""
    return {
        "type": "command",
        "command": sys.executable,
        "args": [str(script), *args],
        "timeout": timeout,
    }


_RECORDER = """\
import json, os, sys
data = sys.stdin.read()
entry = {{"argv": sys.argv[1:], "stdin": data, "cwd": os.getcwd(),
         "env": {{k: v for k, v in os.environ.items() if k.startswith("CLAUDE")}}}}
with open({log!r}, "a", encoding="utf-8") as fh:
    fh.write(json.dumps(entry) + "\\n")
sys.stdout.write({stdout!r})
"""


def recording_script(path: Path, log: Path, stdout: str = "") -> Path:
    """Write a tiny Python script that appends its argv, stdin, cwd and CLAUDE* env to `log`.

    It then prints `stdout` verbatim (e.g. hook JSON or a status-line marker). Use it as a hook
    (`exec_hook(path, "Stop")`) or a status line; read the log with `read_recording`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_RECORDER.format(log=str(log), stdout=stdout), encoding="utf-8")
    return path


def read_recording(log: Path) -> list[dict[str, Any]]:
    """Entries written by a `recording_script`, with `stdin` parsed as JSON when it is JSON."""
    if not log.exists():
        return []
    entries = read_jsonl(log)
    for entry in entries:
        try:
            entry["payload"] = json.loads(entry["stdin"])
        except ValueError:
            entry["payload"] = None
    return entries


def hook_settings(
    handlers: Mapping[str, dict[str, Any] | Sequence[dict[str, Any]]],
) -> dict[str, Any]:
    """`{"hooks": {...}}` with one matcher-less group per event: {event: handler(s)}."""
    hooks: dict[str, Any] = {}
    for event, handler in handlers.items():
        items = [handler] if isinstance(handler, dict) else list(handler)
        hooks[event] = [{"hooks": items}]
    return {"hooks": hooks}


# --------------------------------------------------------------------------------------------
# Environment and -p runs
# --------------------------------------------------------------------------------------------


def claude_env(
    home: Path, fake: FakeAnthropic | str, extra: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The environment the client runs in: isolated HOME, the fake API, no inherited Claude vars.

    `extra` adds or overrides variables; a None value removes one of the defaults.

    IS_SANDBOX=1 lets bypassPermissions run as root; CLAUDE_CODE_ENABLE_TODO_TOOLS=1 gives `-p`
    runs the Task* tools; the rest keeps the client off the network and quiet.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    url = fake if isinstance(fake, str) else fake.url
    env.update(
        {
            "HOME": str(home),
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": url,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "IS_SANDBOX": "1",
            "CLAUDE_CODE_ENABLE_TODO_TOOLS": "1",
            "NO_COLOR": "1",
        }
    )
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_claude(
    project_dir: Path,
    home: Path,
    prompt: str,
    *extra_args: str,
    fake: FakeAnthropic | str,
    timeout: float = 60,
    env: Mapping[str, str | None] | None = None,
    permission_mode: str = "bypassPermissions",
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `claude -p <prompt> --permission-mode <mode> [extra_args]` in project_dir.

    extra_args go last, e.g. `"--resume", session_id` or `"--output-format", "json"`.
    The project is trusted in `<home>/.claude.json` first. check=True raises on non-zero exit.
    """
    binary = claude_binary()
    write_claude_state(home, [project_dir])
    cmd = [str(binary), "-p", prompt, "--permission-mode", permission_mode, *extra_args]
    proc = subprocess.run(
        cmd,
        cwd=project_dir,
        env=claude_env(home, fake, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"claude exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


# --------------------------------------------------------------------------------------------
# Transcripts
# --------------------------------------------------------------------------------------------


def project_key(project_dir: Path) -> str:
    """The folder name Claude Code uses under ~/.claude/projects: non-alphanumerics become '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(Path(project_dir).resolve()))


def transcripts(home: Path, project_dir: Path | None = None) -> list[Path]:
    """Main-session transcript files under `<home>/.claude/projects/`, oldest first.

    With project_dir, only that project's folder. Subagent transcripts are not included.
    """
    root = home / ".claude" / "projects"
    pattern = "*/*.jsonl"
    if project_dir is not None:
        key = project_key(project_dir)
        # Names over 200 characters are cut and a hash of the full path is appended.
        pattern = f"{key}/*.jsonl" if len(key) <= 200 else f"{key[:200]}*/*.jsonl"
    return sorted(root.glob(pattern), key=lambda p: (p.stat().st_mtime_ns, p.name))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Parse a JSONL file, skipping blank lines."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --------------------------------------------------------------------------------------------
# Interactive runs under tmux
# --------------------------------------------------------------------------------------------


def _contains(needle: str, screen: str) -> bool:
    return needle in screen


def _matches(pattern: re.Pattern[str], screen: str) -> bool:
    return pattern.search(screen) is not None


class TmuxSession:
    """An interactive `claude` in a detached tmux pane on a private tmux socket.

    Why: the status line and other TUI behaviour only exist interactively. The private socket
    (`tmux -S`) means closing kills only our own tmux server.
    """

    def __init__(
        self,
        project_dir: Path,
        home: Path,
        *args: str,
        fake: FakeAnthropic | str,
        env: Mapping[str, str | None] | None = None,
        width: int = 200,
        height: int = 50,
        permission_mode: str | None = "bypassPermissions",
    ) -> None:
        if shutil.which("tmux") is None:
            raise ClaudeMissingError("tmux is not installed (apt-get install tmux)")
        self.project_dir = project_dir
        self.home = home
        # Own socket in a fresh short dir (sockets paths max ~100 chars), removed on close.
        self._sock_dir = Path(tempfile.mkdtemp(prefix="e2e-tmux-"))
        self.socket = str(self._sock_dir / "sock")
        self.name = "claude"
        binary = claude_binary()
        write_claude_state(home, [project_dir])
        cmd = [str(binary)]
        if permission_mode:
            cmd += ["--permission-mode", permission_mode]
        cmd += list(args)
        self._env = claude_env(home, fake, env)
        self._env["TERM"] = "xterm-256color"
        self._env.pop("NO_COLOR", None)
        self._env.pop("TMUX", None)
        self._env.pop("TMUX_PANE", None)
        # Keep the pane after the client exits, so a crash's last screen can be read.
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(width),
            "-y",
            str(height),
            "-c",
            str(project_dir),
            shlex.join(cmd),
            ";",  # same command queue, so even a client that dies at once leaves its pane
            "set-option",
            "-t",
            self.name,
            "remain-on-exit",
            "on",
        )
        self.started = time.monotonic()

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args],
            env=self._env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )

    def capture(self) -> str:
        """The visible pane as plain text (no escape sequences)."""
        return self._tmux("capture-pane", "-p", "-t", self.name).stdout

    def send_keys(self, *keys: str) -> None:
        """tmux key names, e.g. `"Enter"`, `"C-c"`, `"Escape"`."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def type_text(self, text: str, *, enter: bool = False) -> None:
        """Type literal text; with enter=True, press Enter after it."""
        self._tmux("send-keys", "-t", self.name, "-l", text)
        if enter:
            time.sleep(0.2)  # the TUI drops an Enter that arrives in the same read as the text
            self.send_keys("Enter")

    def is_dead(self) -> bool:
        """True once the client process has exited."""
        out = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}").stdout
        return out.strip() == "1"

    def wait_for(
        self, what: str | re.Pattern[str] | Callable[[str], bool], timeout: float = 30
    ) -> str:
        """Poll the screen until `what` (substring, regex or predicate) matches; return it."""
        pred: Callable[[str], bool]
        if isinstance(what, str):
            pred = functools.partial(_contains, what)
        elif isinstance(what, re.Pattern):
            pred = functools.partial(_matches, what)
        else:
            pred = what
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if pred(screen):
                return screen
            if self.is_dead():
                break
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what!r}; screen:\n{screen}")

    def wait_dead(self, timeout: float = 10) -> bool:
        """Wait until the client has exited; True if it did within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_dead():
                return True
            time.sleep(0.1)
        return False

    def exit(self, timeout: float = 10) -> None:
        """Leave the session the way a user does (`/exit`), so SessionEnd gets prompt_input_exit."""
        self.type_text("/exit", enter=True)
        if not self.wait_dead(1.5):
            self.send_keys("Enter")  # the slash-command menu can take the first Enter
        if not self.wait_dead(timeout):
            raise AssertionError(f"claude did not exit; screen:\n{self.capture()}")

    def close(self) -> None:
        """Kill our private tmux server (and with it the client, which gets SIGHUP)."""
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"],
            env=self._env,
            capture_output=True,
            check=False,
            timeout=30,
        )
        shutil.rmtree(self._sock_dir, ignore_errors=True)

    def __enter__(self) -> TmuxSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# pytest fixtures, registered under the names given in `name=`. To use them, a test module (or a
# tests/e2e/conftest.py) imports the *_fixture functions, with a noqa for F401 on the import.
# --------------------------------------------------------------------------------------------


@pytest.fixture(name="claude_bin")
def claude_bin_fixture() -> Path:
    """The pinned client; FAILS (not skips) the test when it is missing."""
    try:
        return claude_binary()
    except ClaudeMissingError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(name="claude_home")
def claude_home_fixture(tmp_path: Path, claude_bin: Path) -> Path:
    """A throw-away HOME (tmp_path/home, the same one tests/conftest.py isolates)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    write_claude_state(home)
    return home


@pytest.fixture(name="git_project")
def git_project_fixture(tmp_path: Path) -> Path:
    """A committed git project whose path contains a space, as users' paths often do."""
    return make_git_project(tmp_path / "demo project")


@pytest.fixture(name="fake_api")
def fake_api_fixture(tmp_path: Path) -> Iterator[FakeAnthropic]:
    """A running FakeAnthropic with an empty script (use `.extend([...])`), logging to tmp."""
    with FakeAnthropic(log_path=tmp_path / "api-requests.jsonl") as fake:
        yield fake
