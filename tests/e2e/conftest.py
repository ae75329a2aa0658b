"""Registers the harness fixtures (claude_bin, claude_home, git_project, fake_api) for tests/e2e,
and the suite's data folder the end-to-end modules install into."""

from pathlib import Path

import pytest

from .claude_harness import (  # noqa: F401  (importing registers the fixtures)
    claude_bin_fixture,
    claude_home_fixture,
    fake_api_fixture,
    git_project_fixture,
)


@pytest.fixture(scope="session")
def suite_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir (venv + hooks) for the run: a fresh venv and pip install take ~15 s."""
    return tmp_path_factory.mktemp("suite data")
