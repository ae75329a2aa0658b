"""Shared fixtures: an isolated home per test, the real transcript corpus, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from session_core.store.archive import Archive, open_archive

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "transcripts"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def corpus_files() -> list[Path]:
    """Every transcript in ../shared/transcripts (CI has it beside the checkout)."""
    files = sorted(SHARED.rglob("*.jsonl"))
    if not files:
        raise RuntimeError(f"no transcripts under {SHARED}: put ../shared beside the checkout")
    return files


def corpus_transcripts() -> list[Path]:
    """The corpus's transcripts: what ``import`` takes (the hook-payload log beside them is
    not a transcript, and is refused)."""
    return [p for p in corpus_files() if "hook_logs" not in p.name]


def imported_corpus(factory: pytest.TempPathFactory, name: str) -> Path:
    """A project with the whole corpus imported by the CLI, as a user would."""
    project = factory.mktemp(name)
    done = run_cli("import", *map(str, corpus_transcripts()), "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME, Claude config dir and user config: no real home touched."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("SESSION_CORE_USER_CONFIG", str(home / "session-core.json"))
    monkeypatch.delenv("SESSION_CORE_DATA_DIR", raising=False)
    return home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "my project"  # a space, on purpose
    root.mkdir()
    return root


@pytest.fixture
def archive(project: Path) -> Iterator[Archive]:
    with open_archive(project) as opened:
        yield opened


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a user runs it: a real subprocess, raw bytes out."""
    return subprocess.run(
        [sys.executable, "-m", "session_core", *args],
        cwd=cwd, env={**os.environ, **(env or {})}, input=stdin, capture_output=True,
        timeout=300, check=False,
    )


def archive_dump(archive: Archive) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the archive means, independent of row ids and frame layout."""
    conn = archive.db.conn
    sessions = conn.execute(
        "SELECT uuid, cwd, git_branch, cc_version, first_ts, last_ts, title FROM sessions"
        " ORDER BY uuid").fetchall()
    entries = conn.execute(
        "SELECT hex(e.key), s.uuid, f.path, e.generation, e.offset, e.length, e.role, e.kind,"
        " e.ts, e.tools, e.sidechain FROM entries e JOIN sessions s ON s.id = e.session_id"
        " JOIN files f ON f.id = e.file_id ORDER BY hex(e.key)").fetchall()
    usage = conn.execute(
        "SELECT message_id, s.uuid, model, input_tokens, output_tokens, cache_creation_tokens,"
        " cache_read_tokens, cost_usd FROM usage u JOIN sessions s ON s.id = u.session_id"
        " ORDER BY message_id").fetchall()
    costs = conn.execute("SELECT s.uuid, start_time, cost_usd FROM costs c JOIN sessions s"
                         " ON s.id = c.session_id ORDER BY 1, 2").fetchall()
    files = conn.execute("SELECT path, kind, rel_path, generation, committed, size, head_hash,"
                         " tail_hash FROM files ORDER BY path").fetchall()
    words = conn.execute(
        "SELECT hex(e.key) FROM entries_fts f JOIN entries e ON e.id = f.rowid"
        " WHERE entries_fts MATCH 'the OR retry OR file' ORDER BY 1").fetchall()
    return {"sessions": sessions, "entries": entries, "usage": usage, "costs": costs,
            "files": files, "fts": words}
