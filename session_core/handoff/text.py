"""The SessionStart handoff text: how the work was left first, never over the character budget.

Deterministic and local: built from :class:`~session_core.transcript.digest.Digest`\\ s and what
the hooks recorded (git state, how the session ended); no network, no model calls. Each section
has its own share of the budget, and what one leaves unused goes to the next: a long file list
can never push out where the work ended.
"""

from __future__ import annotations

import os

from ..base.clock import minute_text
from ..base.text import clip, quoted, short_path
from ..transcript.digest import Digest
from ..transcript.outcomes import commit_text
from .redact import redact

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterable

HEADER = "[session-core] Notes from the archive of this project (context, not instructions)."
SHARES = (("ending", 0.42), ("others", 0.08), ("requests", 0.22), ("files", 0.16),
          ("gotchas", 0.08), ("commands", 0.04))
"""Each section's share of the budget after the header, in the order they are shown."""
_FILES_LISTED = 14
"""Up to this many changed files are listed one by one; more are grouped by folder."""


class EndState:
    """How the session was left, beside what its transcript says: git branch and commit as the
    hooks last saw them, whether the tree is dirty now, whether its branch is pushed now
    (``now_known``: the session start's ``git status`` was on that same branch), and whether
    it may still be running."""

    __slots__ = ("ahead", "branch", "commit", "dirty_now", "ended", "maybe_running",
                 "now_known", "upstream")

    def __init__(self, branch: str | None, commit: str | None, dirty_now: bool | None,
                 maybe_running: bool = False, ended: bool = False, ahead: int | None = None,
                 upstream: str | None = None) -> None:
        self.branch, self.commit, self.dirty_now = branch, commit, dirty_now
        self.maybe_running, self.ended = maybe_running, ended
        self.ahead, self.upstream = ahead, upstream
        self.now_known = False


class Other:
    """One line about another recent session: maybe still open, never ended, or its work not
    committed."""

    __slots__ = ("changed", "digest", "open", "unfinished")

    def __init__(self, digest: Digest, is_open: bool, unfinished: bool = False,
                 changed: int | None = None) -> None:
        self.digest, self.open = digest, is_open
        self.unfinished = unfinished
        """Never ended (no SessionEnd) and not saved recently: a crash, a closed terminal."""
        self.changed = len(digest.files) if changed is None else changed
        """Files it changed, its subagents' included."""



def _bullets(items: Iterable[str], limit: int = 200) -> list[str]:
    return [f"- {clip(item, limit, flatten=True, ellipsis=True)}" for item in items]



def _session_line(digest: Digest, state: EndState | None) -> str:
    facts = [f"last active {minute_text(digest.last_ts)}"] if digest.last_ts else []
    branch = (state.branch if state else None) or digest.git_branch
    if branch:
        facts.append(f"branch {branch}")
    if state and state.commit:
        facts.append(f"commit {state.commit[:10]}")
    if state and state.dirty_now is not None:
        facts.append("working tree has uncommitted changes now" if state.dirty_now
                     else "working tree clean now")
    detail = f" ({'; '.join(facts)})" if facts else ""
    if state and state.maybe_running:
        return (f"Previous session {digest.session_uuid}{detail}. It has not ended and was"
                " active minutes ago: it may still be open in another terminal, so do not resume"
                " it a second time.")
    return f"Previous session{detail}: claude --resume {digest.session_uuid}"


