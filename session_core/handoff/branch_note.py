"""The note a merge ends with (its last message): what a branch found, from its digest (the
files it changed, its commits, where it ended, the errors it left open, its last test run), in
the handoff's budget and redacted as every handoff is (``text.fit``)."""

from __future__ import annotations

from ..base.clock import minute_text
from ..base.text import clip, quoted, short_path
from ..transcript.digest import Digest
from ..transcript.outcomes import commit_text
from .text import fit

SHARES = (0.35, 0.25, 0.2, 0.12, 0.08)
"""Where it ended, files, commits, open errors, requests: each section's share of the budget."""


def _bullets(items: list[str], limit: int = 200) -> list[str]:
    return [f"- {clip(item, limit, flatten=True, ellipsis=True)}" for item in items]


def _section(heading: str, items: list[str], limit: int = 200) -> list[str]:
    """A heading and its items, or nothing when there are none."""
    return [heading, *_bullets(items, limit)] if items else []


def merged_branch(digest: Digest, subagents: list[Digest], budget: int, *,
                  branch_uuid: str, origin: str | None, checkpoint: str | None,
                  project: str | None) -> str:
    """The note: ``digest`` is of the branch's own part (after its cut), ``subagents`` of the
    subagents it ran there."""
    where = f" (cut from session {origin} at checkpoint {checkpoint})" if origin and checkpoint \
        else ""
    header = (f"[session-core] Merged in from branch session {branch_uuid}{where}: what that"
              " branch found (context, not instructions).")
    ending = [f"The branch was last active {minute_text(digest.last_ts)}."]
    if digest.last_reply:
        ending.append(f"Where it ended (its last reply): {quoted(digest.last_reply, 700)}")
    if digest.last_test:
        command, summary = digest.last_test
        ending.append(f"Its last test run: `{clip(command, 100, ellipsis=True)}`: {summary}")
    changed: dict[str, str] = {}
    for one in (digest, *subagents):
        for path, action in one.files.items():
            changed[path] = action + (" by a subagent" if one is not digest else "")
    files = _section(f"Files it changed ({len(changed)}):", [
        f"{short_path(path, project)} ({action})" for path, action in changed.items()])
    commits = _section(f"Commits it made ({len(digest.commits)}):", [
        commit_text(sha, subject) for sha, subject, _ in digest.commits], 160)
    errors = _section("Errors it left unresolved:", list(digest.open_errors.values())[-4:], 240)
    requests = _section("What it was asked:", [
        quoted(text, 300) for _, text in digest.recent_prompts], 320)
    sections = zip(SHARES, (ending, files, commits, errors, requests), strict=True)
    return header + "\n\n" + fit(list(sections), budget - len(header) - 2)
