"""Installing the suite into a project and taking it out again.

Standard library only, and importing nothing of the package above ``session_core.base``:
``install.py`` runs this code with the system Python before any virtual environment exists
(``--dry-run``, the Claude Code version check, the ``--shared`` question)."""
