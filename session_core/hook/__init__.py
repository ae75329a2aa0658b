"""Claude Code's hook processes: one per event, running its handlers in order, and the status
line. Never blocks Claude Code: failures are logged and the exit code is 0."""
