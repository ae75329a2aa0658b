"""Claude Code ``statusLine`` command: one line from the stdin JSON plus the archive's cached state.

Imports only what ``session_core.statusline`` needs (no SQLite, no pydantic): it runs on every
update of the status line.
"""

import sys

from session_core.statusline import main

sys.exit(main())
