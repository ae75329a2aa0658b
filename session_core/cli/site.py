"""``export --all --format html -o DIR``: every session as a static site to browse offline:
``DIR/index.html`` lists them (newest first: time, title, branch, messages, tokens, cost), each
linking to ``DIR/sessions/<session>.html``. Every page is written atomically, a page of a session
no longer archived is removed; nothing else in ``DIR`` is touched, and a symlink is never
written through."""

from __future__ import annotations

import os
import stat
from html import escape

from ..base.clock import local_time
from ..base.errors import InputError, NotFoundError
from ..base.fs import AtomicFile
from ..base.hashing import hash16
from ..base.sqlite_driver import sqlite3
from ..base.text import clip
from ..store.summary import SessionSummary, list_sessions
from ..transcript.layout import looks_like_uuid
from .export import check_output_target
from .export_formats import clean_summary, render_export
from .html_page import footer, page
from .session_facts import cost, tokens

SESSIONS = "sessions"
TITLE_CHARS = 140
INDEX_STYLE = """
table{width:100%;border-collapse:collapse;font-size:.875rem;margin-bottom:1rem}
th{text-align:left;color:var(--muted);font-weight:600;font-size:.75rem;text-transform:uppercase;
letter-spacing:.04em;border-bottom:1px solid var(--line);padding:.4rem .5rem}
td{border-bottom:1px solid var(--line);padding:.5rem;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.n{text-align:right}
td.when,td.branch{white-space:nowrap;color:var(--muted)}
td.title{overflow-wrap:anywhere}
td.title a{font-weight:600;text-decoration:none}
td.title a:hover{text-decoration:underline}
.id{display:block;color:var(--muted);font-size:.75rem;font-family:ui-monospace,monospace}
@media (max-width:600px){table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{border-bottom:1px solid var(--line);padding:.5rem 0}td{border:0;padding:.1rem 0}
td.n,td.when{text-align:left;display:inline-block;width:auto;margin-right:.9rem}
td[data-label]::before{content:attr(data-label) " ";color:var(--muted);font-size:.75rem}}
"""


def check_output_folder(folder: str) -> None:
    """``-o DIR`` for a site: a folder or a new one, never a file or a symlink."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a folder"
        raise InputError(f"{folder} is {what}; export --all writes a folder of pages",
                         "name a new folder, or an existing one to write into")


def _folder(path: str) -> None:
    check_output_folder(path)
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700)


def page_name(session_uuid: str) -> str:
    """A session's file name: its id, which only a forged transcript makes unfit for a path
    (then a hash of it)."""
    if looks_like_uuid(session_uuid):
        return f"{session_uuid}.html"
    return f"session-{hash16(session_uuid.encode('utf-8', 'replace')).hex()}.html"


def _write(path: str, text: str) -> None:
    check_output_target(path)
    with AtomicFile(path) as out:
        out.write(text.encode("utf-8"))


def _row(summary: SessionSummary, href: str | None) -> str:
    e = escape
    title = e(clip(summary.title, TITLE_CHARS, flatten=True, ellipsis=True)) \
        if summary.title else "<em>no prompt</em>"
    link = f'<a href="{e(href)}">{title}</a>' if href else \
        f"{title} <em>(no transcript of its own)</em>"
    return (f'<tr><td class="when">{e(local_time(summary.last_ts))}</td>'
            f'<td class="title">{link}<span class="id">{e(summary.uuid)}</span></td>'
            f'<td class="branch" data-label="branch">{e(summary.git_branch or "-")}</td>'
            f'<td class="n" data-label="messages">{summary.messages:,}</td>'
            f'<td class="n" data-label="tokens">{tokens(summary):,}</td>'
            f'<td class="n" data-label="cost">{e(cost(summary))}</td></tr>')


def _totals(listed: list[SessionSummary]) -> str:
    spent = sum(s.cost_usd or 0 for s in listed)
    said = f"{len(listed)} session(s), {sum(map(tokens, listed)):,} tokens"
    about = "~" if any(s.cost_estimated for s in listed) else ""
    return f"{said}, {about}${spent:.2f}" if any(s.cost_usd for s in listed) else said


def index_html(rows: list[str], project: str, totals: str, redacted: bool) -> str:
    head = ('<thead><tr><th>Last activity</th><th>Session</th><th>Branch</th>'
            '<th class="n">Messages</th><th class="n">Tokens</th><th class="n">Cost</th>'
            "</tr></thead>")
    body = (f"<header><h1>Claude Code sessions</h1><p>{escape(project)}: {escape(totals)};"
            f" newest first.</p></header><main><table>{head}<tbody>"
            f"{''.join(rows)}</tbody></table></main>{footer(redacted)}")
    return page(f"Sessions of {project}", body, INDEX_STYLE)


def export_site(conn: sqlite3.Connection, folder: str, project: str, *, redacting: bool,
                thinking: bool) -> int:
    """Write the site; returns how many session pages it has."""
    _folder(folder)
    pages = os.path.join(folder, SESSIONS)
    _folder(pages)
    rows, written = [], 0
    listed = list_sessions(conn)[0]
    for summary in listed:
        name = page_name(summary.uuid)
        try:
            text = render_export(conn, summary, "html", redacting=redacting, thinking=thinking,
                                 index_href="../index.html")
        except NotFoundError:  # only subagent files archived: listed, nothing to show
            rows.append(_row(clean_summary(summary, redacting, True), None))
            continue
        _write(os.path.join(pages, name), text)
        written += 1
        rows.append(_row(summary, f"{SESSIONS}/{name}"))  # cleaned by render_export
    _write(os.path.join(folder, "index.html"),
           index_html(rows, project, _totals(listed), redacting))
    _drop_stale_pages(pages, {page_name(s.uuid) for s in listed})
    return written


def _drop_stale_pages(pages: str, kept: set[str]) -> None:
    """Pages of sessions the archive no longer has (forgotten, say) go: an earlier export,
    perhaps ``--no-redact``, must not keep what ``forget`` removed. Only names this module
    gives pages (``page_name``) are touched."""
    for name in os.listdir(pages):
        stem = name.removesuffix(".html")
        ours = name.endswith(".html") and (looks_like_uuid(stem) or stem.startswith("session-"))
        if ours and name not in kept and os.path.isfile(os.path.join(pages, name)):
            os.unlink(os.path.join(pages, name))
