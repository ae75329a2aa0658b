"""Every Claude Code hook event of session-core: ``python -S run.py <Event>``
(settings.template.json).

Thin on purpose: ``session_core.hook.run`` runs each handler registered for the event in one
process and always exits 0. Started with ``-S`` (``suite_path``).
"""

import sys

from suite_path import add_suite_to_path  # hooks/ is sys.path[0]: the script's own folder

add_suite_to_path()

from session_core.hook.run import main  # noqa: E402  (the path is set just above)

sys.exit(main(sys.argv[1:]))
