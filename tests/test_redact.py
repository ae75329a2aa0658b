"""No secret pasted into a session reaches the next one: the SessionStart handoff and the
compact note carry ``[redacted:<kind>]`` instead, while the archive keeps the bytes exact."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from session_core.handoff.redact import redact

from .conftest import FIXTURES
from .hookkit import HOOK_TARGETS_BY_EVENT, World, encode, export, make_world, payload, run_target

SECRETS = {
    "anthropic": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGH",
    "openai": "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa",
    "github": "ghp_1234567890abcdefghijABCDEFGHIJ123456",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe": "sk_live_51H8xYzAbCdEfGhIjKlMnOpQr",
    "google": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFU",
    "url password": "hunter2secret",
    "bearer": "abc123def456ghi789jkl",
    "assignment": "correcthorsebattery",
    "pem": "MIIEpAIBAAKCAQEAsecretpembody",
}
"""12 kinds; where each sits in the session is below."""


def _with_secrets(source: bytes) -> bytes:
    s = SECRETS
    out = []
    for line in source.splitlines(keepends=True):
        record = json.loads(line)
        message = record.get("message") or {}
        content = message.get("content")
        if content == "Please add retry logic to fetch_user":
            message["content"] = (f"Please add retry logic to fetch_user. Use {s['anthropic']}"
                                  f" and {s['openai']}; DB is postgres://admin:"
                                  f"{s['url password']}@db.example.com/app")
        elif content == "carry on":
            message["content"] = (f"carry on, the GitHub token is {s['github']} and"
                                  f" DATABASE_PASSWORD={s['assignment']}")
        elif isinstance(content, list):
            for block in content:
                if block.get("name") == "Bash":
                    block["input"]["command"] = (
                        f"AWS_ACCESS_KEY_ID={s['aws']} curl -H 'Authorization: Bearer"
                        f" {s['bearer']}' https://api.example.com?key={s['google']}")
                if block.get("type") == "tool_result" and block.get("is_error"):
                    block["content"] = (f"<tool_use_error>auth failed for {s['stripe']} and"
                                        f" {s['slack']}</tool_use_error>")
                if block.get("type") == "text" and "Tests are still pending" in block["text"]:
                    block["text"] += (f" Token {s['jwt']}. Key:\n-----BEGIN RSA PRIVATE KEY-----"
                                      f"\n{s['pem']}\n-----END RSA PRIVATE KEY-----")
                if block.get("type") == "text" and "Continuing" in block["text"]:
                    block["text"] += f" (I used {s['jwt']} and {s['anthropic']})"
        out.append(json.dumps(record).encode() + b"\n")
    return b"".join(out)


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    world = make_world(project, os.environ)
    world.transcript.write_bytes(_with_secrets(
        FIXTURES.joinpath("6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl").read_bytes()))
    stop = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(
        world, last_assistant_message=f"done; the key was {SECRETS['openai']}")), world)
    assert stop.returncode == 0
    return world


def _handoff(world: World, **fields: object) -> str:
    run = run_target(HOOK_TARGETS_BY_EVENT["SessionStart"], encode(payload(world, **fields)),
                     world)
    assert run.returncode == 0, run.log
    return str(json.loads(run.stdout)["hookSpecificOutput"]["additionalContext"])


def test_the_next_session_is_handed_no_secret(world: World) -> None:
    text = _handoff(world, session_id="11111111-2222-4333-8444-555555555555", source="startup")
    assert "retry logic" in text and "[redacted:" in text, text
    leaked = [kind for kind, value in SECRETS.items() if value in text]
    assert not leaked, (leaked, text)
    assert export(world) == world.transcript.read_bytes()  # the archive stays byte-exact


def test_the_compact_note_carries_no_secret(world: World) -> None:
    text = _handoff(world, source="compact")
    assert text, "a compact note was expected"
    leaked = [kind for kind, value in SECRETS.items() if value in text]
    assert not leaked, (leaked, text)


def test_what_is_not_a_secret_stays() -> None:
    kept = ("commit 3f5e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f of session"
            " 6b32797c-28fc-4a1f-b9c8-863fe6c99815 changed src/session_core/store/backup.py;"
            " run `pytest -q tests/test_backups.py::test_backup_dir_puts_backups_elsewhere`")
    assert redact(kept) == kept


def test_the_handoff_command_prints_what_a_new_session_gets(world: World) -> None:
    from .conftest import run_cli

    hook = _handoff(world, session_id="11111111-2222-4333-8444-555555555555", source="startup")
    shown = run_cli("handoff", "--project", str(world.project), env=world.env)
    assert shown.returncode == 0 and shown.stdout.decode().strip() == hook.strip()
    compact = run_cli("handoff", "--source", "compact", "--session", "6b32797c",
                      "--project", str(world.project), env=world.env)
    assert compact.returncode == 0 and compact.stdout.decode().strip() == _handoff(
        world, source="compact").strip()


def test_a_path_is_not_a_secret_but_a_key_with_slashes_is() -> None:
    path = ("/tmp/claude-0/-tmp-newuser-proj/ddeecc42-1111-4222-8333-444444444444/tasks/"
            "a2fc9e903baf09a32.output")
    assert redact(f"output_file: {path}") == f"output_file: {path}"
    assert "EXAMPLEKEY" not in redact("aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYab")


def test_a_colour_code_inside_a_secret_does_not_hide_it() -> None:
    """``grep --color`` prints a match wrapped in escapes: the secret is still one secret."""
    assert "hunter2secret" not in redact("\x1b[01;31m\x1b[KPASSWORD\x1b[m\x1b[K=hunter2secret")
    assert "IOSFODNN7EXAMPLE" not in redact("\x1b[31mAKIA\x1b[0mIOSFODNN7EXAMPLE")
