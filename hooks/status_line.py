"""Claude Code's ``statusLine`` command: one line from the stdin JSON and the archive's state.

Imports only what ``session_core.hook.statusline`` needs (no SQLite, no pydantic): it runs on
every update of the status line.
"""

import sys

from session_core.hook.statusline import main

sys.exit(main())