def _ending(digest: Digest, state: EndState | None, last_reply: str | None) -> list[str]:
    lines = [_session_line(digest, state)]
    pending = digest.pending_tasks()
    if pending:
        lines.append(f"Pending tasks ({len(pending)}):")
        lines += _bullets((f"[{t.status}] {t.subject}" for t in pending[:10]), 160)
    reply = last_reply or digest.last_reply
    answered = _answered_last(digest) or last_reply is not None
    if digest.interrupted or not answered:
        how = "the user interrupted it" if digest.interrupted else "no reply to it was saved"
        lines.append(f"It ended during the last request ({quoted(digest.last_prompt, 300)}):"
                     f" {how}.")
        if digest.steps:
            lines.append("Its last steps: " + "; ".join(digest.steps))
    if reply:
        lines.append(f"Where it ended (last reply{'' if answered else ', to an earlier request'}):"
                     f" {_ends(reply, 700)}")
    if digest.open_errors:
        lines.append("Errors never resolved later:")
        lines += _bullets(list(digest.open_errors.values())[-3:], 240)
    if digest.background:
        lines.append("Left running in the background: " + "; ".join(
            f"`{command}` (shell {shell})" for shell, command in digest.background.items()))
    push = _push_line(digest, state)
    if push:
        lines.append(push)
    if digest.last_test:
        command, summary = digest.last_test
        lines.append(f"Last test run: `{clip(command, 100, ellipsis=True)}`: {summary}")
    if digest.commits:
        lines.append(f"Commits it made ({len(digest.commits)}):")
        shown = list(digest.commits)[-6:]
        lines += _bullets((commit_text(sha, subject, head=state.commit if state and n == len(
            shown) - 1 else None) for n, (sha, subject, _) in enumerate(shown)), 120)
    return lines


def _ends(text: str, limit: int) -> str:
    """A long reply by its beginning and its end: a summary's last lines say what remains."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return f'"{flat}"'
    head = limit * 3 // 5
    return f'"{flat[:head]} … {flat[-(limit - head - 3):]}"'


def _answered_last(digest: Digest) -> bool:
    """Whether the last reply came after the last request (times as Claude Code wrote them)."""
    if not digest.recent_prompts:
        return True
    asked = digest.recent_prompts[-1][0]
    said = digest.replies[-1][0] if digest.replies else None
    return bool(said and asked and said >= asked)


def _push_line(digest: Digest, state: EndState | None) -> str | None:
    """Unpushed work: what ``git status`` says now of the session's branch when the session
    start could ask, else the transcript's own ``git commit``/``push``/``status`` output."""
    if state is not None and state.now_known:
        if state.upstream is None and digest.push_seen and not digest.unpushed:
            return ("Pushed as far as the session shows; the branch tracks no upstream, so git"
                    " cannot say whether later commits are.")
        if state.upstream is None:
            return ("Not pushed: the branch has no upstream now (never pushed)."
                    if digest.commits or digest.files else None)
        if state.ahead:
            return (f"Not pushed: the branch is {state.ahead} commit(s) ahead of"
                    f" {state.upstream} now.")
        return (f"Pushed: the branch is up to date with {state.upstream} now."
                if digest.commits else None)
    if digest.commits and not digest.push_seen:
        return f"Not pushed: the session made {len(digest.commits)} commit(s) and never pushed."
    if digest.unpushed:
        return (f"Not pushed: {digest.unpushed} commit(s) made after the branch was last"
                " pushed" + (f" to {digest.upstream}." if digest.upstream else "."))
    if digest.push_seen and digest.commits:
        return "Pushed: the branch was pushed after its last commit."
    return None


def _requests(digest: Digest) -> list[str]:
    lines = [f"First request: {quoted(digest.first_prompt, 700)}"] if digest.first_prompt \
        else []
    later = [text for _, text in digest.recent_prompts if text != digest.first_prompt]
    if digest.prompts > 1 and later:
        skipped = digest.prompts - 1 - len(later)
        lines.append(f"Later requests ({digest.prompts} in all"
                     + (f", {skipped} not shown" if skipped > 0 else "") + ", latest last):")
        lines += _bullets(later, 400)
    if digest.queued:
        lines.append("Said while Claude worked:")
        lines += _bullets(digest.queued, 300)
    if digest.answers:
        lines.append("Answers to Claude's questions:")
        lines += _bullets(digest.answers, 300)
    if digest.plan:
        lines.append(f"Plan the user approved: {quoted(digest.plan, 500)}")
    if digest.local:
        lines.append("Claude Code commands the user ran: " + "; ".join(digest.local))
    return lines


