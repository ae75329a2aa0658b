"""A project's Claude Code settings file before and after an install or uninstall, as bytes.

The merge itself happens on parsed values (``ours``); the text is then changed only where the
value changed (``jsonedit``), so the user's indentation, key order, inline arrays and final
newline stay as they wrote them, and taking our entries out gives back the bytes they had. The
file's previous bytes are kept in the suite's folder (never beside the file, in the project),
and an uninstall that finds the file otherwise untouched restores them exactly.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...base.errors import ConfigError
from ...base.fs import ensure_private_dir, write_atomic
from . import jsonedit
from .ours import (
    JSON,
    MergeError,
    guessed_record,
    holds_ours,
    merge_hooks,
    merge_status,
    prune,
    replace_ours,
    strip_ours,
)
from .records import InstallRecords
from .suite import Suite, Target


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def render(value: JSON) -> bytes:
    """A file we create: Claude Code's own style, indent 2, UTF-8 as is, final newline. A
    number past a float (``1e400`` reads as infinity) cannot be written back as JSON: the user
    is asked to change it rather than given a file Claude Code would reject."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise ConfigError("the settings file holds a number JSON cannot write back (NaN,"
                          " Infinity, or one past a float such as 1e400)", "write it as a"
                          " finite number or as a string, then run again") from None
    return (text + "\n").encode("utf-8")


def parse_settings(data: bytes | None, path: Path) -> dict[str, JSON]:
    """A settings file's object; a missing file is ``{}``, anything else non-object is refused."""
    if data is None:
        return {}
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc})",
                          "fix the file (Claude Code would reject it too), then run again") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{path} does not hold a JSON object", "fix the file, then run again")
    return value


def parse_quietly(data: bytes | None) -> JSON:
    try:
        return json.loads(data.decode("utf-8-sig")) if data is not None else None
    except (UnicodeDecodeError, ValueError):
        return None


def rewritten(old: bytes | None, value: JSON) -> bytes:
    """``old``'s text changed only where ``value`` differs from what it holds. A file that holds
    nothing (``{}``) has no formatting to keep: it is written as one we create."""
    if old is None or parse_quietly(old) in ({}, None):
        return render(value)
    try:
        return jsonedit.rewrite(old.decode("utf-8"), value).encode("utf-8")
    except (jsonedit.JSONEditError, UnicodeDecodeError):  # e.g. duplicate keys: json took them
        return render(value)


def unified_diff(path: Path, old: bytes | None, new: bytes | None) -> str:
    before = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"{path} (now)" if old is not None else "/dev/null",
                                 f"{path} (after)" if new is not None else "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass
class SettingsPlan:
    """The settings file's bytes before and after, and the bookkeeping that goes with them."""

    target: Target
    old: bytes | None
    new: bytes | None
    """None: the file goes away (it did not exist before the install)."""
    record: dict[str, JSON] | None
    """What to remember of this file; None: forget it."""
    backup: bytes | None = None
    """The file's bytes before our first change, to keep in the suite's folder."""
    kept: Path | None = None
    """Where the pre-install copy was found (an uninstall)."""
    drop_backup: bool = False
    restored: bool = False
    """An uninstall gives back the pre-install bytes (nothing else changed since)."""
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return self.new != self.old


def kept_copy(suite: Suite, target: Target, records: InstallRecords,
              current: JSON = None) -> Path | None:
    """Where the pre-install copy is: in the suite's folder under this file's name, or
    (installs of earlier versions) beside the settings file. A project moved since has its copy
    under the old name: given the file's ``current`` value, the one copy that holds the same
    settings but for our entries and the statusLine is it, unless a settings file still there
    owns it (another project's copy is never taken for this one's). A file the install created
    has no copy at all."""
    for path in (suite.backup_of(target.settings), target.legacy_backup):
        if path.is_file():
            return path
    record = records.settings(target.settings)
    if current is None or (record is not None and not record.get("existed")) \
            or not suite.backups.is_dir():
        return None
    owned = {suite.backup_of(path) for path in records.settings_files()
             if path != target.settings and os.path.lexists(path)}
    prefixes = suite.hook_prefixes()
    wanted = _without_ours(current, prefixes)
    found = [path for path in sorted(suite.backups.glob(f"*-{target.settings.name}"))
             if path not in owned
             and _without_ours(parse_quietly(read_bytes(path)), prefixes) == wanted]
    return found[0] if len(found) == 1 else None


def _without_ours(value: JSON, prefixes: tuple[str, ...]) -> JSON:
    """``value`` without the statusLine, our groups, and hook lists left empty: what a file
    holds of its user's own settings."""
    if not isinstance(value, dict):
        return value
    bare = copy.deepcopy(value)
    bare.pop("statusLine", None)
    hooks = bare.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in list(hooks.items()):
            if isinstance(groups, list):
                hooks[event] = replace_ours(groups, [], prefixes)
                if not hooks[event]:
                    del hooks[event]
        if not hooks:
            del bare["hooks"]
    return bare


