"""Settings: defaults, then the user file, then ``<project>/.claude/session-core.json``.

``Settings`` is a plain class so that a hook (a fresh process per event) pays nothing
for it. A file's contents are checked against ``SPEC`` by a few lines of plain Python, strictly
(no ``"3"`` for 3, no ``true`` for 1) and refusing unknown keys, so a typo is an error that
names the key instead of a setting silently ignored. It was pydantic once: importing it cost
every hook of a project with a settings file ~65 ms, several times the rest of the hook.
"""

from __future__ import annotations

import os

from . import locations
from .errors import ConfigError
from .jsonlite import loads

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

    from .fs import StrPath

SPEC: dict[str, tuple[object, object, dict[str, int]]] = {
    # name: (type, default, bounds). Why each default, in the README's settings table.
    "compression_level": (int, 3, {"ge": 1, "le": 22}),
    "repack_level": (int, 9, {"ge": 1, "le": 22}),
    "frame_bytes": (int, 4 * 1024 * 1024, {"ge": 64 * 1024, "le": 64 * 1024 * 1024}),
    "repack_after_frames": (int, 16, {"ge": 2, "le": 10_000}),
    "max_indexed_line_bytes": (int, 32 * 1024 * 1024, {"ge": 1024}),
    "tool_text_chars": (int, 1_000_000, {"ge": 0, "le": 100_000_000}),
    "busy_timeout_ms": (int, 30_000, {"ge": 100, "le": 600_000}),
    "claude_config_dir": (str | None, None, {}),
    "handoff_chars": (int, 4000, {"ge": 200, "le": 9000}),
    # Below the template's shortest timeout (10 s): past it Claude Code kills the hook unlogged.
    "hook_budget_ms": (int, 8000, {"ge": 200, "le": 9000}),
    "hook_lock_wait_ms": (int, 200, {"ge": 0, "le": 9000}),
    "session_end_budget_ms": (int, 1200, {"ge": 100, "le": 1400}),
    "backup_interval_hours": (int, 24, {"ge": 0, "le": 24 * 365}),
    "keep_last": (int, 5, {"ge": 1, "le": 1000}),
    "keep_daily": (int, 7, {"ge": 0, "le": 1000}),
    "keep_weekly": (int, 4, {"ge": 0, "le": 1000}),
    "backup_dir": (str | None, None, {}),
    "check_interval_hours": (int, 24, {"ge": 0, "le": 24 * 365}),
    "auto_recover": (bool, True, {}),
    "recall": (bool, True, {}),
    "cleanup_days": (int, 0, {"ge": 0, "le": 100 * 365}),
    "max_size_mb": (int, 0, {"ge": 0, "le": 16 * 1024 * 1024}),
    "checkpoint_every_turns": (int, 0, {"ge": 0, "le": 100_000}),
    "checkpoint_keep_last": (int, 10, {"ge": 0, "le": 1000}),
    "checkpoint_keep_daily": (int, 7, {"ge": 0, "le": 1000}),
    "checkpoint_keep_weekly": (int, 4, {"ge": 0, "le": 1000}),
}
SETTING_NAMES = tuple(SPEC)