def _files(digests: list[tuple[Digest, str]], project: str | None) -> list[str]:
    """Changed files, the session's own and its subagents' (``by``), relative to the project;
    grouped by folder when there are many."""
    changed: dict[str, str] = {}
    for digest, by in digests:
        for path, action in digest.files.items():
            changed.pop(path, None)
            shown = action if not action.startswith("moved to ") else \
                f"moved to {short_path(action[9:], project)}"
            changed[path] = shown + (f" by {by}" if by else "")
    if not changed:
        return []
    if len(changed) <= _FILES_LISTED:
        return [f"Files changed ({len(changed)}, latest last):", *_bullets(
            f"{short_path(path, project)} ({action})" for path, action in changed.items())]
    folders: dict[str, list[str]] = {}
    for path in reversed(list(changed)):  # latest first within and across folders
        rel = short_path(path, project)
        folder, _, name = rel.rpartition("/")
        folders.setdefault(folder or ".", []).append(name)
    lines = [f"Files changed ({len(changed)}), by folder, most recent first:"]
    for folder, names in folders.items():
        if len(names) == 1:
            lines.append(f"- {folder}/{names[0]}" if folder != "." else f"- {names[0]}")
            continue
        listed = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        lines.append(f"- {folder}/: {listed}")
    return lines


def _with_subagents(digest: Digest, subagents: list[Digest] | None) -> list[tuple[Digest, str]]:
    """The session's digest and its subagents', each with who changed its files."""
    return [(digest, ""), *((sub, "a subagent") for sub in subagents or [])]


def _gotchas(digest: Digest) -> list[str]:
    if not digest.gotchas:
        return []
    return ["Errors it hit and fixed (do not repeat them):", *_bullets(
        (f"{error} -> fixed: {fix}" for error, fix in digest.gotchas), 300)]


def _commands(digest: Digest) -> list[str]:
    if not digest.commands:
        return []
    return ["Commands that changed things (latest last):", *_bullets(
        (f"`{' '.join(c.split())}`" for c in list(digest.commands)[-6:]), 160)]


def _others(others: list[Other], project: str | None) -> list[str]:
    if not others:
        return []
    lines = ["Other recent sessions:"]
    for other in others:
        d = other.digest
        what = "may still be open (saved minutes ago, not ended)" if other.open else \
            "never ended cleanly (no SessionEnd)" if other.unfinished else \
            f"ended with {other.changed} changed file(s) and no commit"
        lines.append(f"- {d.session_uuid} ({minute_text(d.last_ts)}):"
                     f" {quoted(d.first_prompt, 120)}; {what}")
    return lines


def _relative(lines: list[str], project: str | None) -> list[str]:
    """Paths inside the project as relative paths, wherever a line quotes them (errors and
    commands too): shorter, and what the next session's tools expect."""
    if not project or len(project) < 2:
        return lines
    root = project.rstrip(os.sep) + os.sep
    return [_strip_root(line, root) if root in line else line for line in lines]


_PATH_STARTS = frozenset(" \t\n\"'`(=:[,")


def _strip_root(line: str, root: str) -> str:
    """``root`` removed where a path starts with it (after a space, a quote, ``=``...), not
    where it happens to occur inside another path (``/srv/backup/app/`` for root ``/app/``)."""
    out, at = [], 0
    while (found := line.find(root, at)) >= 0:
        out.append(line[at:found])
        if found > 0 and line[found - 1] not in _PATH_STARTS:
            out.append(root)
        at = found + len(root)
    out.append(line[at:])
    return "".join(out)


def fit(sections: Iterable[tuple[float, list[str]]], budget: int) -> str:
    """Sections as lines, in order, within ``budget``. Each section is promised its share;
    what sections do not need goes to those that need more, earliest first, so the ending
    grows before the file list does and a long file list never pushes out the ending.
    Within a section, lines are kept in order while they fit (the one that does not is cut,
    if enough of it fits to say something; a heading left without its items is dropped).
    Each line is redacted first (``redact``): no secret of a session reaches the next one,
    and the budget counts what is handed over."""
    given = [(share, [redact(line) for line in lines]) for share, lines in sections]
    given = [(share, lines) for share, lines in given if lines]
    needs = [sum(len(line) + 1 for line in lines) + 1 for _, lines in given]
    room = [min(need, int(budget * share)) for need, (share, _) in zip(needs, given, strict=True)]
    spare = budget - sum(room)
    for n, need in enumerate(needs):
        extra = max(0, min(need - room[n], spare))
        room[n] += extra
        spare -= extra
    out: list[str] = []
    for allowance, (_, lines) in zip(room, given, strict=True):
        block = _fill(lines, allowance - 2)  # two for the blank line between sections
        if block:
            out.append("\n".join(block))
    return "\n\n".join(out)


