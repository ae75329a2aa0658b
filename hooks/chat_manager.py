"""Claude Code hook entrypoint; the event name is the first argument (see settings.template.json).

Thin on purpose: all work happens in `session_core.hookrun`, which runs every handler registered
for the event in one process and always exits 0.
"""

import sys

from session_core.hookrun import main

sys.exit(main(sys.argv[1:]))
