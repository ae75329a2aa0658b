"""Claude Code's ``statusLine`` command: ``python -S status_line.py``, one line from the stdin
JSON and the archive's state.

Imports only what ``session_core.hook.statusline`` needs (no SQLite, no pydantic): it runs on
every update of the status line. Started with ``-S`` (``suite_path``).
"""

import sys

from suite_path import add_suite_to_path, hand_back  # hooks/ is sys.path[0]

add_suite_to_path()

try:
    from session_core.hook.statusline import main  # the path is set just above
except ImportError:  # the plugin's environment broke: hand back to its entry, exit 0
    if not hand_back():
        raise
    sys.exit(0)

sys.exit(main())
