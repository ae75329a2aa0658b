"""Settings: defaults < user file < project file, and a bad key is named in the error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from session_core.base.errors import ConfigError
from session_core.base.settings import load_settings

from .conftest import run_cli


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_project_file_overrides_user_file(project: Path, isolated_env: Path) -> None:
    _write(isolated_env / "session-core.json", {"compression_level": 5, "tool_text_chars": 10})
    _write(project / ".claude" / "session-core.json", {"compression_level": 7})
    settings = load_settings(project)
    assert settings.compression_level == 7
    assert settings.tool_text_chars == 10
    assert load_settings(None).compression_level == 5


@pytest.mark.parametrize(("data", "key"), [
    ({"compresion_level": 3}, "compresion_level"),
    ({"compression_level": 99}, "compression_level"),
    ({"busy_timeout_ms": "soon"}, "busy_timeout_ms"),
    ({"keep_last": True}, "keep_last"),  # strict: true is no 1
    ({"compression_level": 3.0}, "compression_level"),
    ({"auto_recover": 1}, "auto_recover"),
    ({"backup_dir": 7}, "backup_dir"),
    ({"keep_daily": -1}, "keep_daily"),
])
def test_bad_setting_is_named_with_its_file(project: Path, data: object, key: str) -> None:
    _write(project / ".claude" / "session-core.json", data)
    with pytest.raises(ConfigError) as caught:
        load_settings(project)
    assert f"'{key}'" in caught.value.message
    assert "session-core.json" in caught.value.message
    result = run_cli("status", "--project", str(project))
    assert result.returncode == 8
    assert f"'{key}'".encode() in result.stderr and b"Try:" in result.stderr


def test_settings_file_that_is_not_json(project: Path) -> None:
    path = project / ".claude" / "session-core.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = run_cli("list", "--project", str(project))
    assert result.returncode == 8
    assert str(path).encode() in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast path is Linux-only")
@pytest.mark.parametrize("xdg", [None, "/tmp/x dg", "relative/dir", ""])
def test_user_folders_match_platformdirs(monkeypatch: pytest.MonkeyPatch, xdg: str | None) -> None:
    """Hooks compute these without importing platformdirs; the answer must be the same."""
    import platformdirs

    from session_core.base import locations

    monkeypatch.delenv("SESSION_CORE_USER_CONFIG", raising=False)
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        if xdg is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, xdg)
    assert Path(locations.user_config_path()) == Path(
        platformdirs.user_config_dir("session-core", appauthor=False)) / "config.json"
    assert Path(locations.log_dir()) == Path(platformdirs.user_log_dir("session-core",
                                                                        appauthor=False))
