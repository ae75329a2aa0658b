"""The ``session-core`` command: archive commands, renderings, and (in ``setup``) installing
the hooks into a project. Errors become ``Error:`` / ``Try:`` and an exit code here only."""
