"""``session-core install`` and ``uninstall``: the steps, in the order that keeps a half-done
install harmless (nothing is written to the settings file until the hooks ran as written), and
what each step tells the user."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path

from ...base import locations
from ...base.errors import ExitCode, SessionCoreError, UsageError
from ...base.fs import remove_files_named
from . import ignores
from .checks import ask, check_claude, check_wiring, confirm_shared, tail
from .records import InstallRecords
from .settings_file import (
    SettingsPlan,
    apply_settings,
    describe,
    parse_quietly,
    plan_install,
    plan_uninstall,
    planned,
    read_bytes,
    unified_diff,
)
from .suite import WINDOWS, Suite, Target, load_template, sync_suite

OTHER_ARCHIVE_TIMEOUT_S = 300
"""How long the install waits for one other project's archive to open (a backup and an
upgrade of a large archive take a while; a lock or a dead mount must not hang the install)."""


def say(lines: str | list[str]) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        print(line, flush=True)


def resolve_project(arg: str | None) -> Path:
    project = Path(arg if arg is not None else os.getcwd()).expanduser().resolve()
    if not project.is_dir():
        raise UsageError(f"{project} is not a directory", "pass an existing project folder")
    return project


def show_dry_run(plan: SettingsPlan, actions: list[str]) -> None:
    """What would change, and nothing else: no file, folder or process touched."""
    print("Dry run: nothing is changed.")
    if plan.changes:
        print(unified_diff(plan.target.settings, plan.old, plan.new), end="")
    print("Actions:")
    for action in actions:
        print("  - " + action.replace("\n", "\n    "))


def preflight(args: argparse.Namespace, suite: Suite, target: Target) -> str:
    """The questions an install asks, and the settings file it checks, before it builds or
    writes anything (a file that cannot be merged fails now, not after a minute of pip)."""
    line = check_claude(args.yes, args.dry_run)
    if target.shared:
        confirm_shared(suite, target, args.yes, args.dry_run)
    source = Path(args.source).resolve() if args.source else None
    plan_install(suite, target, load_template(suite, source), args.statusline,
                 InstallRecords.load(suite.state, suite.hooks.is_dir()))
    return line


def install(args: argparse.Namespace, prelude: list[str] | None = None) -> int:
    """``prelude``: lines install.py adds to a dry run (the venv it would build)."""
    suite = Suite.default()
    target = Target(resolve_project(args.project), args.shared)
    source = Path(args.source).resolve() if args.source else None
    claude = None if args.checked else preflight(args, suite, target)
    if not args.dry_run and not suite.python.exists():
        raise SessionCoreError(f"no session-core suite at {suite.venv}",
                               "run install.py from a checkout of session-core (it builds the"
                               " suite, then installs)")
    template = load_template(suite, source)
    records = InstallRecords.load(suite.state, suite.hooks.is_dir())
    plan = plan_install(suite, target, template, args.statusline, records)
    new_folder = not target.settings.parent.exists()
    lines = ignores.needed(target.project, not target.shared and plan.new is not None
                           and not (plan.record or {}).get("existed", True), target.archive)
    first = [*([claude] if claude else []), *(prelude or [])]
    if args.dry_run:
        show_dry_run(plan, [
            *first, sync_suite(suite, source, True),
            *(f"exclude: would add {entry.line} to {entry.file}" for entry in lines),
            f"import: would run session-core import --project {target.project}",
            *_other_archives_plan(suite, target, records),
            "check: would run the SessionStart hook and the status line once", planned(plan, suite),
            *link_command(suite, True), *plan.notes])
        return ExitCode.OK
    say([*first, sync_suite(suite, source, False)])
    say(upgrade_other_projects(suite, target, records))  # their hooks refuse old archives
    if new_folder:
        records.created_folder(target.project, target.settings.parent)
    say(_add_ignores(target, lines, records))
    records.save()  # what was added so far is known, even if a later step fails
    say(import_transcripts(suite, target.project))
    say(check_wiring(suite, parse_quietly(plan.new), target))  # a broken hook never goes live
    if read_bytes(target.settings) != plan.old:  # Claude Code wrote to it meanwhile
        checked, plan = parse_quietly(plan.new), plan_install(suite, target, template,
                                                               args.statusline, records)
        if _wiring(parse_quietly(plan.new)) != _wiring(checked):
            say(check_wiring(suite, parse_quietly(plan.new), target))
    apply_settings(plan, suite, records)
    records.save()
    say([describe(plan, suite, uninstall=False), *plan.notes, *link_command(suite, False)])
    if os.environ.get(locations.DATA_DIR_ENV):
        say(f"note: {locations.DATA_DIR_ENV} puts this archive in {target.archive}; the hooks"
            " use it only if Claude Code runs with that variable set too (without it they"
            f" archive into {target.project / '.claude' / locations.APP_FOLDER})")
    say(f"Done: session-core archives every Claude Code session of {target.project} from the"
        f" next one on, into {target.archive}.")
    return ExitCode.OK


def _wiring(settings: object) -> object:
    """What the wiring check runs of a settings value: its hooks and its status line."""
    return (settings.get("hooks"), settings.get("statusLine")) \
        if isinstance(settings, dict) else None


def _add_ignores(target: Target, lines: list[ignores.IgnoreLine],
                 records: InstallRecords) -> list[str]:
    said = []
    for entry in lines:
        try:
            joined = ignores.add(entry)
        except OSError as exc:
            said.append(f"warning: could not add {entry.line} to {entry.file} ({exc}); do not"
                        f" commit {target.project / entry.line.lstrip('/')}")
            continue
        records.added_line(target.project, entry.file, entry.line, joined)
        said.append(f"exclude: added {entry.line} to {entry.file} ({entry.what})")
    return said


def installed_projects(suite: Suite, records: InstallRecords) -> list[Path]:
    """The projects whose settings file the records know and that still holds our hooks."""
    found = [path.parent.parent for path in records.settings_files() if _holds_ours(suite, path)]
    return list(dict.fromkeys(found))


def _holds_ours(suite: Suite, settings: Path) -> bool:
    """The settings file is readable JSON and wires hooks from this suite."""
    from .ours import holds_ours

    try:
        value = json.loads(settings.read_bytes())
    except (OSError, ValueError):
        return False
    return holds_ours(value, suite.hook_prefixes())


def upgrade_other_projects(suite: Suite, target: Target, records: InstallRecords) -> list[str]:
    """Hooks never upgrade an archive (a budget could cut a migration short), so once the
    suite is updated, every other project it is installed in would stop saving until someone
    ran a command there: each archive is opened here once, by ``status``, which backs up,
    upgrades and finishes the upgrade when one is due, and does nothing otherwise."""
    others = _other_archives(suite, target, records)
    if others:
        say(f"upgrade: opening the archives of {len(others)} other installed project(s)")
    said = []
    for project, archive in others:
        try:
            done = subprocess.run([str(suite.cli), "status", "--project", str(project)],
                                  cwd=project, capture_output=True, text=True, check=False,
                                  timeout=OTHER_ARCHIVE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            said.append(f"warning: {archive} was still busy after {OTHER_ARCHIVE_TIMEOUT_S} s"
                        f" (locked, or a long upgrade)\nTry: {suite.cli} status --project"
                        f" {project}")
            continue
        except OSError as exc:
            said.append(f"warning: could not check {archive}: {exc.strerror}")
            continue
        if done.returncode != 0:
            said.append(f"warning: {archive} could not be opened (exit {done.returncode}):\n"
                        f"{tail(done.stderr, 5)}\nTry: {suite.cli} status --project {project}")
        else:  # what cli.upgrade says of an upgrade, and the problems it met
            said += [f"upgrade: {line}" for line in done.stderr.splitlines()
                     if line.startswith(("Upgraded ", "Finished the upgrade", "warning: "))]
    return said


def _other_archives(suite: Suite, target: Target,
                    records: InstallRecords) -> list[tuple[Path, Path]]:
    """(project, archive file) of every other installed project that has an archive."""
    found = []
    for project in installed_projects(suite, records):
        archive = Target(project, False).archive / locations.ARCHIVE_NAME
        if project != target.project and archive.is_file():
            found.append((project, archive))
    return found


def _other_archives_plan(suite: Suite, target: Target, records: InstallRecords) -> list[str]:
    others = _other_archives(suite, target, records)
    return [f"upgrade: would open the archives of {len(others)} other installed project(s)"
            " (an earlier version's are backed up and upgraded)"] if others else []


def import_transcripts(suite: Suite, project: Path) -> str:
    """Backfill what Claude Code still keeps (it deletes transcripts after 30 days); this also
    upgrades an archive an earlier version wrote."""
    try:
        done = subprocess.run([str(suite.cli), "import", "--project", str(project)], cwd=project,
                              capture_output=True, text=True, check=False)
    except OSError as exc:
        raise SessionCoreError(f"cannot run {suite.cli}: {exc.strerror}",
                               "run install.py again to rebuild the suite") from exc
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode == 0:
        return f"import: {summary}"
    if done.returncode == 1:  # some files failed; the rest is in and the hooks still work
        return f"import: {summary}\nwarning: some transcripts were skipped:\n{tail(done.stderr, 5)}"
    raise SessionCoreError(f"'session-core import' failed (exit {done.returncode}):\n"
                           f"{tail(done.stderr)}",
                           f"run '{suite.cli} import --project {project}' to see why, fix that,"
                           " then run again")


def command_link() -> Path:
    return Path.home() / ".local" / "bin" / "session-core"


def link_command(suite: Suite, dry: bool) -> list[str]:
    """``~/.local/bin/session-core`` -> the venv's script; a foreign file there is left alone."""
    link = command_link()
    if WINDOWS:
        return [f"command: add {suite.bin} to PATH to run session-core"]
    if link.is_symlink() and os.readlink(link) == str(suite.cli):
        lines = [f"command: {link} is linked"]
    elif link.is_symlink() or link.exists():
        lines = [f"note: {link} exists and is not ours; left alone (the command is {suite.cli})"]
    elif dry:
        lines = [f"command: would link {link} -> {suite.cli}"]
    else:
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(suite.cli, link)
        lines = [f"command: linked {link} -> {suite.cli}"]
    on_path = {os.path.realpath(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p}
    if os.path.realpath(link.parent) not in on_path:
        lines.append(f"hint: {link.parent} is not on your PATH; add to your shell profile:\n"
                     '  export PATH="$HOME/.local/bin:$PATH"')
    return lines


# --- taking it out ------------------------------------------------------------------------------


def uninstall(args: argparse.Namespace) -> int:
    suite = Suite.default()
    target = Target(resolve_project(args.project), args.shared)
    records = InstallRecords.load(suite.state, suite.hooks.is_dir())
    plan = plan_uninstall(suite, target, records)
    if args.dry_run:
        show_dry_run(plan, [planned(plan, suite), *(
            _purge_plan(suite, target, records) if args.purge else [])])
        return ExitCode.OK
    wipe = args.purge and _confirm_purge(target, args.yes)
    apply_settings(plan, suite, records)
    say(describe(plan, suite, uninstall=True))
    if wipe:
        say(_purge_project(target, records))
    elif args.purge:
        say(f"purge: kept {target.archive}")
    records.save()
    say(_other_file_note(suite, target))
    if wipe and not records.complete:
        say(f"kept: {suite.data}: its install records ({suite.state}) were missing or damaged,"
            " so other projects may still run their hooks from it; delete it by hand once"
            " none does")
    elif wipe and not _installed_anywhere(suite, records):
        say(_remove_suite(suite))
    else:
        say(f"kept: {suite.data} (shared by every project); the archive "
            f"{'is gone' if wipe else f'stays in {target.archive}'}")
    return ExitCode.OK


def _confirm_purge(target: Target, yes: bool) -> bool:
    """Ask before deleting archived sessions: they may be the only copy left."""
    if yes or not target.archive.exists():
        return True
    return ask(f"Delete {target.archive} and every session archived in it? [y/N] ")


def _purge_plan(suite: Suite, target: Target, records: InstallRecords) -> list[str]:
    known = records.project(target.project)
    what = target.archive if _own_folder(target) else f"the archive in {target.archive}"
    lines = [f"purge: would delete {what}" if target.archive.exists()
             else f"purge: nothing at {target.archive}"]
    lines += [f"purge: would take {line} out of {file}" for file, line, *_ in known["lines"]]
    lines += [f"purge: would remove {folder} if it is empty" for folder in known["folders"]]
    if records.complete and not [project for project in installed_projects(suite, records)
                                 if project != target.project]:
        link, folders = _suite_parts(suite)
        lines += [f"purge: would remove {path} (no other project uses it)"
                  for path in ([link] if link else []) + folders]
    return lines


def _purge_project(target: Target, records: InstallRecords) -> list[str]:
    """The archive, then every line and folder the install added to the project."""
    said = [_delete_archive(target)]
    known = records.project(target.project)
    for file, line, *joined in reversed(known["lines"]):  # last added, first out
        if ignores.remove(Path(file), line, bool(joined and joined[0])):
            said.append(f"purge: took {line} out of {file}")
    for folder in sorted(known["folders"], key=len, reverse=True):
        try:
            Path(folder).rmdir()
            said.append(f"purge: removed {folder}")
        except OSError:
            pass  # not empty: it holds something else now
    records.forget_project(target.project)
    return said


def _own_folder(target: Target) -> bool:
    """The archive is in the project's own ``.claude/session-core`` (not a folder the user
    named, nor a link to one)."""
    folder = target.archive
    return folder == target.project / ".claude" / locations.APP_FOLDER \
        and not folder.is_symlink()


def _delete_archive(target: Target) -> str:
    """Our own folder in the project goes whole. A folder the user named
    (``SESSION_CORE_DATA_DIR``) may hold other things, other projects' archives even: only
    our files go, then each folder they leave empty."""
    folder = target.archive
    if not folder.exists():
        return f"purge: nothing at {folder}"
    try:
        if _own_folder(target):
            shutil.rmtree(folder)
            return f"purge: deleted {folder}"
        kept = _delete_our_files(folder)
    except OSError as exc:
        raise SessionCoreError(f"could not delete {folder}: {exc}",
                               "close this project's Claude Code sessions, then retry") from exc
    if not kept:
        return f"purge: deleted {folder}"
    return f"purge: deleted the archive in {folder} (the folder stays: it holds files that" \
           " are not ours)"


def _delete_our_files(folder: Path) -> bool:
    """True if anything of the user's is left."""
    for sub, pattern in locations.ARCHIVE_FOLDER_FILES.items():
        place = folder / sub
        if sub and not place.is_symlink() and place.is_dir():
            remove_files_named(place, pattern)
    return not remove_files_named(folder, locations.ARCHIVE_FOLDER_FILES[""])


def _installed_anywhere(suite: Suite, records: InstallRecords) -> bool:
    """Whether a settings file the records know still holds our entries (then the suite stays:
    that project's hooks run from it)."""
    return bool(installed_projects(suite, records))


def _remove_suite(suite: Suite) -> list[str]:
    """No project uses the suite any more: it goes too (virtual environment, hook scripts,
    records, the command link and the hook log), so nothing of session-core is left behind."""
    said = []
    link, folders = _suite_parts(suite)
    if link is not None:
        link.unlink()
        said.append(f"purge: removed {link}")
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
        said.append(f"purge: removed {folder} (no project uses it any more)")
    return said


def _suite_parts(suite: Suite) -> tuple[Path | None, list[Path]]:
    """The command link (when it is ours) and the folders that go with the suite."""
    link = command_link()
    ours = link if link.is_symlink() and os.readlink(link) == str(suite.cli) else None
    logs = Path(locations.log_dir())
    folders = [logs.parent if logs.parent.name == locations.APP_FOLDER else logs, suite.data]
    return ours, [folder for folder in folders if folder.exists()]


def _other_file_note(suite: Suite, target: Target) -> list[str]:
    other = target.other()
    if _holds_ours(suite, other.settings):
        flag = "" if target.shared else " --shared"
        return [f"note: {other.settings} has session-core entries too; run uninstall{flag} to"
                " remove them"]
    return []
