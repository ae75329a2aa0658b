"""Claude Code's PreToolUse (edits) and PostToolUseFailure (Bash) hooks:
``python -S recall.py <Event>``.

Its own entry, lighter than ``run.py``: it runs on every edit and every failed command
(``session_core.hook.recall``). Started with ``-S``: ``site`` costs about 2 ms of a process
that is over in 15, so the suite's own venv (the installer's layout) is put on the path here;
anything else (an editable install, another layout) gets the normal ``site``. Always exits 0.
"""

import os
import sys


def _find_package() -> None:
    if "site" in sys.modules:
        return
    venv = os.path.dirname(os.path.dirname(sys.executable))  # without site, sys.prefix is
    lib = os.path.join(venv, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                       "site-packages")  # the base interpreter's: the venv is found by site
    if os.path.isfile(os.path.join(venv, "pyvenv.cfg")) \
            and os.path.isfile(os.path.join(lib, "session_core", "__init__.py")):
        sys.path.append(lib)
    else:
        import site

        site.main()


_find_package()

from session_core.hook.recall import main  # noqa: E402  (the path is set just above)

sys.exit(main(sys.argv[1:]))
