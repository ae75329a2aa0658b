"""claude-session-core: every Claude Code session of a project, losslessly, in SQLite."""

__version__ = "0.1.0"
