"""Claude Code's ``statusLine`` command: ``python -S status_line.py``, one line from the stdin
JSON and the archive's state.

Imports only what ``session_core.hook.statusline`` needs (no SQLite, no pydantic): it runs on
every update of the status line. Started with ``-S`` (``suite_path``).
"""

import sys

from suite_path import suite_main  # hooks/ is sys.path[0]: the script's own folder

sys.exit(suite_main("session_core.hook.statusline")())
