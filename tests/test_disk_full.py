"""A full disk (a small tmpfs): saves fail with a clear error and the status line says so even
though nothing can be written; the archive opens and verifies, reading commands work, and the
next import once space returns completes it byte for byte."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_core.base import locations

from .conftest import FIXTURES, run_cli
from .hookkit import (
    HOOK_TARGETS_BY_EVENT,
    SESSION,
    World,
    encode,
    make_world,
    payload,
    run_target,
    status_line,
)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_fails_loudly_reads_fine_and_catches_up(disk: Path, project: Path,
                                                           isolated_env: Path) -> None:
    world: World = make_world(project, os.environ)
    world.env[locations.DATA_DIR_ENV] = str(disk / "data")
    lines = FIXTURES.joinpath(f"{SESSION}.jsonl").read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:10]))
    stop = HOOK_TARGETS_BY_EVENT["Stop"]
    assert run_target(stop, encode(payload(world)), world).returncode == 0
    filler = _fill(disk)
    world.transcript.write_bytes(b"".join(lines))  # the session goes on
    run = run_target(stop, encode(payload(world)), world)
    assert run.returncode == 0  # never blocks Claude Code
    line = status_line(world)
    assert "⚠" in line and "saved" not in line, line

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        result = run_cli(*args, "--project", str(project), env=world.env)
        assert b"Traceback" not in result.stderr, result.stderr
        return result

    for command in (["list"], ["show", SESSION], ["status"], ["verify"],
                    ["export", SESSION]):
        result = cli(*command)
        assert result.returncode == 0, (command, result.stderr.decode())
    assert cli("export", SESSION).stdout == b"".join(lines[:10])  # what was saved, exactly
    failed = cli("import")
    assert failed.returncode != 0 and b"disk" in failed.stderr.lower(), failed.stderr
    filler.unlink()
    assert cli("import").returncode == 0
    assert cli("export", SESSION).stdout == b"".join(lines)
    assert cli("verify").returncode == 0
    assert run_target(stop, encode(payload(world)), world).returncode == 0
    assert "saved" in status_line(world)