def plan_install(suite: Suite, target: Target, template: dict[str, JSON], replace_status: bool,
                 records: InstallRecords) -> SettingsPlan:
    old = read_bytes(target.settings)
    settings = parse_settings(old, target.settings)
    prefixes = suite.hook_prefixes()
    fresh = not holds_ours(settings, prefixes)
    if fresh:
        record: dict[str, JSON] = {"existed": old is not None, "created": []}
    else:
        copied = _read_kept(suite, target, records, settings)
        record = copy.deepcopy(records.settings(target.settings) or guessed_record(
            settings, parse_quietly(copied), copied is not None))
    merged = copy.deepcopy(settings)
    try:
        created = merge_hooks(merged, template["hooks"], prefixes)
    except MergeError as exc:
        raise ConfigError(f"{exc} in {target.settings}", "fix the file, then run again") from exc
    record["created"] = list(dict.fromkeys([*record.get("created", []), *created]))
    notes = merge_status(merged, template.get("statusLine"), record, replace_status, prefixes)
    prune(merged, record["created"])
    new = old if merged == settings else rewritten(old, merged)
    backup = old if fresh and new != old else None
    return SettingsPlan(target, old, new, record, backup=backup, notes=notes)


def plan_uninstall(suite: Suite, target: Target, records: InstallRecords) -> SettingsPlan:
    old = read_bytes(target.settings)
    settings = parse_settings(old, target.settings)
    kept = kept_copy(suite, target, records, settings)
    copied = None if kept is None else read_bytes(kept)
    before = parse_quietly(copied)
    record = records.settings(target.settings) or guessed_record(settings, before,
                                                                 copied is not None)
    stripped = copy.deepcopy(settings)
    strip_ours(stripped, record, suite.hook_prefixes(), before)
    if stripped == settings:
        return SettingsPlan(target, old, old, None)
    if record.get("existed") and copied is not None and before == stripped:
        return SettingsPlan(target, old, copied, None, kept=kept, drop_backup=True,
                            restored=True)
    if not record.get("existed") and not stripped:
        return SettingsPlan(target, old, None, None, kept=kept, drop_backup=True)
    return SettingsPlan(target, old, rewritten(old, stripped), None, kept=kept)


def _read_kept(suite: Suite, target: Target, records: InstallRecords,
               current: JSON) -> bytes | None:
    kept = kept_copy(suite, target, records, current)
    return None if kept is None else read_bytes(kept)


def apply_settings(plan: SettingsPlan, suite: Suite, records: InstallRecords) -> None:
    """The pre-install copy first, then the settings file, then the bookkeeping."""
    target, kept = plan.target, suite.backup_of(plan.target.settings)
    legacy = read_bytes(target.legacy_backup)
    if plan.backup is not None or (legacy is not None and not kept.exists()
                                   and not plan.drop_backup):
        ensure_private_dir(kept.parent)
        write_atomic(kept, plan.backup if plan.backup is not None else legacy or b"")
    if plan.changes:
        if plan.new is None:  # a file we created; through a symlink, the file we created
            Path(os.path.realpath(target.settings)).unlink()
        else:  # .claude/ may not exist yet (the install recorded it as created)
            os.makedirs(os.path.dirname(os.path.realpath(target.settings)), exist_ok=True)
            write_atomic(target.settings, plan.new, mode=None, through_links=True)
    if plan.drop_backup:
        (plan.kept or kept).unlink(missing_ok=True)
    if legacy is not None:  # moved into the suite's folder above, or no longer needed
        target.legacy_backup.unlink(missing_ok=True)
    records.set_settings(target.settings, plan.record)


def describe(plan: SettingsPlan, suite: Suite, uninstall: bool) -> str:
    path = plan.target.settings
    if not plan.changes:
        return f"settings: {'nothing of ours in' if uninstall else 'up to date:'} {path}"
    if not uninstall:
        if plan.old is None:
            return f"settings: created {path}"
        if plan.backup is None:
            return f"settings: updated our entries in {path}"
        return (f"settings: merged into {path} (its previous bytes are kept in"
                f" {suite.backup_of(path)})")
    if plan.new is None:
        return f"settings: removed {path} (it did not exist before the install)"
    if plan.restored:
        return f"settings: restored {path} byte for byte from its pre-install copy"
    kept = suite.backup_of(path)
    where = f" (the pre-install copy stays in {kept})" if kept.exists() else ""
    return f"settings: took our entries out of {path}{where}"


def planned(plan: SettingsPlan, suite: Suite) -> str:
    """The dry run's line for the settings file."""
    path = plan.target.settings
    if not plan.changes:
        return f"settings: no change to {path}"
    if plan.new is None:
        return f"settings: would remove {path}"
    if plan.restored:
        return f"settings: would restore {path} from its pre-install copy"
    kept = f" (its previous bytes kept in {suite.backup_of(path)})" if plan.backup else ""
    return f"settings: would write {path}{kept}"
