"""The CLI a user sees: import from Claude Code's folder, list, show, status, search."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from session_core.base import locations
from session_core.store.archive import LATEST_VERSION
from session_core.transcript import layout

from .conftest import FIXTURES, SHARED, run_cli

DEMO = SHARED / "claude-code-2.1.328" / "projects" / "-home-dev-projects-demo-app"


def _claude_has(project: Path, *files: Path) -> Path:
    folder = Path(layout.project_folder(project))
    folder.mkdir(parents=True, exist_ok=True)
    for source in files:
        shutil.copyfile(source, folder / source.name)
    return folder


def test_import_backfills_what_claude_code_keeps_for_this_project(project: Path) -> None:
    _claude_has(project, *sorted(DEMO.glob("*.jsonl")))
    other = Path(layout.project_folder(project.parent / "other"))
    other.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "short.jsonl", other / "short.jsonl")

    result = run_cli("import", cwd=project)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Imported 2 file(s)" in result.stdout
    again = run_cli("import", cwd=project)
    assert again.returncode == 0 and b"Nothing new: 2 file(s) already archived" in again.stdout
    listed = json.loads(run_cli("list", "--json", cwd=project).stdout)
    assert sorted(s["uuid"] for s in listed) == sorted(p.stem for p in DEMO.glob("*.jsonl"))


def test_claude_config_dir_is_honoured(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    env = {"CLAUDE_CONFIG_DIR": str(elsewhere)}
    folder = elsewhere / "projects" / layout.encode_project_folder(project)
    folder.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "short.jsonl", folder / "short.jsonl")
    result = run_cli("import", "--project", str(project), env=env)
    assert b"Imported 1 file(s)" in result.stdout


def test_import_all_files_each_project_into_its_own_archive(project: Path,
                                                            tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    for root, source in ((project, FIXTURES / "short.jsonl"),
                         (second, DEMO / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl")):
        folder = _claude_has(root)
        text = source.read_text()
        old_cwd = json.loads(text.splitlines()[1]).get("cwd") or "/home/dev/projects/demo-app"
        (folder / source.name).write_text(text.replace(old_cwd, str(root)))
    result = run_cli("import", "--all", "--project", str(project))
    assert result.returncode == 0, result.stderr.decode()
    for root in (project, second):
        listed = json.loads(run_cli("list", "--json", "--project", str(root)).stdout)
        assert len(listed) == 1


def test_list_show_status_search(project: Path) -> None:
    assert run_cli("import", *map(str, sorted(DEMO.glob("*.jsonl"))),
                   "--project", str(project)).returncode == 0
    listing = run_cli("list", "--project", str(project)).stdout.decode()
    assert "Please add retry logic to fetch_user" in listing

    shown = run_cli("show", "6b32797c", "--project", str(project)).stdout.decode()
    assert "Edit" in shown and "claude-opus-5-5" in shown and "$0.03" in shown
    meta = json.loads(run_cli("show", "6b32797c", "--json", "--project", str(project)).stdout)
    assert meta["prompts"] == 2 and meta["assistant_messages"] == 5
    assert meta["input_tokens"] == 6000 and meta["output_tokens"] == 200

    status = json.loads(run_cli("status", "--json", "--project", str(project)).stdout)
    assert status["sessions"] == 2 and status["schema_version"] == LATEST_VERSION
    assert status["raw_bytes"] == sum(p.stat().st_size for p in DEMO.glob("*.jsonl"))
    assert status["last_ingest"]

    hits = run_cli("search", "retry", "--project", str(project)).stdout.decode()
    assert "6b32797c-28fc-4a1f-b9c8-863fe6c99815" in hits
    bad = run_cli("search", "a NEAR(", "--project", str(project))
    assert bad.returncode == 10 and bad.stderr.startswith(b"Error: ")

    missing = run_cli("show", "ffffffff", "--project", str(project))
    assert missing.returncode == 3 and b"Try: run 'session-core list'" in missing.stderr


def test_verify_finds_a_flipped_bit_inside_a_frame(project: Path) -> None:
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    assert run_cli("verify", "--project", str(project)).returncode == 0
    import sqlite3

    with sqlite3.connect(locations.archive_path(project)) as conn:
        frame = bytearray(conn.execute("SELECT data FROM chunks").fetchone()[0])
        frame[len(frame) // 2] ^= 0x10
        conn.execute("UPDATE chunks SET data = ?", (bytes(frame),))
    result = run_cli("verify", "--project", str(project))
    assert result.returncode == 6 and b"frame:" in result.stdout
    export = run_cli("export", "55604662", "--project", str(project))
    assert export.returncode == 6 and b"Traceback" not in export.stderr


def test_all_with_paths_is_a_usage_error(project: Path) -> None:
    result = run_cli("import", "--all", str(FIXTURES / "short.jsonl"), "--project", str(project))
    assert result.returncode == 2 and result.stderr.startswith(b"Error: ")
    assert b"--all and transcript paths exclude each other" in result.stderr
    assert not (project / ".claude").exists()


def test_a_search_query_that_is_not_fts5_has_its_own_exit_code(project: Path) -> None:
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    for query in ("AND", "a NEAR(", "OR OR"):  # a path, a dotted name or "x: y" search fine
        bad = run_cli("search", query, "--project", str(project))
        assert bad.returncode == 10, (query, bad.stderr)
        assert bad.stderr.startswith(b"Error: cannot search for") and b"Try: " in bad.stderr


def test_console_script_and_module_are_the_same_cli() -> None:
    console = shutil.which("session-core")
    assert console
    a = subprocess.run([console, "--help"], capture_output=True, check=True).stdout
    b = run_cli("--help").stdout
    assert a.replace(b"session-core", b"X") == b.replace(b"session-core", b"X")


def test_reading_commands_never_create_or_clobber(project: Path, tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    result = run_cli("list", "--project", str(typo))
    assert result.returncode == 3 and b"Try: install the suite" in result.stderr
    assert b"install.py PROJECT" in result.stderr and b"'session-core import'" in result.stderr
    assert not typo.exists()

    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    result = run_cli("export", "nosuch", "-o", str(precious), "--project", str(project))
    assert result.returncode == 3 and precious.read_text() == "keep me"
    assert run_cli("show", "55604662", "--limit", "-1", "--project",
                   str(project)).returncode == 2


def test_file_name_that_is_not_utf8_is_refused(project: Path, tmp_path: Path) -> None:
    import os

    weird = os.fsencode(tmp_path) + b"/caf\xe9.jsonl"
    with open(weird, "wb") as handle:
        handle.write((FIXTURES / "short.jsonl").read_bytes())
    result = subprocess.run([sys.executable, "-m", "session_core", "import", weird,
                             "--project", str(project)], capture_output=True, check=False)
    assert result.returncode == 7 and b"not valid UTF-8" in result.stderr


def test_an_export_to_a_folder_that_does_not_exist_names_the_file_asked_for(
        project: Path, tmp_path: Path) -> None:
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    target = tmp_path / "no such folder" / "out.jsonl"
    result = run_cli("export", "55604662", "-o", str(target), "--project", str(project))
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert f"Error: [Errno 2] No such file or directory: '{target}'".encode() in result.stderr


def test_the_cli_finds_the_project_from_any_folder_inside_it(project: Path) -> None:
    """From PROJECT/src/deep, with --project before the command or none at all."""
    assert run_cli("import", *map(str, sorted(DEMO.glob("*.jsonl"))),
                   "--project", str(project)).returncode == 0
    deep = project / "src" / "deep"
    deep.mkdir(parents=True)
    here = run_cli("list", cwd=deep)
    assert here.returncode == 0, here.stderr
    assert b"Please add retry logic to fetch_user" in here.stdout
    before = run_cli("--project", str(project), "list", cwd=deep.parent.parent.parent)
    assert before.returncode == 0 and before.stdout == here.stdout
    (project / "src" / ".git").mkdir()  # a repository inside: its root ends the walk
    nested = run_cli("list", cwd=deep)
    assert nested.returncode == 3 and str(deep).encode() in nested.stderr  # no archive of it


def test_list_filters_by_date_and_branch_and_shows_cost_and_branch(project: Path) -> None:
    assert run_cli("import", *map(str, sorted(DEMO.glob("*.jsonl"))),
                   "--project", str(project)).returncode == 0
    listed = run_cli("list", "--project", str(project)).stdout.decode()
    header, *rows = listed.splitlines()
    assert "COST" in header and "BRANCH" in header
    assert any("$0.03" in row and " main " in row for row in rows)
    assert run_cli("list", "--since", "2030-01-01", "--json", "--project",
                   str(project)).stdout.strip() == b"[]"
    on_main = json.loads(run_cli("list", "--branch", "main", "--json", "--project",
                                 str(project)).stdout)
    assert len(on_main) == 2 and {s["git_branch"] for s in on_main} == {"main"}
    assert json.loads(run_cli("list", "--branch", "other", "--json", "--project",
                              str(project)).stdout) == []
    every = json.loads(run_cli("list", "--json", "--project", str(project)).stdout)
    newest = run_cli("list", "--limit", "1", "--project", str(project)).stdout.decode()
    assert every[0]["uuid"] in newest and every[1]["uuid"] not in newest
    assert f"({len(every) - 1:,} older session(s) not shown: --limit 0" in newest
    assert len(json.loads(run_cli("list", "--limit", "0", "--json", "--project",
                                  str(project)).stdout)) == len(every)