class Settings:
    """Every setting with its default; immutable by convention (use :meth:`replace`).

    A plain class, not a dataclass or pydantic model: hooks build one per process, and both
    imports are kept off their path (bench/README.md, the import ledger).
    """

    __slots__ = SETTING_NAMES

    def __init__(self, **values: object) -> None:
        unknown = set(values) - set(SPEC)
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        for name, (_, default, _) in SPEC.items():
            setattr(self, name, values.get(name, default))

    compression_level: int
    """zstd level for new frames; 3 meets the size bar at several times the speed of 9+."""
    repack_level: int
    """zstd level used when small live-ingest frames are merged into one."""
    frame_bytes: int
    """Raw bytes per zstd frame at most: bounds memory and keeps random access per session."""
    repack_after_frames: int
    """Merge a file's trailing small frames once this many have piled up (one per hook save)."""
    max_indexed_line_bytes: int
    """Longer lines are archived verbatim but not parsed (bounded memory on pathological input)."""
    tool_text_chars: int
    """Characters of each tool input and tool result put in the search index."""
    busy_timeout_ms: int
    claude_config_dir: str | None
    """Where Claude Code keeps transcripts, if not ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""
    handoff_chars: int
    """Most characters the SessionStart handoff may inject (Claude Code files away >10,000)."""
    hook_budget_ms: int
    """Wall time one hook process may take, below the template's per-hook timeouts."""
    hook_lock_wait_ms: int
    """How long a hook waits for another writer's lock before it spools what only its payload
    carries and leaves the transcript to the next save: a busy archive never makes the user
    wait."""
    session_end_budget_ms: int
    """SessionEnd shares a 1.5 s budget in Claude Code; finish well inside it."""
    backup_interval_hours: int
    """A Stop or SessionEnd backs the archive up when the newest backup is this old (0: never
    automatically); a backup that would not fit the hook's budget is left to the next one."""
    keep_last: int
    keep_daily: int
    keep_weekly: int
    """Retention: the newest ``keep_last``, and the newest of each of the last ``keep_daily``
    days and ``keep_weekly`` weeks; never the last backup holding a session no newer one does."""
    backup_dir: str | None
    """Where backups go (default: ``backups/`` in the archive's folder); ``~`` expanded, relative
    to the project. Each project gets a folder of its own inside it."""
    check_interval_hours: int
    """A Stop runs ``quick_check`` and the full-text index's check when the last ran this long
    ago (0: never), if it fits the budget."""
    auto_recover: bool
    """A hook that finds the archive damaged moves it aside, starts again from the newest
    backup and keeps saving; ``session-core recover`` then merges what the old file held."""
    recall: bool
    """Before the first edit of a file in a session, say which earlier session changed it and
    why; after a failed command, what fixed the same error before."""
    cleanup_days: int
    """``session-core cleanup`` removes sessions last active longer ago than this (0: no age
    limit). Off by default: the archive is there to outlive Claude Code's own deletion."""
    max_size_mb: int
    """``session-core cleanup`` removes the oldest sessions until the archive is at most this
    many MB (2^20 bytes; 0: no size limit)."""
    checkpoint_every_turns: int
    """A Stop takes an automatic checkpoint every this many prompts of a session (0: never);
    PreCompact and SessionEnd always take one."""
    checkpoint_keep_last: int
    checkpoint_keep_daily: int
    checkpoint_keep_weekly: int
    """Retention of a session's automatic checkpoints, by the rule ``keep_*`` gives backups:
    the newest ``checkpoint_keep_last``, and the newest of each of the last
    ``checkpoint_keep_daily`` days and ``checkpoint_keep_weekly`` weeks; named checkpoints are
    always kept. Settings of their own: a checkpoint is a row, a backup a whole archive, so
    one count would keep too few of one or too many of the other."""

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in SETTING_NAMES}

    def replace(self, **changes: object) -> Settings:
        return Settings(**{**self.as_dict(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.as_dict().items())})"


def _read_layer(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = loads(handle.read())
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: JSON and UTF-8
        raise ConfigError(
            f"cannot read settings file {path}: {exc}",
            "fix the JSON in that file or remove it",
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"settings file {path} must hold a JSON object", "write it as {\"key\": value}"
        )
    return data


def _validate(merged: dict[str, Any], sources: dict[str, str]) -> Settings:
    """Check types and ranges; the first problem, in ``SPEC`` order, names its file."""
    unknown = [key for key in merged if key not in SPEC]
    problems = [(key, _problem(key, merged[key])) for key in SPEC if key in merged]
    problems += [(key, "no such setting") for key in unknown]
    for key, problem in problems:
        if problem is not None:
            raise ConfigError(
                f"invalid setting '{key}' in {sources.get(key)}: {problem}",
                f"fix or remove '{key}'; valid keys: {', '.join(sorted(SETTING_NAMES))}",
            )
    return Settings(**merged)


def _problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the setting ``name``; None if nothing."""
    kind, _, bounds = SPEC[name]
    if kind is bool:
        return None if value is True or value is False else \
            f"must be true or false, not {_shown(value)}"
    if kind is int:
        if type(value) is not int:  # bool is an int subclass: true is no 1 here
            return f"must be a whole number, not {_shown(value)}"
        if "ge" in bounds and value < bounds["ge"]:
            return f"must be at least {bounds['ge']}, not {value}"
        if "le" in bounds and value > bounds["le"]:
            return f"must be at most {bounds['le']}, not {value}"
        return None
    return None if value is None or type(value) is str else \
        f"must be a string or null, not {_shown(value)}"


def _shown(value: object) -> str:
    from .jsonlite import dumps
    from .text import clip

    return clip(dumps(value), 60)


def load_settings(project: StrPath | None = None) -> Settings:
    """Merge the layers; the first invalid key, with the file it came from, is the error."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    layers = [locations.user_config_path()]
    if project is not None:
        layers.append(locations.project_config_path(project))
    for layer in layers:
        for key, value in _read_layer(layer).items():
            merged[key] = value
            sources[key] = layer
    return _validate(merged, sources) if merged else Settings()


def peek(project: StrPath, name: str) -> object:
    """One setting as the layers give it, without validating the rest: for the recall hooks,
    which sit on every tool call and must not fail over another setting's bad value.
    A value of the wrong type, or a file that cannot be read, gives the default (the saving
    hooks and the CLI report such files)."""
    kind, default, _ = SPEC[name]
    value = default
    for layer in (locations.user_config_path(), locations.project_config_path(project)):
        try:
            found = _read_layer(layer).get(name, value)
        except ConfigError:
            continue
        if isinstance(kind, type) and type(found) is kind:  # True is no int here
            value = found
    return value
