"""Our entries in a Claude Code settings value: telling them from the user's, putting them in,
taking them out. Pure functions on parsed JSON; ``settings_file`` turns them into bytes.

An entry is ours when its command or an argument points into the suite's hooks folder: no
marker keys (Claude Code validates settings), and a re-install recognises what an earlier
version wired (other script names included) and replaces it in place.
"""

from __future__ import annotations

import copy
import shlex
from typing import Any

JSON = Any
"""A parsed JSON value: settings files are user data of any shape."""


def mentions(text: str, prefixes: tuple[str, ...]) -> bool:
    """True if a command string (or one of its shell words) is a path into our hooks folder."""
    if text.startswith(prefixes):
        return True
    try:
        words = shlex.split(text)
    except ValueError:
        return any(prefix in text for prefix in prefixes)
    return any(word.startswith(prefixes) for word in words)


def handler_is_ours(handler: JSON, prefixes: tuple[str, ...]) -> bool:
    if not isinstance(handler, dict):
        return False
    texts = [handler.get("command"), *(handler.get("args") or [])]
    return any(isinstance(text, str) and mentions(text, prefixes) for text in texts)


def group_is_ours(group: JSON, prefixes: tuple[str, ...]) -> bool:
    handlers = group.get("hooks") if isinstance(group, dict) else None
    return bool(handlers) and isinstance(handlers, list) and all(
        handler_is_ours(handler, prefixes) for handler in handlers)


def without_our_handlers(group: JSON, prefixes: tuple[str, ...]) -> JSON:
    """A foreign group that someone mixed one of our handlers into keeps its own handlers."""
    handlers = group.get("hooks") if isinstance(group, dict) else None
    if not isinstance(handlers, list) or not any(handler_is_ours(h, prefixes) for h in handlers):
        return group
    return {**group, "hooks": [h for h in handlers if not handler_is_ours(h, prefixes)]}


def replace_ours(groups: list[JSON], ours: list[JSON], prefixes: tuple[str, ...]) -> list[JSON]:
    """Our groups go where our old ones were (or at the end); every foreign group stays put."""
    result: list[JSON] = []
    placed = False
    for group in groups:
        if group_is_ours(group, prefixes):
            if not placed:
                result.extend(copy.deepcopy(ours))
                placed = True
            continue
        result.append(without_our_handlers(group, prefixes))
    if not placed:
        result.extend(copy.deepcopy(ours))
    return result


def status_is_ours(value: JSON, prefixes: tuple[str, ...]) -> bool:
    command = value.get("command") if isinstance(value, dict) else None
    return isinstance(command, str) and mentions(command, prefixes)


def holds_ours(settings: JSON, prefixes: tuple[str, ...]) -> bool:
    """Whether any entry of ours is in the file (then this is a re-install, not a first one)."""
    if not isinstance(settings, dict):
        return False
    if status_is_ours(settings.get("statusLine"), prefixes):
        return True
    hooks = settings.get("hooks")
    return isinstance(hooks, dict) and any(
        isinstance(groups, list) and any(
            isinstance(group, dict) and isinstance(group.get("hooks"), list)
            and any(handler_is_ours(h, prefixes) for h in group["hooks"]) for group in groups)
        for groups in hooks.values())


def our_handler(settings: JSON, event: str, prefixes: tuple[str, ...]) -> dict[str, JSON] | None:
    """Our handler for an event, as it stands in ``settings``."""
    hooks = settings.get("hooks", {}) if isinstance(settings, dict) else {}
    for group in hooks.get(event, []) if isinstance(hooks, dict) else []:
        for handler in group.get("hooks", []) if isinstance(group, dict) else []:
            if handler_is_ours(handler, prefixes):
                return dict(handler)
    return None


def substitute(value: JSON, names: dict[str, str]) -> JSON:
    """``${NAME}`` placeholders of the template, filled in everywhere."""
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace("${" + name + "}", text)
        return value
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    return value


class MergeError(ValueError):
    """The settings value has a shape we cannot merge into (``hooks`` not an object, ...)."""


def merge_hooks(settings: dict[str, JSON], desired: dict[str, JSON],
                prefixes: tuple[str, ...]) -> list[str]:
    """Put our group into each event's list; returns the containers that had to be created."""
    created: list[str] = []
    if "hooks" not in settings:
        settings["hooks"] = {}
        created.append("hooks")
    hooks = settings["hooks"]
    if not isinstance(hooks, dict):
        raise MergeError('"hooks" is not an object')
    for event in desired:
        if event not in hooks:
            hooks[event] = []
            created.append(f"hooks/{event}")
    for event, groups in hooks.items():
        if isinstance(groups, list):
            hooks[event] = replace_ours(groups, desired.get(event, []), prefixes)
        elif event in desired:
            raise MergeError(f'"hooks.{event}" is not a list')
    return created


def merge_status(settings: dict[str, JSON], ours: JSON, record: dict[str, JSON], replace: bool,
                 prefixes: tuple[str, ...]) -> list[str]:
    """Our statusLine goes in unless a foreign one is there; ``--statusline`` replaces it (and
    ``record`` remembers it for the uninstall). Returns notes for the user."""
    if ours is None:
        return []
    current = settings.get("statusLine")
    if "statusLine" not in settings or status_is_ours(current, prefixes):
        settings["statusLine"] = ours
        return []
    if replace:
        record["status_line"] = current
        settings["statusLine"] = ours
        return ["note: replaced your statusLine; uninstall puts it back"]
    return ["note: kept your statusLine; pass --statusline to use session-core's instead"
            " (uninstall puts yours back)"]


def prune(settings: dict[str, JSON], created: list[str]) -> None:
    """Drop the containers we created once they are empty again; foreign empty ones stay."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return
    for event in [e for e, groups in hooks.items() if groups == [] and f"hooks/{e}" in created]:
        del hooks[event]
    if not hooks and "hooks" in created:
        del settings["hooks"]


def strip_ours(settings: dict[str, JSON], record: dict[str, JSON], prefixes: tuple[str, ...],
               before: JSON = None) -> None:
    """Take out our groups, our handlers and our statusLine, putting back one we replaced: the
    record's, else the pre-install copy's (``before``; the record is gone after a move or a
    lost install record)."""
    hooks = settings.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in hooks.items():
            if isinstance(groups, list):
                hooks[event] = replace_ours(groups, [], prefixes)
    if status_is_ours(settings.get("statusLine"), prefixes):
        if "status_line" in record:
            settings["statusLine"] = record["status_line"]
        elif (isinstance(before, dict) and "statusLine" in before
              and not status_is_ours(before["statusLine"], prefixes)):
            settings["statusLine"] = before["statusLine"]
        else:
            del settings["statusLine"]
    prune(settings, record.get("created", []))


def guessed_record(settings: dict[str, JSON], before: JSON, had_copy: bool) -> dict[str, JSON]:
    """No record (state lost, project moved): the pre-install copy tells what existed before;
    with no copy the file did not exist, because every install keeps one of an existing file."""
    hooks = settings.get("hooks")
    events = list(hooks) if isinstance(hooks, dict) else []
    if not had_copy:
        return {"existed": False, "created": ["hooks", *(f"hooks/{e}" for e in events)]}
    before_hooks = before.get("hooks") if isinstance(before, dict) else None
    created = [] if isinstance(before, dict) and "hooks" in before else ["hooks"]
    known = before_hooks if isinstance(before_hooks, dict) else {}
    return {"existed": True, "created": created + [f"hooks/{e}" for e in events if e not in known]}
