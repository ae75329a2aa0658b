"""Registers the harness fixtures (claude_bin, claude_home, git_project, fake_api) for tests/e2e."""

from .claude_harness import (  # noqa: F401  (importing registers the fixtures)
    claude_bin_fixture,
    claude_home_fixture,
    fake_api_fixture,
    git_project_fixture,
)
