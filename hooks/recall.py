"""Claude Code's PreToolUse (edits) and PostToolUseFailure (Bash) hooks:
``python -S recall.py <Event>``.

Its own entry, lighter than ``run.py``: it runs on every edit and every failed command
(``session_core.hook.recall``). Started with ``-S`` (``suite_path``). Always exits 0.
"""

import sys

from suite_path import add_suite_to_path  # hooks/ is sys.path[0]: the script's own folder

add_suite_to_path()

from session_core.hook.recall import main  # noqa: E402  (the path is set just above)

sys.exit(main(sys.argv[1:]))
