"""Claude Code's PreToolUse (edits) and PostToolUseFailure (Bash) hooks: ``recall.py <Event>``.

Its own entry, lighter than ``run.py``: it runs on every edit and every failed command
(``session_core.hook.recall``). It always exits 0.
"""

import sys

from session_core.hook.recall import main

sys.exit(main(sys.argv[1:]))
