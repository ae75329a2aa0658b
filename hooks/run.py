"""Every Claude Code hook event of session-core: ``run.py <Event>`` (settings.template.json).

Thin on purpose: ``session_core.hook.run`` runs each handler registered for the event in one
process and always exits 0.
"""

import sys

from session_core.hook.run import main

sys.exit(main(sys.argv[1:]))
