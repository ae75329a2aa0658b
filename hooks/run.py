"""Every Claude Code hook event of session-core: ``python -S run.py <Event>``
(settings.template.json).

Thin on purpose: ``session_core.hook.run`` runs each handler registered for the event in one
process and always exits 0. Started with ``-S`` (``suite_path``).
"""

import sys

from suite_path import suite_main  # hooks/ is sys.path[0]: the script's own folder

sys.exit(suite_main("session_core.hook.run")(sys.argv[1:]))
