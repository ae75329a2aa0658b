"""``session-core stats`` on a terminal: the headline numbers, then aligned tables by day, by
model, of tools and of files. Names come from transcripts: control characters are shown as
``?`` so a tool or model name cannot move the cursor or recolour the terminal."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..base.text import clip


def plain(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def local_minute(stamp: str | None) -> str:
    """A stored UTC time as the user's clock showed it: ``2026-02-12 15:55``."""
    if not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return plain(stamp[:16])
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def duration(seconds: float) -> str:
    """``3h 05m``, ``12m``, ``40s``: hours and minutes are what a day of work is read in."""
    whole = round(seconds)
    hours, minutes = divmod(whole // 60, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{whole}s"


def money(row: dict[str, Any]) -> str:
    """``$1.23`` recorded, ``~$1.23`` estimated, ``+`` when messages without a price are left
    out of it, ``no price`` when none had one."""
    cost = row["cost_usd"]
    if cost is None:
        return "no price" if row["messages"] else "-"
    text = "<$0.01" if 0 < cost < 0.005 else f"${cost:,.2f}"
    return ("~" if row["cost_estimated"] else "") + text + ("+" if row["unpriced_messages"] else "")


def path_end(path: str, limit: int) -> str:
    """A long path by its end, where the file's name is: ``…/controllers/hooks.ex``."""
    if len(path) <= limit:
        return path
    tail = path[len(path) - limit + 1:]
    cut = tail.find("/")
    return "…" + (tail[cut:] if 0 <= cut < len(tail) - 1 else tail)


def table(headers: list[str], rows: list[list[str]], text: tuple[int, ...] = (0,)) -> list[str]:
    """Columns as wide as their widest cell; the ``text`` columns left aligned, the numbers
    right aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(w) if n in text else cell.rjust(w)
                         for n, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return [line(headers), *(line(row) for row in rows)]


def scope(data: dict[str, Any]) -> str:
    where = f"session {data['session']}" if data["session"] else "all sessions"
    since = f", since {data['since'][:16].replace('T', ' ')} UTC" if data["since"] else ""
    return f"{plain(data['project'])}: {where}{since}"


def headline(data: dict[str, Any]) -> list[str]:
    t = data["totals"]
    cutoff = data["idle_cutoff_seconds"] // 60
    lines = [
        f"Stats of {scope(data)}",
        "",
        f"Sessions     {t['sessions']:,}",
        f"Active time  {duration(t['active_seconds'])}  (each gap between messages counted up"
        f" to {cutoff} min)",
        f"Turns        {t['turns']:,} prompts",
        f"Tokens       {t['tokens']:,} in {t['messages']:,} model responses",
        f"             input {t['input_tokens']:,}, output {t['output_tokens']:,}, cache write"
        f" {t['cache_creation_tokens']:,}, cache read {t['cache_read_tokens']:,}",
        f"Cost         {money(t)}{cost_note(data)}",
    ]
    return lines


def cost_note(data: dict[str, Any]) -> str:
    t = data["totals"]
    parts = []
    if t["cost_estimated"]:
        parts.append(f"~ estimated at list prices of {data['prices_as_of']}")
    if t["cost_recorded_usd"]:
        parts.append(f"${t['cost_recorded_usd']:,.2f} recorded by Claude Code")
    unpriced = [plain(m["model"]) for m in data["by_model"] if m["unpriced_messages"]]
    if unpriced:
        parts.append("no price for " + ", ".join(unpriced))
    return f"  ({'; '.join(parts)})" if parts else ""


def day_table(data: dict[str, Any]) -> list[str]:
    rows = [[d["day"], f"{d['sessions']:,}", duration(d["active_seconds"]), f"{d['turns']:,}",
             f"{d['messages']:,}", f"{d['tokens']:,}", money(d)] for d in data["by_day"]]
    return ["By day (local dates)",
            *table(["DAY", "SESSIONS", "ACTIVE", "TURNS", "RESPONSES", "TOKENS", "COST"], rows)]


def model_table(data: dict[str, Any]) -> list[str]:
    rows = [[clip(plain(m["model"]), 40, ellipsis=True), f"{m['messages']:,}",
             f"{m['input_tokens']:,}", f"{m['output_tokens']:,}",
             f"{m['cache_creation_tokens']:,}", f"{m['cache_read_tokens']:,}", money(m)]
            for m in data["by_model"]]
    return ["By model", *table(["MODEL", "RESPONSES", "INPUT", "OUTPUT", "CACHE WRITE",
                                "CACHE READ", "COST"], rows)]


def tool_table(data: dict[str, Any]) -> list[str]:
    rows = [[clip(plain(t["tool"]), 40, ellipsis=True), f"{t['calls']:,}"] for t in data["tools"]]
    return ["Tool use", *table(["TOOL", "CALLS"], rows)]


def file_table(data: dict[str, Any]) -> list[str]:
    rows = [[f"{f['edits']:,}", f"{f['sessions']:,}",
             local_minute(f["last_changed"]),
             path_end(plain(f["file"]), 72)] for f in data["files"]]
    return ["Most-changed files",
            *table(["EDITS", "SESSIONS", "LAST CHANGED", "FILE"], rows, text=(2, 3))]


def render_stats(data: dict[str, Any]) -> str:
    if not data["by_day"]:
        return f"Nothing archived for {scope(data)}."
    blocks = [headline(data), day_table(data), model_table(data)]
    if data["tools"]:
        blocks.append(tool_table(data))
    if data["files"]:
        blocks.append(file_table(data))
    legend = ["COST: $ as Claude Code recorded it, ~$ estimated from list prices, + more for",
              "messages without a price; no price: the model's tokens are counted, not priced."]
    return "\n\n".join("\n".join(block) for block in [*blocks, legend])
