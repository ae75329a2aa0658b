"""The arguments of ``session-core install`` and ``uninstall``, defined once: the CLI and the
``install.py`` bootstrap (which parses them before any virtual environment exists) share them."""

from __future__ import annotations

import argparse

SETUP_COMMANDS = frozenset({"install", "uninstall"})

SHARED_HELP = (
    "use .claude/settings.json (committed) instead of settings.local.json; puts YOUR absolute"
    " paths in a file your team shares (each teammate must install too); asks first")
INSTALL_EPILOG = (
    "--shared writes absolute paths of this user's install (venv, hooks folder) into the"
    " committed .claude/settings.json: teammates who have not installed, or whose HOME differs,"
    " get a failing hook in every session. Each teammate must run the install themselves;"
    " paths are per user. It asks first (--yes skips that).")


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project folder (default: current directory)")
    parser.add_argument("--shared", action="store_true", help=SHARED_HELP)
    parser.add_argument("--statusline", action="store_true",
                        help="replace an existing statusLine (uninstall puts it back)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would change (settings diff, actions); change nothing")
    parser.add_argument("-y", "--yes", action="store_true",
                        help="do not ask (before --shared, or for an old Claude Code)")
    parser.add_argument("--source", metavar="DIR",
                        help="a checkout of session-core to take the hook scripts and the"
                             " settings template from (install.py passes its own); default:"
                             " those of the last install")
    # install.py asked the questions (old Claude Code, --shared) before building the venv.
    parser.add_argument("--checked", action="store_true", help=argparse.SUPPRESS)


def add_uninstall_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project folder (default: current directory)")
    parser.add_argument("--shared", action="store_true",
                        help="take our entries out of .claude/settings.json instead")
    parser.add_argument("--purge", action="store_true",
                        help="also delete the project's archive and every line and folder the"
                             " install added (asks first); the last project also takes the"
                             " installed suite with it")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would change; change nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before --purge")


def add_setup_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``install`` and ``uninstall`` under the ``session-core`` parser."""
    install = sub.add_parser("install", help="wire the hooks and the status line into a project",
                             description="Wire session-core's hooks and status line into a"
                                         " project's Claude Code settings, import its history,"
                                         " and check the wiring before writing it.",
                             epilog=INSTALL_EPILOG)
    add_install_arguments(install)
    install.set_defaults(func=_install)
    uninstall = sub.add_parser("uninstall", help="take session-core out of a project",
                               description="Take session-core's entries out of a project's"
                                           " Claude Code settings; the archive is kept unless"
                                           " --purge.")
    add_uninstall_arguments(uninstall)
    uninstall.set_defaults(func=_uninstall)


def _install(args: argparse.Namespace) -> int:
    from .commands import install

    return install(args)


def _uninstall(args: argparse.Namespace) -> int:
    from .commands import uninstall

    return uninstall(args)
