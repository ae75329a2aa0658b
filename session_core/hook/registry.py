"""Which handler runs for which hook event, and in what order.

One process per event runs that event's handlers in priority order (lower first; equal
priorities keep the order of this table), so there is one interpreter start per event instead
of one per handler, and a saver never races the loader of the same event. Handlers are named by
import path and imported only when their event fires: the status line imports none of this.
"""

from __future__ import annotations


class Handler:
    __slots__ = ("event", "name", "priority", "target")

    def __init__(self, name: str, event: str, priority: int, target: str) -> None:
        self.name, self.event, self.priority = name, event, priority
        self.target = target
        """``module:function`` under ``session_core.hook.handlers``."""


CHECK, GIT, LOADER, CONTEXT, SAVER, CHAT, DRAIN, BACKUP, LIVE = 0, 1, 2, 2, 3, 3, 7, 8, 9
CHECKPOINT, END_CHECKPOINT = 4, 2
"""After the save, at the archived end; at SessionEnd before the saver's end (it saves first),
whose catch-up may take the rest of the budget."""

HANDLERS: tuple[Handler, ...] = (
    # First: the handoff's one ``git status`` runs while the archive is brought up to date.
    Handler("context_manager", "SessionStart", GIT, "context:start_git_status"),
    Handler("session_loader", "SessionStart", LOADER, "loader:load"),
    Handler("context_manager", "SessionStart", CONTEXT, "context:handoff"),
    Handler("chat_manager", "UserPromptSubmit", CHAT, "chat:save_prompt"),
    Handler("session_saver", "PreCompact", SAVER, "saver:save"),
    Handler("context_manager", "PostCompact", CONTEXT, "context:after_compact"),
    # First at a Stop, when due: damage it finds is set aside before the save (auto_recover).
    Handler("check", "Stop", CHECK, "upkeep:check_if_due"),
    Handler("session_saver", "Stop", SAVER, "saver:save"),
    Handler("chat_manager", "Stop", CHAT, "chat:save_reply"),
    Handler("session_saver", "SubagentStop", SAVER, "saver:save"),
    Handler("session_saver", "SessionEnd", SAVER, "saver:end"),
    Handler("checkpoint", "PreCompact", CHECKPOINT, "checkpoint:before_compact"),
    Handler("checkpoint", "Stop", CHECKPOINT, "checkpoint:every_turns"),
    Handler("checkpoint", "SessionEnd", END_CHECKPOINT, "checkpoint:at_end"),
    # After the saves: what hooks spooled while another writer held the archive.
    *(Handler("drain", event, DRAIN, "upkeep:drain_spool") for event in (
        "SessionStart", "UserPromptSubmit", "Stop", "SubagentStop", "PreCompact", "PostCompact",
        "SessionEnd")),
    # After the saves (committed first), when one is due and fits the budget.
    *(Handler("backup", event, BACKUP, "upkeep:backup_if_due") for event in ("Stop", "SessionEnd")),
    # Last, once per run: what the status line shows, after every save of the event.
    *(Handler("live_state", event, LIVE, "live_state:update")
      for event in ("SessionStart", "UserPromptSubmit", "Stop", "SubagentStop", "PreCompact",
                    "SessionEnd")),
)

EVENTS = frozenset(h.event for h in HANDLERS)


def handlers_for(event: str) -> list[Handler]:
    """The event's handlers, lowest priority number first (stable for equal priorities)."""
    return sorted((h for h in HANDLERS if h.event == event), key=lambda h: h.priority)
