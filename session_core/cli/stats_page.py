"""``session-core stats --html FILE``: the numbers of ``stats --json`` as one self-contained
page: inline CSS, inline SVG charts drawn here, no script and no request (its Content
Security Policy forbids both), every text from the archive HTML-escaped.

Charts are laid out in percentages of their width, with text at a fixed size, so the same
page reads on a phone (390 px) and on a wide screen: nothing is scaled down to a blur, and day
labels a narrow screen has no room for are hidden by a media query.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from ..base.clock import utc_stamp
from .stats_text import duration, local_minute, money, path_end

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CHART_DAYS = 60
"""The per-day charts show the last this many active days (the tables show them all)."""
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
KINDS = (("input_tokens", "input", "#4e79a7"), ("output_tokens", "output", "#f28e2b"),
         ("cache_creation_tokens", "cache write", "#59a14f"),
         ("cache_read_tokens", "cache read", "#b9b3ad"))

STYLE = """
:root { --fg: #1d232b; --muted: #5d6673; --line: #dde1e6; --card: #f5f7f9; --bg: #fff;
  --bar: #4e79a7; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ed; --muted: #9aa4b0; --line: #39414b; --card: #1f252c; --bg: #14181d; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 1.5rem; margin: 0 0 2px; }
h2 { font-size: 1.1rem; margin: 0 0 10px; }
.scope { color: var(--muted); margin: 0 0 20px; overflow-wrap: anywhere; }
section { margin: 0 0 28px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.tile { background: var(--card); border-radius: 10px; padding: 12px 14px; }
.tile .label { color: var(--muted); font-size: .85rem; }
.tile .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.tile .sub { color: var(--muted); font-size: .8rem; overflow-wrap: anywhere; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; }
@media (max-width: 760px) { .grid2 { grid-template-columns: 1fr; } main { padding: 16px 12px; } }
svg { display: block; width: 100%; overflow: visible; }
svg text { fill: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
svg text.name { fill: var(--fg); }
svg .grid { stroke: var(--line); stroke-width: 1; }
@media (max-width: 640px) { svg .minor { display: none; } }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 0; padding: 0;
  list-style: none; color: var(--muted); font-size: .85rem; }
.legend li { display: flex; align-items: center; gap: 6px; overflow-wrap: anywhere; }
.swatch { width: 11px; height: 11px; border-radius: 2px; flex: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; }
th:first-child, td:first-child { text-align: left; padding-left: 0; }
td.path { text-align: left; white-space: normal; overflow-wrap: anywhere; }
td.path .folder { color: var(--muted); font-size: .8rem; }
td.name { white-space: nowrap; }
td.name .swatch { display: inline-block; margin-right: 6px; vertical-align: -1px; }
.narrow { display: none; }
@media (max-width: 640px) { .wide { display: none; } .narrow { display: table-cell; } }
footer { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line);
  padding-top: 12px; }
footer p { margin: 4px 0; }
"""


def compact(value: float) -> str:
    """``36.3M``, ``587K``, ``950``: an axis or a tile has room for three digits."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            scaled = value / size
            text = f"{scaled:.1f}" if scaled < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + unit
    return f"{value:.0f}"


def dollars(value: float) -> str:
    return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"


def axis_dollars(value: float) -> str:
    """``$0``, ``$2.5``, ``$10``, ``$1.5K``: short enough for a phone's axis."""
    if value >= 1000:
        return "$" + compact(value)
    return f"${value:.2f}".rstrip("0").rstrip(".") if value < 10 else f"${value:.0f}"


def ticks(peak: float) -> list[float]:
    """Round gridline values from 0 to the first at or above ``peak`` (two to four lines),
    so an axis reads 0, 5, 10 rather than 0, 5.33, 10.67."""
    if peak <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(peak / 2))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * 3 >= peak)
    top = step * math.ceil(peak / step - 1e-9)
    return [step * i for i in range(round(top / step) + 1)]


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_label(day: str, with_year: bool) -> str:
    """``Feb 10``, or ``Feb 10 '26`` where the year changes: the same in every locale."""
    year, month, date = day[:4], int(day[5:7]), int(day[8:10])
    return f"{MONTHS[month - 1]} {date}" + (f" \u2019{year[2:]}" if with_year else "")


