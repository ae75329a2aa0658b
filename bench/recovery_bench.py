"""How long the archive's care takes per 100 MB of raw transcripts, against baselines measured
in the same run (see bench/README.md, "Recovery").

    python bench/recovery_bench.py [--mb 100] [--repeat 3]

Builds ``--mb`` of transcripts from copies of ../shared/transcripts (ids rewritten per copy,
as ``ingest_bench`` does), imports them, then times, best of ``--repeat``:

- ``verify`` (everything, the index derived again included) and ``verify --quick``;
- ``backup``;
- ``recover`` of an archive overwritten with garbage, from a backup, transcripts gone;
- ``recover`` of an archive with damaged frames and no backup, transcripts gone (everything
  salvaged from the damaged file through the ingest pipeline);
- a Stop hook with the daily check due against the same Stop without it.

Baselines: a parse-only pass over the raw transcripts (``json.loads`` of every line), a copy
of the archive file, and ``python -I -S -c pass`` / ``python -c pass`` for the Stop. Always
exits 0; writes bench/results/recovery.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from ingest_bench import build_synthetic, parse_all, shared_corpus  # noqa: E402

from session_core.transcript.layout import project_folder  # noqa: E402

SHARED = REPO.parent / "shared" / "transcripts"


def best(repeat: int, run: Callable[[], object], before: Callable[[], object] | None = None
         ) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


class World:
    def __init__(self, root: Path, mb: int) -> None:
        self.root = root
        home = root / "home"
        self.project = root / "project"
        self.project.mkdir(parents=True)
        self.env = {**os.environ, "HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"),
                    "XDG_STATE_HOME": str(home / "state"),
                    "SESSION_CORE_USER_CONFIG": str(root / "none.json"),
                    "CLAUDE_PROJECT_DIR": str(self.project)}
        self.env.pop("SESSION_CORE_DATA_DIR", None)
        sources = shared_corpus(SHARED)
        size = sum(p.stat().st_size for p in sources)
        copies = max(1, -(-mb * 1_000_000 // size))
        os.environ["CLAUDE_CONFIG_DIR"] = self.env["CLAUDE_CONFIG_DIR"]
        self.folder = Path(project_folder(self.project))
        staging = root / "staging"
        self.files = build_synthetic(sources, SHARED, staging, copies)
        self.folder.mkdir(parents=True)
        moved = []
        for path in self.files:  # one Claude Code folder: top-level files, subagents below
            rel = path.relative_to(staging)
            flat = self.folder / (rel.parts[0] + "-" + "-".join(rel.parts[1:]) if
                                  rel.parent.name != "subagents" else Path(*rel.parts[1:]))
            flat.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, flat)
            moved.append(flat)
        self.files = moved
        self.raw = sum(p.stat().st_size for p in self.files)
        self.archive = self.project / ".claude" / "session-core" / "archive.db"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run([sys.executable, "-m", "session_core", *args, "--project",
                               str(self.project)], env=self.env, capture_output=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{args}: {done.returncode} {done.stderr[-500:]!r}")
        return done


def per_100mb(seconds: float, raw: int) -> float:
    return seconds * 100_000_000 / raw


def measure(mb: int, repeat: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="recovery-bench-"))
    try:
        world = World(root, mb)
        world.cli("import")
        saved = root / "saved.db"
        shutil.copyfile(world.archive, saved)  # checkpointed by the import's close
        hidden = root / "gone"

        def put_back(with_backup: bool, damage: Callable[[], None]) -> Callable[[], None]:
            def reset() -> None:
                shutil.rmtree(world.archive.parent, ignore_errors=True)
                world.archive.parent.mkdir(parents=True)
                shutil.copyfile(saved, world.archive)
                if with_backup:
                    world.cli("backup")
                if world.folder.exists():
                    world.folder.rename(hidden)  # Claude Code deleted them
                damage()
            return reset

        def restore_folder() -> None:
            if hidden.exists():
                shutil.rmtree(world.folder, ignore_errors=True)
                hidden.rename(world.folder)

        def garbage() -> None:
            world.archive.write_bytes(os.urandom(1 << 16) * (saved.stat().st_size >> 16))

        def bad_frames() -> None:
            with sqlite3.connect(world.archive) as conn:
                for chunk_id, data in conn.execute(
                        "SELECT id, data FROM chunks WHERE id % 50 = 0").fetchall():
                    broken = bytearray(data)
                    broken[len(broken) // 2] ^= 0x20
                    conn.execute("UPDATE chunks SET data = ? WHERE id = ?",
                                 (bytes(broken), chunk_id))

        results: dict[str, float] = {}
        results["parse-only pass (baseline)"] = best(repeat, lambda: parse_all(world.files))
        results["copy of the archive (baseline)"] = best(
            repeat, lambda: shutil.copyfile(saved, root / "copy.db"))
        results["verify"] = best(repeat, lambda: world.cli("verify"))
        results["verify --quick"] = best(repeat, lambda: world.cli("verify", "--quick"))
        results["backup"] = best(repeat, lambda: world.cli("backup"))
        results["recover: garbage, from a backup"] = best(
            repeat, lambda: world.cli("recover"), put_back(True, garbage))
        restore_folder()
        results["recover: bad frames, no backup"] = best(
            repeat, lambda: world.cli("recover"), put_back(False, bad_frames))
        restore_folder()
        stop = stop_timings(world, saved, repeat)
        return {"raw_bytes": world.raw, "files": len(world.files), "seconds": results,
                "stop": stop}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def stop_timings(world: World, saved: Path, repeat: int) -> dict[str, float]:
    """A Stop on a 2-line append, with the daily check due and without, paired."""
    shutil.rmtree(world.archive.parent, ignore_errors=True)
    world.archive.parent.mkdir(parents=True)
    shutil.copyfile(saved, world.archive)
    world.cli("backup")  # not due: the Stop times the check alone
    session = str(uuid.uuid4())
    transcript = world.folder / f"{session}.jsonl"
    line = json.dumps({"type": "user", "sessionId": session, "uuid": "", "timestamp":
                       "2026-12-01T10:00:00.000Z", "message": {"role": "user", "content": "x"}})
    samples: dict[str, list[float]] = {"check due": [], "no check": [], "floor": [], "bare": []}
    for _ in range(max(5, repeat * 3)):
        for kind in samples:
            if kind in ("floor", "bare"):
                argv = [sys.executable, *(["-I", "-S"] if kind == "floor" else []), "-c", "pass"]
                started = time.perf_counter()
                subprocess.run(argv, check=True)
                samples[kind].append(time.perf_counter() - started)
                continue
            with open(transcript, "a") as out:
                out.write(line.replace('"uuid": ""', f'"uuid": "{uuid.uuid4()}"') + "\n")
            if kind == "check due":
                with sqlite3.connect(world.archive) as conn:
                    conn.execute("DELETE FROM meta WHERE key = 'checked_at'")
            payload = json.dumps({"session_id": session, "transcript_path": str(transcript),
                                  "cwd": str(world.project), "hook_event_name": "Stop"})
            started = time.perf_counter()
            subprocess.run([sys.executable, str(REPO / "hooks" / "run.py"), "Stop"],
                           input=payload.encode(), env=world.env, check=True)
            samples[kind].append(time.perf_counter() - started)
    return {kind: statistics.median(values) for kind, values in samples.items()}


def render(data: dict[str, object]) -> str:
    raw = int(data["raw_bytes"])  # type: ignore[call-overload]
    seconds: dict[str, float] = data["seconds"]  # type: ignore[assignment]
    parse = seconds["parse-only pass (baseline)"]
    copy = seconds["copy of the archive (baseline)"]
    lines = [f"{raw / 1e6:.0f} MB raw in {data['files']} files",
             f"{'':38} {'s/100 MB':>9} {'x parse':>8} {'x copy':>8}"]
    for name, value in seconds.items():
        lines.append(f"{name:38} {per_100mb(value, raw):9.2f} {value / parse:8.2f}"
                     f" {value / copy:8.1f}")
    stop: dict[str, float] = data["stop"]  # type: ignore[assignment]
    lines.append("")
    lines.append(f"Stop, daily check due   {stop['check due'] * 1000:7.1f} ms"
                 f"  ({stop['check due'] / stop['bare']:.2f}x python -c pass,"
                 f" {stop['check due'] / stop['floor']:.2f}x -I -S)")
    lines.append(f"Stop, no check          {stop['no check'] * 1000:7.1f} ms"
                 f"  ({stop['no check'] / stop['bare']:.2f}x python -c pass,"
                 f" {stop['no check'] / stop['floor']:.2f}x -I -S)")
    lines.append(f"the check adds          {(stop['check due'] - stop['no check']) * 1000:7.1f}"
                 f" ms ({stop['check due'] / stop['no check']:.2f}x the Stop)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = measure(args.mb, args.repeat)
    print(render(data))
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "recovery.json").write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
