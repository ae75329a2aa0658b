"""``export --format html``: one self-contained page per session, to read in any browser,
from ``file://``, on a phone or a wide screen.

Everything is inline (CSS, images as ``data:`` URIs) and the Content-Security-Policy lets the
page load nothing at all, so a transcript's text can neither call home nor run: every text is
HTML-escaped as well (transcripts hold arbitrary text: HTML, ``</script>``, anything). No
script is needed: tool calls, subagent runs and long results fold with ``<details>``, the
summary line of a call showing its tool and main argument while it is folded.
"""

from __future__ import annotations

import re
from html import escape

from .. import __version__
from ..base.clock import local_time, utc_stamp
from ..base.text import clip, short_path
from ..store.summary import SessionSummary
from ..transcript.conversation import (
    COMMAND,
    COMMAND_OUTPUT,
    META,
    PROMPT,
    REPLY,
    SUMMARY,
    THINKING,
    TOOL,
    Conversation,
    Image,
    Message,
    Run,
    ToolCall,
)
from ..transcript.extract import main_argument
from .conversation import run_title
from .readable import data_uri
from .session_facts import facts, title_of
from .tool_input import shown_input

SHOWN_LINES = 15
"""A result or an input block shows this many lines; the rest folds under "N more lines"."""
TITLE_CHARS = 160
"""A title is a first prompt: a heading shows its beginning."""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--soft:#f6f8fa;--you:#ddf4ff;--you-line:#54aeff;--err:#cf222e;--err-bg:#ffebe9;--run:#8250df;
--run-bg:#fbefff;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--soft:#151b23;--you:#0d2847;--you-line:#1f6feb;--err:#f85149;
--err-bg:#3c1618;--run:#ab7df8;--run-bg:#231a35;--link:#4493f8}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif}
header,main,footer{max-width:58rem;margin:0 auto;padding:0 1rem}
a{color:var(--link)}
nav{font-size:.875rem;margin-top:1rem}
h1{font-size:1.4rem;line-height:1.3;margin:1rem 0 .75rem;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem .9rem;
font-size:.875rem;margin:0 0 1.25rem}
.facts dt{color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere}
.turn{border-top:1px solid var(--line);padding:.9rem 0 .5rem}
.turn>h2{font-size:.75rem;font-weight:600;color:var(--muted);margin:0 0 .6rem;
text-transform:uppercase;letter-spacing:.05em}
.msg{margin:.6rem 0}
.who{font-weight:600;font-size:.8rem;margin-right:.4rem}
time{color:var(--muted);font-size:.75rem;font-variant-numeric:tabular-nums;white-space:nowrap}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.prompt .text{background:var(--you);border-left:3px solid var(--you-line);
padding:.5rem .8rem;border-radius:0 8px 8px 0}
.api-error .text,.bad{color:var(--err)}
code,pre,.arg{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace}
code{font-size:.875em;background:var(--soft);padding:.05em .3em;border-radius:4px;
overflow-wrap:anywhere}
pre{font-size:13px;line-height:1.45;margin:.3rem 0;padding:.5rem .7rem;background:var(--soft);
border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}
pre code{background:none;padding:0;font-size:inherit}
details>summary{cursor:pointer;list-style:none}
details>summary::-webkit-details-marker{display:none}
details>summary::before{content:"\\25B8";color:var(--muted);display:inline-block;width:1em;
flex:none}
details[open]>summary::before{content:"\\25BE"}
.tool{border:1px solid var(--line);border-radius:8px;margin:.4rem 0}
.tool>summary{display:flex;gap:.5rem;align-items:baseline;padding:.35rem .65rem}
.tool>summary:hover{background:var(--soft)}
.tool-name{font-weight:600;font-size:.875rem;flex:none}
.arg{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
font-size:13px;color:var(--muted)}
.mark{flex:none;font-size:.75rem;font-weight:600;color:var(--err)}
.tool.error{border-color:var(--err)}
.tool.error>summary{background:var(--err-bg)}
.tool-body{padding:.1rem .65rem .6rem;border-top:1px solid var(--line)}
.label{font-size:.75rem;color:var(--muted);margin:.5rem 0 .1rem}
.more>summary{font-size:.8rem;color:var(--muted);margin:.1rem 0}
.run{border-left:3px solid var(--run);margin:.6rem 0;padding:.1rem 0 .1rem .7rem;
background:linear-gradient(90deg,var(--run-bg),transparent 4rem)}
.run>summary{color:var(--run);font-weight:600;font-size:.875rem;padding:.2rem 0}
.note>summary,.thinking>summary{font-size:.8rem;color:var(--muted)}
.thinking .text{color:var(--muted);font-style:italic}
img{display:block;max-width:100%;height:auto;margin:.4rem 0;border:1px solid var(--line);
border-radius:6px}
footer{color:var(--muted);font-size:.75rem;border-top:1px solid var(--line);
padding-top:.75rem;padding-bottom:2rem;margin-top:1rem}
@media (max-width:600px){header,main,footer{padding:0 .7rem}
.facts{grid-template-columns:5.6rem minmax(0,1fr);gap:.15rem .5rem;font-size:.8rem}
.tool>summary time{display:none}h1{font-size:1.15rem}
.tool-body{padding:.1rem .45rem .5rem}.run{padding-left:.5rem}
pre.out{white-space:pre;overflow-x:auto;overflow-wrap:normal}}
"""

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_INLINE = re.compile(r"(`+)(.+?)\1|\*\*(?=\S)(.+?)(?<=\S)\*\*")


def _e(text: str) -> str:
    return escape(text, quote=True)


def _time(stamp: str | None) -> str:
    """The time of day (the turn's heading has the date); the whole local time on hover."""
    if not stamp:
        return ""
    full = local_time(stamp)
    return f'<time datetime="{_e(stamp)}" title="{_e(full)}">{_e(full[11:19] or full)}</time>'


def _inline(text: str) -> str:
    """Code spans and bold, the Markdown that matters most in a reply; the rest as typed."""
    out, at = [], 0
    for match in _INLINE.finditer(text):
        out.append(_e(text[at:match.start()]))
        if match.group(1):
            out.append(f"<code>{_e(match.group(2).strip())}</code>")
        else:
            out.append(f"<strong>{_e(match.group(3))}</strong>")
        at = match.end()
    out.append(_e(text[at:]))
    return "".join(out)


def rich(text: str) -> str:
    """A reply or a prompt: fenced code as code blocks, the rest as text that keeps its lines."""
    parts: list[str] = []
    prose: list[str] = []
    code: list[str] | None = None
    fence = ""

    def flush() -> None:
        if "".join(prose).strip():
            parts.append(f'<div class="text">{_inline(chr(10).join(prose).strip(chr(10)))}</div>')
        prose.clear()

    for line in text.split("\n"):
        if code is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                parts.append(f"<pre><code>{_e(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            flush()
            fence, code = opening.group(1), []
            continue
        prose.append(line)
    if code is not None:
        parts.append(f"<pre><code>{_e(chr(10).join(code))}</code></pre>")
    flush()
    return "".join(parts)


def _block(text: str, output: bool = False) -> str:
    """Input or ``output`` text: the first lines shown, the rest folded. On a narrow screen
    output keeps its lines (a listing, a table, code) and scrolls sideways; input wraps."""
    pre = '<pre class="out">' if output else "<pre>"
    lines = text.split("\n")
    if len(lines) <= SHOWN_LINES + 3:
        return f"{pre}{_e(text)}</pre>"
    head, rest = "\n".join(lines[:SHOWN_LINES]), "\n".join(lines[SHOWN_LINES:])
    return (f"{pre}{_e(head)}</pre><details class=\"more\"><summary>{len(lines) - SHOWN_LINES:,}"
            f" more lines</summary>{pre}{_e(rest)}</pre></details>")


def _images(images: list[Image]) -> str:
    out = []
    for number, image in enumerate(images, 1):
        uri = data_uri(image)
        out.append(f'<img src="{_e(uri)}" alt="image {number} from the transcript">' if uri
                   else f'<p class="label">image {number} ({_e(image.media_type)}) not shown</p>')
    return "".join(out)


def _result(call: ToolCall) -> str:
    result = call.result
    if result is None:
        return '<p class="label">No result: the call was cut off, or was still running.</p>'
    label = "Error" if result.is_error else "Result"
    cls = ' class="label bad"' if result.is_error else ' class="label"'
    return f"<p{cls}>{label}</p>{_block(result.text, True)}{_images(result.images)}"


def _call(call: ToolCall, stamp: str | None, cwd: str | None) -> str:
    failed = call.result is not None and call.result.is_error
    said = clip(short_path(main_argument(call.input), cwd), 300, flatten=True, ellipsis=True)
    mark = '<span class="mark">✗ error</span>' if failed else ""
    summary = (f'<summary><span class="tool-name">{_e(call.name)}</span>'
               f'<span class="arg">{_e(said)}</span>{mark}{_time(stamp)}</summary>')
    body = []
    for label, text in shown_input(call):
        body.append(f'<p class="label">{_e(label) or "Input"}</p>{_block(text)}')
    body += [_run(run) for run in call.runs]
    body.append(_result(call))
    cls = "tool error" if failed else "tool"
    return f'<details class="{cls}">{summary}<div class="tool-body">{"".join(body)}</div></details>'


def _said(who: str, cls: str, message: Message, body: str) -> str:
    return (f'<div class="msg {cls}"><div><span class="who">{who}</span>'
            f"{_time(message.timestamp)}</div>{body}</div>")


def _folded(cls: str, title: str, message: Message, body: str) -> str:
    return (f'<details class="msg {cls}"><summary>{title} {_time(message.timestamp)}</summary>'
            f"{body}</details>")


def message_html(message: Message) -> str:
    kind = message.kind
    if kind == TOOL and message.call is not None:
        return _call(message.call, message.timestamp, message.cwd)
    if kind == PROMPT:
        return _said("You", "prompt", message, rich(message.text) + _images(message.images))
    if kind == REPLY:
        cls = "reply api-error" if message.is_error else "reply"
        return _said("Claude", cls, message, rich(message.text))
    if kind == COMMAND:
        return _said("Command", "command", message, f"<code>{_e(message.text)}</code>")
    if kind == COMMAND_OUTPUT:
        return _said("Command output", "command-output", message, _block(message.text, True))
    if kind == THINKING:
        return _folded("thinking", "Thinking", message,
                       f'<div class="text">{_e(message.text or "(redacted)")}</div>')
    if kind == SUMMARY:
        return _folded("note", "Compaction summary", message, rich(message.text))
    if kind == META:
        first = clip(message.text, 90, flatten=True, ellipsis=True)
        return _folded("note", f"Claude Code note: {_e(first)}", message, _block(message.text))
    return ""


def _run(run: Run, why: str = "") -> str:
    note = f'<p class="label">{_e(why)}</p>' if why else ""
    body = "".join(message_html(m) for m in run.messages)
    return (f'<details class="run"><summary>{_e(run_title(run))}</summary>{note}{body}'
            "</details>")


def _turns(messages: list[Message]) -> str:
    sections: list[str] = []
    current: list[str] = []
    turn = 0
    for message in messages:
        starts = message.kind in (PROMPT, COMMAND)
        if starts or (not sections and not current):
            if current:
                sections.append("".join(current) + "</section>")
            turn += starts
            name = f"Turn {turn}" if starts else "Before the first prompt"
            anchor = f"turn-{turn}" if starts else "start"
            current = [f'<section class="turn" id="{anchor}"><h2>{name} · '
                       f"{_e(local_time(message.timestamp))}</h2>"]
        current.append(message_html(message))
    if current:
        sections.append("".join(current) + "</section>")
    return "".join(sections)


def _unlinked(runs: list[Run]) -> str:
    if not runs:
        return ""
    body = "".join(_run(run, ("It wrote the compaction summary" if run.compaction else
                              "No tool call of this session names it") + f"; file {run.source}")
                   for run in runs)
    return ('<section class="turn" id="unlinked"><h2>Subagent runs no tool call started</h2>'
            f"{body}</section>")


def page(title: str, body: str, style: str = "") -> str:
    """A complete document around ``body``: the one head every exported page has (``style``:
    the page's own rules, after the common ones)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{_e(title)}</title><style>{STYLE}{style}</style></head>"
            f"<body>{body}</body></html>\n")


def footer(redacted: bool) -> str:
    said = "Secrets redacted." if redacted else "Not redacted: this page may hold secrets."
    return (f"<footer>Exported by session-core {_e(__version__)} at {_e(local_time(utc_stamp()))}."
            f" {said}</footer>")


def html_page(summary: SessionSummary, conversation: Conversation, redacted: bool,
              index_href: str | None = None) -> str:
    """The session's page (``summary`` and ``conversation`` already cleaned); ``index_href``
    links back to the site's index."""
    title = title_of(summary)
    nav = f'<nav><a href="{_e(index_href)}">← All sessions</a></nav>' if index_href else ""
    rows = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in facts(summary))
    heading = clip(title, TITLE_CHARS, ellipsis=True)
    head = f'<header>{nav}<h1>{_e(heading)}</h1><dl class="facts">{rows}</dl></header>'
    main = f"<main>{_turns(conversation.messages)}{_unlinked(conversation.unlinked)}</main>"
    return page(clip(title, 120, ellipsis=True), head + main + footer(redacted))
