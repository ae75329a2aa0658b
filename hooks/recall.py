"""Claude Code's PreToolUse (edits) and PostToolUseFailure (Bash) hooks:
``python -S recall.py <Event>``.

Its own entry, lighter than ``run.py``: it runs on every edit and every failed command
(``session_core.hook.recall``). Started with ``-S`` (``suite_path``). Always exits 0.
"""

import sys

from suite_path import suite_main  # hooks/ is sys.path[0]: the script's own folder

sys.exit(suite_main("session_core.hook.recall")(sys.argv[1:]))
