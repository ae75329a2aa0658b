"""What an install checks before it writes anything: that the user's Claude Code runs
exec-form hooks, that they mean ``--shared``, and that the hooks run exactly as they will be
written (a real SessionStart payload through the real command, then the status line)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ...base.errors import SessionCoreError, UsageError
from ...base.text import clip
from .ours import JSON, our_handler
from .suite import Suite, Target

CHECK_TIMEOUT = 10.0
EXEC_FORM_SINCE = (2, 1, 139)
"""The first Claude Code that runs a hook's ``command`` with ``args`` (exec form, no shell), as
our settings do; an older one runs the interpreter without the script, on every event."""
FIX_AND_RETRY = "fix that and run again; nothing was written to the settings file"


def ask(question: str) -> bool:
    """A yes/no prompt; no answer (closed stdin) is no."""
    try:
        answer = input(question)
    except EOFError:
        print()
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def claude_version() -> tuple[int, ...] | None:
    """The version of the ``claude`` on PATH, or None if there is none or it cannot say."""
    exe = shutil.which("claude")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False,
                              timeout=CHECK_TIMEOUT, stdin=subprocess.DEVNULL,
                              env={**os.environ, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", done.stdout)
    return tuple(int(part) for part in found.groups()) if found else None


def check_claude(yes: bool, dry: bool) -> str:
    """Refuse (unless confirmed) to wire hooks a too-old Claude Code would run wrongly."""
    since = ".".join(map(str, EXEC_FORM_SINCE))
    version = claude_version()
    if version is None:
        return (f"claude: not found on PATH (or it did not say its version); the hooks need"
                f" Claude Code {since} or newer")
    shown = ".".join(map(str, version))
    if version >= EXEC_FORM_SINCE:
        return f"claude: {shown} runs exec-form hooks"
    print(f"Claude Code {shown} on PATH is older than {since}, the first that runs hooks in"
          " exec form (command + args) as session-core's do: each event would fail until you"
          " update.", file=sys.stderr, flush=True)
    if yes or dry:
        return f"claude: {shown} is older than {since}; installing anyway (--yes or --dry-run)"
    if not ask("Install anyway? [y/N] "):
        raise SessionCoreError(f"Claude Code {shown} is too old for these hooks; nothing was"
                               " changed", "update it (claude update, or npm install -g"
                               " @anthropic-ai/claude-code), then run the install again")
    return f"claude: {shown} is older than {since}; installed anyway, as confirmed"


SHARED_WARNING = """\
warning: --shared writes this machine's absolute paths into {settings},
  which your team commits: {python} and {hooks}.
  Teammates who pull it run these hooks at these paths: whoever has not installed session-core,
  or has a different HOME, gets a failing hook in every session. Paths are per user:
  each teammate must run the install themselves (each run adds that user's own paths).
  The default, .claude/settings.local.json, stays per user and out of git."""


def confirm_shared(suite: Suite, target: Target, yes: bool, dry: bool) -> None:
    """Say what ``--shared`` does to teammates; go on only after --yes or a yes at the prompt."""
    print(SHARED_WARNING.format(settings=target.settings, python=suite.python,
                                hooks=suite.hooks), file=sys.stderr, flush=True)
    if yes or dry:
        return
    if not ask("Write these paths into the shared settings.json? [y/N] "):
        raise UsageError("--shared was not confirmed; nothing was changed",
                         "run again with --shared --yes, or without --shared for a per-user"
                         " install")


def _call(argv: list[str] | str, what: str, stdin: JSON, project: Path,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a hook the way Claude Code does: JSON on stdin, in the project, with a time limit."""
    try:
        done = subprocess.run(argv, input=json.dumps(stdin), capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT, cwd=project, env=env,
                              shell=isinstance(argv, str), check=False)
    except subprocess.TimeoutExpired as exc:
        shown = argv if isinstance(argv, str) else shlex.join(argv)
        raise SessionCoreError(f"the {what} did not finish within {CHECK_TIMEOUT:.0f} s",
                               f"run it by hand to see where it hangs: {shown}") from exc
    except OSError as exc:
        raise SessionCoreError(f"the {what} could not start: {exc}",
                               "run the install again") from exc
    if done.returncode != 0:
        raise SessionCoreError(f"the {what} exited with {done.returncode}:\n{tail(done.stderr)}",
                               FIX_AND_RETRY)
    return done


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _handoff_chars(stdout: str) -> int:
    """SessionStart output must be empty or JSON naming the event; returns the context length."""
    if not stdout.strip():
        return 0
    try:
        value = json.loads(stdout)
    except ValueError:
        value = None
    output = value.get("hookSpecificOutput") if isinstance(value, dict) else None
    if not isinstance(output, dict) or output.get("hookEventName") != "SessionStart":
        raise SessionCoreError(
            f"the SessionStart hook printed something unexpected: {clip(stdout, 200)!r}",
            "it must print nothing or JSON with hookSpecificOutput.hookEventName")
    context = output.get("additionalContext")
    return len(context) if isinstance(context, str) else 0


def _check_health(target: Target, since: float) -> None:
    """The hook runtime exits 0 whatever happens (it must never block Claude Code), so exit 0
    alone proves little: a failure it noted in health.json during the probe fails the check."""
    path = target.archive / "health.json"
    try:
        health = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return
    failed_at = health.get("failed_at") if isinstance(health, dict) else None
    if isinstance(failed_at, (int, float)) and failed_at >= since:
        raise SessionCoreError(f"the SessionStart hook exited 0 but recorded a failure in"
                               f" {path}: {health.get('last_error')}", FIX_AND_RETRY)


def check_wiring(suite: Suite, settings: JSON, target: Target) -> str:
    """Prove the hooks run as written: a real SessionStart payload, then the status line."""
    project = target.project
    handler = our_handler(settings, "SessionStart", suite.hook_prefixes())
    if handler is None:
        raise SessionCoreError("no SessionStart hook of ours in the merged settings",
                               "restore settings.template.json from the repository")
    argv = [handler["command"], *handler.get("args", [])]
    payload = {"session_id": str(uuid.uuid4()), "hook_event_name": "SessionStart",
               "source": "startup", "cwd": str(project)}
    started, wall = time.monotonic(), time.time()
    done = _call(argv, "SessionStart hook", payload, project,
                 {**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    chars, seconds = _handoff_chars(done.stdout), time.monotonic() - started
    _check_health(target, wall)
    status = {"session_id": payload["session_id"], "cwd": str(project), "version": "2.1.0",
              "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
              "workspace": {"current_dir": str(project), "project_dir": str(project)}}
    line = _call(suite.status_command(), "status line command", status, project).stdout
    # the probe session never ends: drop its live-state file (a fresh id, so the file is ours)
    (target.archive / "live" / f"{payload['session_id']}.json").unlink(missing_ok=True)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", (line.strip().splitlines() or [""])[0])
    return (f"check: SessionStart hook ok in {seconds:.2f} s ({chars} characters of handoff);"
            f" status line ok: {shown!r}")
