"""Every Claude Code hook event of session-core: ``python -S run.py <Event>``
(settings.template.json).

Thin on purpose: ``session_core.hook.run`` runs each handler registered for the event in one
process and always exits 0. Started with ``-S`` (``suite_path``).
"""

import sys

from suite_path import add_suite_to_path, hand_back  # hooks/ is sys.path[0]

add_suite_to_path()

try:
    from session_core.hook.run import main  # the path is set just above
except ImportError:  # the plugin's environment broke: hand back to its entry, exit 0
    if not hand_back():
        raise
    sys.exit(0)

sys.exit(main(sys.argv[1:]))
