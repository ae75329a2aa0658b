"""Settings: defaults, then the user file, then ``<project>/.claude/session-core.json``.

``Settings`` is a plain frozen dataclass so that a hook (a fresh process per event) pays nothing
for it when no settings file exists, which is the common case. A file's contents are validated
with pydantic, imported only then, with ``extra='forbid'`` so a typo is an error that names the
key instead of a setting silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import paths
from .errors import ConfigError


def _bounds(low: int, high: int | None = None) -> dict[str, int]:
    return {"ge": low} if high is None else {"ge": low, "le": high}


@dataclass(frozen=True)
class Settings:
    compression_level: int = field(default=3, metadata=_bounds(1, 22))
    """zstd level for new frames; 3 meets the size bar at several times the speed of 9+."""
    repack_level: int = field(default=9, metadata=_bounds(1, 22))
    """zstd level used when small live-ingest frames are merged into one."""
    frame_bytes: int = field(default=4 * 1024 * 1024,
                             metadata=_bounds(64 * 1024, 64 * 1024 * 1024))
    """Raw bytes per zstd frame at most: bounds memory and keeps random access per session."""
    repack_after_frames: int = field(default=16, metadata=_bounds(2, 10_000))
    """Merge a file's trailing small frames once this many have piled up (one per hook save)."""
    max_indexed_line_bytes: int = field(default=32 * 1024 * 1024, metadata=_bounds(1024))
    """Longer lines are archived verbatim but not parsed (bounded memory on pathological input)."""
    tool_text_chars: int = field(default=2000, metadata=_bounds(0, 1_000_000))
    """Characters of each tool input and tool result put in the search index."""
    busy_timeout_ms: int = field(default=30_000, metadata=_bounds(100, 600_000))
    claude_config_dir: str | None = None
    """Where Claude Code keeps transcripts, if not ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""
    handoff_chars: int = field(default=4000, metadata=_bounds(200, 9000))
    """Most characters the SessionStart handoff may inject (Claude Code files away >10,000)."""
    hook_budget_ms: int = field(default=8000, metadata=_bounds(200, 60_000))
    """Wall time one hook process may take, below the template's per-hook timeouts."""
    session_end_budget_ms: int = field(default=1200, metadata=_bounds(100, 1400))
    """SessionEnd shares a 1.5 s budget in Claude Code; finish well inside it."""


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def _read_layer(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"cannot read settings file {path}: {exc}",
            "fix the JSON in that file or remove it",
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"settings file {path} must hold a JSON object", "write it as {\"key\": value}"
        )
    return data


def _validate(merged: dict[str, Any], sources: dict[str, Path]) -> Settings:
    """Check types (strictly: no "3" for 3) and ranges with pydantic; first error names its file."""
    from pydantic import ConfigDict, Field, ValidationError, create_model

    schema: dict[str, Any] = {
        f.name: (f.type, Field(f.default, strict=True, **f.metadata)) for f in fields(Settings)
    }
    model = create_model("Settings", __config__=ConfigDict(extra="forbid"), **schema)
    try:
        checked = model(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        where = sources.get(key.split(".")[0])
        raise ConfigError(
            f"invalid setting '{key}' in {where}: {first['msg']}",
            f"fix or remove '{key}'; valid keys: {', '.join(sorted(SETTING_NAMES))}",
        ) from exc
    return Settings(**checked.model_dump())


def load_settings(project: Path | None = None) -> Settings:
    """Merge the layers; the first invalid key, with the file it came from, is the error."""
    merged: dict[str, Any] = {}
    sources: dict[str, Path] = {}
    layers = [paths.user_config_path()]
    if project is not None:
        layers.append(paths.project_config_path(project))
    for layer in layers:
        for key, value in _read_layer(layer).items():
            merged[key] = value
            sources[key] = layer
    return _validate(merged, sources) if merged else Settings()
