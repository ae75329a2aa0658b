"""The handoff against hand-written key facts of every real session in ../shared/transcripts
(``bench/handoff_facts``, written by reading each transcript): a next session must be told at
least 90% of what a careful person would hand over, each handoff within its budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def test_the_handoffs_carry_the_key_facts_of_real_sessions(tmp_path: Path) -> None:
    report = tmp_path / "scores.json"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "handoff_score.py"),
                           "--json", str(report)], capture_output=True, text=True, timeout=300,
                          check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    scores = json.loads(report.read_text())
    assert len(scores["rows"]) == len(list((REPO / "bench" / "handoff_facts").glob("*.json")))
    assert scores["facts"] >= 80 and scores["share"] >= 0.9, done.stdout
    assert all(row["within_budget"] for row in scores["rows"]), done.stdout