def _pct(value: float) -> str:
    return f"{value:.3f}%"


def _tile(label: str, value: str, sub: str = "") -> str:
    sub_html = f'<div class="sub">{escape(sub)}</div>' if sub else ""
    return (f'<div class="tile"><div class="label">{escape(label)}</div>'
            f'<div class="value">{escape(value)}</div>{sub_html}</div>')


def tiles(data: dict[str, Any]) -> str:
    t = data["totals"]
    cutoff = data["idle_cutoff_seconds"] // 60
    cost_sub = (f"estimated at list prices of {data['prices_as_of']}" if t["cost_estimated"]
                else "as Claude Code recorded it")
    if t["unpriced_messages"]:
        cost_sub += f"; {t['unpriced_messages']:,} messages without a price"
    return "".join([
        '<section class="tiles">',
        _tile("Sessions", f"{t['sessions']:,}"),
        _tile("Active time", duration(t["active_seconds"]), f"gaps count up to {cutoff} min"),
        _tile("Turns", f"{t['turns']:,}", "prompts you wrote"),
        _tile("Tokens", compact(t["tokens"]),
              f"{t['tokens']:,} in {t['messages']:,} model responses"),
        _tile("Cost", money(t), cost_sub),
        "</section>"])


def _day_labels(days: list[str]) -> list[tuple[int, str]]:
    """Which bars get a date under them: every one when there are few, else some on a
    narrow screen and more on a wide one (``minor``)."""
    n = len(days)
    major = max(1, -(-n // 4))
    minor = max(1, -(-n // 12))
    return [(i, "" if i % major == 0 else "minor") for i in range(n) if i % minor == 0]


GUTTER = 10.0
"""Percent of a day chart's width kept for its axis labels."""


def day_bars(title: str, days: list[str], stacks: list[list[tuple[float, str, str]]],
             axis: Any, tip_text: Any) -> str:
    """Vertical bars, one per day, each a stack of (value, colour, what it is)."""
    height, top, bottom = 200, 10, 176
    grid = ticks(max((sum(v for v, _, _ in stack) for stack in stacks), default=0))
    peak = grid[-1]
    slot = (100 - GUTTER) / max(1, len(days))
    parts = [f'<svg height="{height + 8}" role="img" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"]
    for value in grid:
        y = bottom - (bottom - top) * value / peak
        parts.append(f'<line class="grid" x1="{GUTTER}%" x2="100%" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{GUTTER - 1.5}%" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(axis(value))}</text>")
    for i, (day, stack) in enumerate(zip(days, stacks, strict=True)):
        x = GUTTER + slot * i + slot * 0.18
        y = float(bottom)
        tip = f"{day}: " + ", ".join(f"{what} {tip_text(v)}" for v, _, what in stack if v)
        parts.append(f"<g><title>{escape(tip)}</title>")
        for value, colour, _ in stack:
            h = (bottom - top) * value / peak
            if h > 0:
                y -= h
                parts.append(f'<rect x="{_pct(x)}" y="{y:.2f}" width="{_pct(slot * 0.64)}"'
                             f' height="{h:.2f}" fill="{colour}"/>')
        parts.append("</g>")
    years = {day[:4] for day in days}
    last_year = ""
    for i, cls in _day_labels(days):
        x = GUTTER + slot * (i + 0.5)
        label = day_label(days[i], len(years) > 1 and not cls and days[i][:4] != last_year)
        last_year = last_year if cls else days[i][:4]
        parts.append(f'<text x="{_pct(x)}" y="{bottom + 18}" text-anchor="middle"'
                     f'{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def legend(items: list[tuple[str, str]]) -> str:
    return '<ul class="legend">' + "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(text)}</li>'
        for colour, text in items) + "</ul>"


def day_charts(data: dict[str, Any]) -> str:
    shown = data["by_day"][-CHART_DAYS:]
    days = [d["day"] for d in shown]
    more = len(data["by_day"]) - len(shown)
    note = f" (the last {len(shown)} active days)" if more > 0 else ""
    cost = day_bars("Cost per day" + note, days,
                    [[(d["cost_usd"] or 0.0, PALETTE[0], "cost")] for d in shown],
                    axis_dollars, dollars)
    tokens = day_bars("Tokens per day" + note, days,
                      [[(float(d[key]), colour, what) for key, what, colour in KINDS]
                       for d in shown], compact, lambda v: f"{v:,.0f}")
    estimated = sum(1 for d in shown if d["cost_estimated"])
    how = ("estimated from list prices" if estimated == len(shown) else
           "as Claude Code recorded it" if not estimated else
           f"estimated from list prices on {estimated} of {len(shown)} days")
    return "".join([
        '<section class="grid2"><div>', f"<h2>Cost per day{escape(note)}</h2>", cost,
        f'<ul class="legend"><li>{escape(how)}</li></ul></div><div>',
        f"<h2>Tokens per day{escape(note)}</h2>", tokens,
        legend([(colour, what) for _, what, colour in KINDS]), "</div></section>"])


def split_bar(rows: list[tuple[str, float, str]], label: str) -> str:
    """One bar of 100 %: each (name, value, colour) its share."""
    total = sum(v for _, v, _ in rows) or 1
    parts = [f'<svg height="44" role="img" aria-label="{escape(label)}">'
             f'<text x="0" y="13">{escape(label)}</text>']
    x = 0.0
    for name, value, colour in rows:
        width = 100 * value / total
        if width <= 0:
            continue
        parts.append(f'<rect x="{_pct(x)}" y="20" width="{_pct(width)}" height="20"'
                     f' fill="{colour}"><title>{escape(name)}: {width:.1f}%</title></rect>')
        x += width
    parts.append("</svg>")
    return "".join(parts)


def model_name(model: str) -> str:
    """The whole id; a phone leaves out its ``claude-`` (every row has it) to keep it on one
    line."""
    if model.startswith("claude-") and len(model) > 7:
        return f'<span class="wide">claude-</span>{escape(model[7:])}'
    return escape(model)


def models(data: dict[str, Any]) -> str:
    rows = data["by_model"]
    colours = {m["model"]: PALETTE[i % len(PALETTE)] for i, m in enumerate(rows)}
    cost_rows = [(m["model"], m["cost_usd"] or 0.0, colours[m["model"]]) for m in rows]
    token_rows = [(m["model"], float(m["tokens"]), colours[m["model"]]) for m in rows]
    body = "".join(
        f'<tr><td class="name"><span class="swatch" style="background:{colours[m["model"]]}">'
        f'</span>{model_name(m["model"])}</td><td>{m["messages"]:,}</td>'
        f'<td class="wide">{m["input_tokens"]:,}</td><td class="wide">{m["output_tokens"]:,}'
        f'</td><td class="wide">{m["cache_creation_tokens"]:,}</td><td class="wide">'
        f'{m["cache_read_tokens"]:,}</td><td class="narrow">{compact(m["tokens"])}</td>'
        f"<td>{escape(money(m))}</td></tr>" for m in rows)
    return "".join([
        "<section><h2>By model</h2>",
        split_bar(cost_rows, "Share of cost") if any(v for _, v, _ in cost_rows) else "",
        split_bar(token_rows, "Share of tokens"),
        '<div class="scroll"><table><thead><tr><th>Model</th><th>Responses</th>'
        '<th class="wide">Input</th><th class="wide">Output</th><th class="wide">Cache write'
        '</th><th class="wide">Cache read</th><th class="narrow">Tokens</th><th>Cost</th></tr>'
        "</thead>"
        f"<tbody>{body}</tbody></table></div></section>"])


def tool_bars(data: dict[str, Any]) -> str:
    tools = data["tools"]
    if not tools:
        return ""
    label_width, row = 30.0, 24
    peak = max(t["calls"] for t in tools) or 1
    parts = [f'<svg height="{row * len(tools)}" role="img" aria-label="Tool calls">'
             "<title>Tool calls</title>"]
    for i, tool in enumerate(tools):
        y = i * row
        width = (100 - label_width - 9) * tool["calls"] / peak
        name = tool["tool"] if len(tool["tool"]) <= 22 else tool["tool"][:21] + "…"
        parts.append(
            f'<text class="name" x="0" y="{y + 16}">{escape(name)}</text>'
            f'<rect x="{label_width}%" y="{y + 5}" width="{_pct(width)}" height="14" rx="2"'
            f' fill="{PALETTE[0]}"><title>{escape(tool["tool"])}: {tool["calls"]:,}</title>'
            f'</rect><text x="{_pct(label_width + width + 1)}" y="{y + 16}">'
            f'{tool["calls"]:,}</text>')
    parts.append("</svg>")
    return "<div><h2>Tool calls</h2>" + "".join(parts) + "</div>"


def when_cell(stamp: str | None) -> str:
    """Local date and time; a phone has room for the date only."""
    day, _, clock = local_minute(stamp).partition(" ")
    return escape(day) + (f'<span class="wide"> {escape(clock)}</span>' if clock else "")


def file_cell(path: str) -> str:
    """The file's name first, its folder under it in grey: the name is what is looked for,
    and a long folder wraps without cutting the name in two."""
    folder, _, name = path.rpartition("/")
    where = f'<div class="folder">{escape(path_end(folder, 48))}/</div>' if folder else ""
    return f'<div class="file">{escape(name)}</div>{where}'


def files_table(data: dict[str, Any]) -> str:
    if not data["files"]:
        return ""
    body = "".join(
        f'<tr><td class="path" title="{escape(f["path"])}">{file_cell(f["file"])}</td>'
        f'<td>{f["edits"]:,}</td><td>{when_cell(f["last_changed"])}</td></tr>'
        for f in data["files"])
    return ("<div><h2>Most-changed files</h2><table><thead><tr><th>File</th><th>Edits</th>"
            f"<th>Last changed</th></tr></thead><tbody>{body}</tbody></table></div>")


def days_table(data: dict[str, Any]) -> str:
    body = "".join(
        f'<tr><td>{escape(d["day"])}</td><td>{d["sessions"]:,}</td>'
        f'<td>{escape(duration(d["active_seconds"]))}</td><td>{d["turns"]:,}</td>'
        f'<td>{d["messages"]:,}</td><td>{d["tokens"]:,}</td><td>{escape(money(d))}</td></tr>'
        for d in reversed(data["by_day"]))
    return ('<section><h2>By day</h2><div class="scroll"><table><thead><tr><th>Day</th>'
            "<th>Sessions</th><th>Active</th><th>Turns</th><th>Responses</th><th>Tokens</th>"
            f"<th>Cost</th></tr></thead><tbody>{body}</tbody></table></div></section>")


def scope_text(data: dict[str, Any]) -> str:
    parts = [data["project"], f"session {data['session']}" if data["session"]
             else "all sessions"]
    if data["since"]:
        parts.append(f"since {data['since'][:16].replace('T', ' ')} UTC")
    if data["by_day"]:
        parts.append(f"{data['by_day'][0]['day']} to {data['by_day'][-1]['day']}")
    return " · ".join(parts)


def footer(data: dict[str, Any]) -> str:
    cutoff = data["idle_cutoff_seconds"] // 60
    return (
        "<footer>"
        f"<p>Active time: the gaps between a session's messages, each counted up to {cutoff}"
        " minutes, so time away does not count. Turns: prompts of the main conversation."
        " Tokens: once per API message. Days are local dates.</p>"
        "<p>Cost: $ as Claude Code recorded it; ~$ estimated from list prices of"
        f" {escape(data['prices_as_of'])} (cache writes at the 5-minute rate); + more for"
        " messages without a price; no price: a model the price table does not know, its tokens"
        " counted.</p>"
        f"<p>Made by session-core stats at {escape(utc_stamp()[:16].replace('T', ' '))} UTC.</p>"
        "</footer>")


def render_page(data: dict[str, Any]) -> str:
    """The whole report for ``stats --html``."""
    if data["by_day"]:
        body = [tiles(data), day_charts(data), models(data),
                f'<section class="grid2">{tool_bars(data)}{files_table(data)}</section>',
                days_table(data)]
    else:
        body = ["<p>Nothing archived in this range.</p>"]
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Claude Code sessions: {escape(data['project'])}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>Claude Code sessions</h1>", f'<p class="scope">{escape(scope_text(data))}</p>',
        *body, footer(data), "</main></body></html>\n"])
