"""Score the SessionStart handoff against hand-written key facts of real sessions.

``python bench/handoff_score.py [--show] [--json FILE]``: for every ``bench/handoff_facts/*.json``
(the facts a careful person would hand over, written by reading each transcript of
``../shared/transcripts``), the transcript (and its subagents) is imported into an archive of
its own in a temp folder, ``session-core handoff --session ID`` prints what the next session
would be handed, and each fact counts as found when one of its ``match`` alternatives has every
term in that text (case-insensitive, whitespace collapsed). Prints facts found / facts and the
characters used per session, the total, and whether every handoff kept within its budget
(``handoff_chars``, 4,000 by default). Always exits 0 unless a handoff could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "bench" / "handoff_facts"
TRANSCRIPTS = ROOT.parent / "shared" / "transcripts"
BUDGET = 4000


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def found(fact: dict[str, object], text: str) -> bool:
    """Whether ``text`` states ``fact``: every term of one of its alternatives occurs in it."""
    flat = _flat(text)
    alternatives = fact["match"]
    assert isinstance(alternatives, list)
    return any(all(_flat(term) in flat for term in terms) for terms in alternatives)


def _session_cwd(transcript: Path, session: str) -> str | None:
    with transcript.open("rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("sessionId") == session \
                    and isinstance(record.get("cwd"), str):
                return str(record["cwd"])
    return None


def handoff_for(facts: dict[str, object], work: Path) -> str:
    """The handoff a next session of that project would get, from a fresh archive."""
    transcript = TRANSCRIPTS / str(facts["transcript"])
    session = str(facts["session"])
    folder = work / "projects" / "-bench-project"
    folder.mkdir(parents=True)
    target = folder / f"{session}.jsonl"
    shutil.copyfile(transcript, target)
    subagents = transcript.with_suffix("") / "subagents"
    paths = [str(target)]
    if subagents.is_dir():
        shutil.copytree(subagents, folder / session / "subagents")
        paths += [str(p) for p in sorted((folder / session / "subagents").glob("*.jsonl"))]
    project = _session_cwd(transcript, session) or str(work / "project")
    env = {**os.environ, "SESSION_CORE_DATA_DIR": str(work / "data"),
           "SESSION_CORE_USER_CONFIG": str(work / "no-settings.json")}
    base = [sys.executable, "-m", "session_core"]
    subprocess.run([*base, "import", "--project", project, *paths], env=env, check=True,
                   capture_output=True, cwd=work)
    done = subprocess.run([*base, "handoff", "--session", session, "--project", project],
                          env=env, check=True, capture_output=True, text=True, cwd=work)
    return done.stdout.rstrip("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each handoff and its misses")
    parser.add_argument("--json", metavar="FILE", help="write the scores as JSON here")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    total_found = total = 0
    for path in sorted(FACTS.glob("*.json")):
        facts = json.loads(path.read_text())
        with tempfile.TemporaryDirectory(prefix="handoff-score-") as tmp:
            text = handoff_for(facts, Path(tmp))
        hits = [found(fact, text) for fact in facts["facts"]]
        total_found, total = total_found + sum(hits), total + len(hits)
        rows.append({"session": path.stem, "found": sum(hits), "facts": len(hits),
                     "chars": len(text), "within_budget": len(text) <= BUDGET,
                     "missed": [f"{f['kind']}: {f['fact']}" for f, hit in
                                zip(facts["facts"], hits, strict=True) if not hit]})
        if args.show:
            print(f"===== {path.stem} ({len(text)} chars)\n{text}\n")
            for miss in rows[-1]["missed"]:
                print(f"  MISSED {miss}")
            print()
    width = max(len(r["session"]) for r in rows)
    print(f"{'session':<{width}}  found/facts  chars  budget")
    for r in rows:
        print(f"{r['session']:<{width}}  {r['found']:>5}/{r['facts']:<5}  {r['chars']:>5}"
              f"  {'ok' if r['within_budget'] else 'OVER'}")
    share = total_found / total if total else 0.0
    within = all(r["within_budget"] for r in rows)
    print(f"{'all':<{width}}  {total_found:>5}/{total:<5}  {share:.0%} of the facts;"
          f" {'every handoff within' if within else 'NOT every handoff within'} {BUDGET} chars")
    print(f"bar: >= 90% of the facts: {'PASS' if share >= 0.9 else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "found": total_found,
                                               "facts": total, "share": share}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