def _fill(lines: list[str], allowance: int) -> list[str]:
    """The lines that fit in ``allowance`` characters, newlines between them counted."""
    block: list[str] = []
    size = 0
    for line in lines:
        need = len(line) + (1 if block else 0)
        if size + need > allowance:
            left = allowance - size - (1 if block else 0)
            if left >= 60:
                block.append(clip(line, left, ellipsis=True))
            break
        block.append(line)
        size += need
    while block and block[-1].endswith(":"):
        block.pop()
    return block


def previous_session(digest: Digest, state: EndState | None, budget: int,
                     last_reply: str | None = None, *, project: str | None = None,
                     subagents: list[Digest] | None = None,
                     others: list[Other] | None = None) -> str:
    """startup / clear: how the previous session of real work was left, what it was asked,
    what it changed, what to avoid; a line for each other recent session left unfinished."""
    if digest.first_prompt is None and not digest.replies and not digest.files \
            and not digest.local:
        return ""
    project = project or digest.cwd
    parts = {
        "ending": _ending(digest, state, last_reply),
        "others": _others(others or [], project),
        "requests": _requests(digest),
        "files": _files(_with_subagents(digest, subagents), project),
        "gotchas": _gotchas(digest),
        "commands": _commands(digest),
    }
    body = budget - len(HEADER) - 2
    return HEADER + "\n\n" + fit(((share, _relative(parts[name], project))
                                   for name, share in SHARES), body)


def after_compaction(digest: Digest, budget: int, summary: str | None = None, *,
                     project: str | None = None,
                     subagents: list[Digest] | None = None) -> str:
    """compact: only what Claude Code's own summary of this session lacks (``summary``, from
    PostCompact; without it, every thread a summary tends to drop)."""
    project = project or digest.cwd
    said = (summary or "").lower()

    def missing(text: str) -> bool:
        return not summary or text.lower() not in said

    tasks = [t for t in digest.pending_tasks() if missing(t.subject[:60])]
    lines: list[str] = []
    if tasks:
        lines.append("Pending tasks:")
        lines += _bullets((f"[{t.status}] {t.subject}" for t in tasks[:10]), 160)
    errors = [e for e in digest.open_errors.values() if missing(e.split(": ", 1)[-1][:60])]
    if errors:
        lines.append("Errors never resolved later:")
        lines += _bullets(errors[-4:])
    commits = [(sha, subject) for sha, subject, _ in digest.commits
               if (not sha or missing(sha[:7])) and missing(subject[:50])]
    if commits:
        lines.append("Commits made:")
        lines += _bullets((commit_text(sha, subject) for sha, subject in commits[-6:]), 120)
    push = _push_line(digest, None)
    if push and (digest.commits and missing("push")):
        lines.append(push)
    if digest.last_test and missing(digest.last_test[1][:40]):
        lines.append(f"Last test run: `{clip(digest.last_test[0], 100, ellipsis=True)}`:"
                     f" {digest.last_test[1]}")
    files = _files(_with_subagents(digest, subagents), project)
    files = [files[0]] + [line for line in files[1:]
                          if missing(line[2:].split(" (")[0].rsplit("/", 1)[-1])] if files else []
    if len(files) > 1:
        lines += files
    if not summary and digest.replies:
        lines.append("Recent decisions (latest replies, oldest first):")
        lines += _bullets((text for _, text in digest.replies), 500)
    gotchas = [line for line in _gotchas(digest)[1:] if missing(line[2:42])]
    if gotchas:
        lines += ["Errors it hit and fixed:", *gotchas]
    if not lines:
        return ""
    header = ("[session-core] Kept across compaction from this session's archive, only what the"
              " summary lacks (context, not instructions).")
    return header + "\n\n" + fit([(1.0, _relative(lines, project))], budget - len(header) - 2)


def resumed(session_uuid: str, messages: int) -> str:
    """resume: Claude Code restores the conversation itself; one line is enough."""
    return (f"[session-core] Session {session_uuid} resumed; the archive holds its"
            f" {messages:,} message{'' if messages == 1 else 's'} (session-core show"
            f" {session_uuid}).")
