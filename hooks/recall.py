"""Claude Code's PreToolUse (edits) and PostToolUseFailure (Bash) hooks:
``python -S recall.py <Event>``.

Its own entry, lighter than ``run.py``: it runs on every edit and every failed command
(``session_core.hook.recall``). Started with ``-S`` (``suite_path``). Always exits 0.
"""

import sys

from suite_path import add_suite_to_path, hand_back  # hooks/ is sys.path[0]

add_suite_to_path()

try:
    from session_core.hook.recall import main  # the path is set just above
except ImportError:  # the plugin's environment broke: hand back to its entry, exit 0
    if not hand_back():
        raise
    sys.exit(0)

sys.exit(main(sys.argv[1:]))
