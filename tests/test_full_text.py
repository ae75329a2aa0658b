"""The whole text of tool results is searchable, not a prefix of it; an archive whose index was
built another way (an older version, a smaller ``tool_text_chars``) is indexed again by the
next command, and ``verify`` neither calls it damaged meanwhile nor after."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from session_core.base import locations

from .conftest import corpus_transcripts, run_cli

TRANSCRIPTS = corpus_transcripts()
OLD_LIMIT = 2000
"""What the index took of each tool text before it took the whole."""
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{7,}")


def _session_of(path: Path) -> str:
    return path.parent.parent.name if path.parent.name == "subagents" else path.stem


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "toolUseResult"  # not indexed
                for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _split(record: Any) -> tuple[list[str], list[str]]:
    """(tool result texts, every other string) of a message record."""
    message = record.get("message") if isinstance(record, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    results, other = [], []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            inner = block.get("content")
            results.append(inner if isinstance(inner, str) else " ".join(
                b.get("text", "") for b in inner or [] if isinstance(b, dict)))
        else:
            other += _strings(block)
    if not isinstance(content, list):
        other += _strings(record)
    return results, other


def deep_words() -> dict[str, str]:
    """Words of one session that occur only past the first 2,000 characters of its tool
    results: word -> session (one word per session, so several sessions are tested)."""
    shallow: set[str] = set()
    deep: dict[str, set[str]] = {}
    for path in TRANSCRIPTS:
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("type") not in ("user", "assistant"):
                continue
            session = str(record.get("sessionId") or _session_of(path))
            results, other = _split(record)
            for text in other:
                shallow.update(w.lower() for w in _WORD.findall(text))
            for text in results:
                for match in _WORD.finditer(text):
                    word = match.group().lower()
                    if match.start() < OLD_LIMIT:
                        shallow.add(word)
                    else:
                        deep.setdefault(word, set()).add(session)
    chosen: dict[str, str] = {}
    for word, found in sorted(deep.items()):
        if word not in shallow and len(found) == 1 and next(iter(found)) not in chosen.values():
            chosen[word] = next(iter(found))
    return chosen


WORDS = deep_words()


def search(project: Path, query: str) -> list[dict[str, Any]]:
    done = run_cli("search", query, "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr
    hits: list[dict[str, Any]] = json.loads(done.stdout)
    return hits


def _import(project: Path, env: dict[str, str] | None = None) -> None:
    done = run_cli("import", *map(str, TRANSCRIPTS), "--project", str(project), env=env)
    assert done.returncode == 0, done.stderr


def _set_chars(home: Path, chars: int) -> dict[str, str]:
    config = home / f"chars-{chars}.json"
    config.write_text(json.dumps({"tool_text_chars": chars}))
    return {"SESSION_CORE_USER_CONFIG": str(config)}


def test_the_corpus_has_words_deep_in_tool_results() -> None:
    assert len(WORDS) >= 3, WORDS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("full text")
    _import(project)
    return project


@pytest.mark.parametrize("word", sorted(WORDS))
def test_a_word_past_the_first_2000_characters_finds_its_session(corpus: Path,
                                                                  word: str) -> None:
    hits = search(corpus, word)
    assert hits and hits[0]["session_id"] == WORDS[word], (word, hits[:1])
    assert word in hits[0]["snippet"].lower()


def test_an_index_built_with_a_prefix_is_indexed_again_and_verifies(
        tmp_path: Path, isolated_env: Path) -> None:
    project = tmp_path / "old"
    project.mkdir()
    _import(project, _set_chars(isolated_env, OLD_LIMIT))
    word = sorted(WORDS)[0]
    archive = locations.archive_path(str(project))
    with sqlite3.connect(archive) as conn:  # as the version before index versions left it
        conn.execute("DELETE FROM meta WHERE key = 'index_version'")
    verified = run_cli("verify", "--project", str(project))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert b"not compared" in verified.stdout, verified.stdout

    done = run_cli("search", word, "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr
    assert b"Indexing" in done.stderr and json.loads(done.stdout)[0]["session_id"] == WORDS[word]
    again = run_cli("search", word, "--json", "--project", str(project))
    assert b"Indexing" not in again.stderr  # once
    verified = run_cli("verify", "--project", str(project))
    assert verified.returncode == 0 and b"against the archived lines" in verified.stdout, \
        verified.stdout


def test_a_smaller_tool_text_setting_is_honoured_and_the_index_still_verifies(
        tmp_path: Path, isolated_env: Path) -> None:
    project = tmp_path / "small"
    project.mkdir()
    _import(project)
    small = _set_chars(isolated_env, OLD_LIMIT)
    word = sorted(WORDS)[0]
    done = run_cli("search", word, "--json", "--project", str(project), env=small)
    assert done.returncode == 0 and b"Indexing" in done.stderr, done.stderr
    assert json.loads(done.stdout) == []  # the word is past what the index now takes
    verified = run_cli("verify", "--project", str(project), env=small)
    assert verified.returncode == 0 and b"against the archived lines" in verified.stdout, \
        verified.stdout
