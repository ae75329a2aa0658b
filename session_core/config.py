"""Settings: defaults, then the user file, then ``<project>/.claude/session-core.json``.

Validated with pydantic and ``extra='forbid'`` so a typo is an error that names the key instead of
a setting silently ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import paths
from .errors import ConfigError


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    compression_level: int = Field(3, ge=1, le=22)
    """zstd level for new frames; 3 meets the size bar at several times the speed of 9+."""
    repack_level: int = Field(9, ge=1, le=22)
    """zstd level used when small live-ingest frames are merged into one."""
    frame_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    """Raw bytes per zstd frame at most: bounds memory and keeps random access per session."""
    repack_after_frames: int = Field(16, ge=2, le=10_000)
    """Merge a file's trailing small frames once this many have piled up (one per hook save)."""
    max_indexed_line_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    """Longer lines are archived verbatim but not parsed (bounded memory on pathological input)."""
    tool_text_chars: int = Field(2000, ge=0, le=1_000_000)
    """Characters of each tool input and tool result put in the search index."""
    busy_timeout_ms: int = Field(30_000, ge=100, le=600_000)
    claude_config_dir: str | None = None
    """Where Claude Code keeps transcripts, if not ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""


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
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        where = sources.get(key.split(".")[0])
        raise ConfigError(
            f"invalid setting '{key}' in {where}: {first['msg']}",
            f"fix or remove '{key}'; valid keys: {', '.join(sorted(Settings.model_fields))}",
        ) from exc
