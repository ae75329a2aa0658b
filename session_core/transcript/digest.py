"""What a session was doing, folded deterministically from its records (no model calls).

The handoff needs things the index does not keep: the text of the first and last prompts and of
the last reply, files the tools changed, commands, the latest state of task lists, errors. It is
a fold over the session's own transcript, record by record, and folding in pieces gives what
folding at once does; so ingest folds each batch of records it parses, in the same pass that
indexes them, and the store keeps the state (``store.digests``). A reader that finds the saved
state behind the archived bytes folds the lines in between (:func:`fold_lines`).
"""

from __future__ import annotations

import posixpath
from collections import OrderedDict, deque

from ..base.errors import BusyError, CorruptBlobError, SessionCoreError
from ..base.jsonlite import dumps, loads
from ..base.sqlite_driver import sqlite3
from ..base.text import clip
from ..store import digests, files, recall
from .extract import content_text, main_argument
from .outcomes import (
    cause_line,
    changes_state,
    command_key,
    command_targets,
    error_signature,
    file_changes,
    first_line,
    git_events,
    test_summary,
)
from .records import Record, RecordError, is_message, is_tool_use_result, parse_record

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from ..store.connection import Database
    from .extract import Extracted
    from .records import ToolUseResult

EDIT_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}
DONE_STATES = frozenset({"completed", "deleted", "cancelled"})
_MESSAGE_MARKERS = (b'"type":"user"', b'"type":"assistant"', b'"type":"system"',
                    b'"type": "user"', b'"type": "assistant"', b'"type": "system"',
                    b'"type":"queue-operation"', b'"type": "queue-operation"')
DIGESTED_KINDS = ("session", "subagent")
"""Transcripts with a digest: a session's own, and its subagents' (their edits count)."""
STATE_VERSION = 3  # 3: a quiet ``git commit -q`` counts (hash unknown)
"""Bumped whenever what a digest keeps changes: a saved state of another version is folded
again from the frames by its next reader (it is derived data)."""
_FOLDED_TYPES = frozenset({"user", "assistant", "system", "queue-operation"})
_INTERRUPTED = "[Request interrupted"
_ERRORS_KEPT = frozenset({"Bash", "Task", "Agent", *EDIT_TOOLS})
"""Tools whose failures a next session should know about: those that change things."""
_ANSWERED = "User has answered your questions:"
_SIBLING_FAILED = "Sibling tool call errored"
_NOT_FAILURES = ("The user doesn't want to proceed", "[Request interrupted",
                 "tool use was rejected")
_KEEP = {"prompts": 3, "queued": 5, "answers": 5, "replies": 3, "commands": 12, "commits": 12,
         "gotchas": 6, "errors": 8, "files": 300, "calls": 200, "steps": 4, "local": 3,
         "background": 5}
"""How many of each a digest keeps (the newest); calls: tool uses awaiting their result (a
result follows its call within the turn; calls whose result never came are dropped oldest
first, so the saved state a Stop reads and writes stays small)."""
_CALL_ARG_CHARS = 4000
_KEPT_CHARS = 4000
"""Of a prompt or a reply, what the state keeps (the handoff shows at most 700)."""
"""Of a pending command, what ``outcomes`` reads (``split_commands`` reads no further)."""


class Task:
    __slots__ = ("status", "subject")

    def __init__(self, subject: str, status: str = "pending") -> None:
        self.subject, self.status = subject, status


class Digest:
    """What the handoff needs of one transcript, kept small and foldable. Plain class, not a
    dataclass: SessionStart builds it, and ``dataclasses`` is kept off the hook path
    (bench/README.md, the import ledger). ``sidechain``: a subagent's transcript, whose
    records all say ``isSidechain`` (its edits count for its session)."""

    def __init__(self, session_uuid: str, sidechain: bool = False) -> None:
        self.session_uuid, self.sidechain = session_uuid, sidechain
        self.first_prompt: str | None = None
        self.recent_prompts: deque[tuple[str | None, str]] = deque(maxlen=_KEEP["prompts"])
        self.prompts = 0
        self.queued: deque[str] = deque(maxlen=_KEEP["queued"])
        """Messages typed while Claude worked that never became a prompt of their own."""
        self.answers: deque[str] = deque(maxlen=_KEEP["answers"])
        """The user's answers to ``AskUserQuestion``, as Claude Code words them."""
        self.interrupted = False
        """The user interrupted the last request and said nothing since."""
        self.replies: deque[tuple[str | None, str]] = deque(maxlen=_KEEP["replies"])
        """(time, text) of the last replies to the user's requests (not to a background
        task's notification), oldest first."""
        self.on_notice = False
        self.steps: deque[str] = deque(maxlen=_KEEP["steps"])
        """The last tool calls since the last prompt (what it was doing when it stopped)."""
        self.local: deque[str] = deque(maxlen=_KEEP["local"])
        """Slash commands the user ran in Claude Code itself, with what they printed."""
        self.plan: str | None = None
        """The last plan the user approved (``ExitPlanMode``)."""
        self.background: OrderedDict[str, str] = OrderedDict()
        """Shell id -> command of background commands never stopped."""
        self.files: OrderedDict[str, str] = OrderedDict()
        """Path (absolute where it could be made so) -> what happened to it last: created,
        edited, deleted, or "moved to <path>"; most recent last. Successful changes only."""
        self.commands: deque[str] = deque(maxlen=_KEEP["commands"])
        """Commands that succeeded and may have changed something (not ls, cat, git log...)."""
        self.commits: deque[tuple[str, str, str | None]] = deque(maxlen=_KEEP["commits"])
        """(hash, subject, time of the output that showed it)."""
        self.unpushed: int | None = None
        """Commits made since the transcript last showed the branch pushed or up to date
        (None: it never showed either, and made no commit)."""
        self.upstream: str | None = None
        self.push_seen = False
        self.last_test: tuple[str, str] | None = None
        """(command, its summary line) of the last test run."""
        self.open_errors: OrderedDict[str, str] = OrderedDict()
        """What failed and never succeeded later (same tool, same target), keyed by that."""
        self.gotchas: deque[tuple[str, str]] = deque(maxlen=_KEEP["gotchas"])
        """(error, what succeeded after it) for commands that failed and were then fixed."""
        self.tasks: OrderedDict[str, Task] = OrderedDict()
        self.git_branch: str | None = None
        self.cwd: str | None = None
        self.last_ts: str | None = None
        self._task_creates: dict[str, str] = {}
        self._calls: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._said: str | None = None
        """Claude's last words before a tool call: what it said it was about to change."""
        self._edits: dict[str, int] = {}
        self._since: dict[str, list[str]] = {}
        """For each open error, the changes made since it (what may have fixed it)."""
        self.new_changes: list[tuple[str, str | None, str, int, str | None, str | None]] = []
        """Changes folded since the last save: rows for ``store.recall`` (not saved state)."""
        self.new_fixes: list[tuple[str, str | None, str, str]] = []
        self.copied: Callable[[Record], bool] | None = None
        """Whether a record is a copy of another session's (a branch, a merge, a fork: its
        entry is filed under that session): its changes of files were counted there, so they
        are not this one's (``files``, the recall rows and their edit counts). Not saved state;
        :func:`digest_of` sets it. None: every record is the session's own."""
        self._result: Record | None = None
        """The tool result being folded (whose changes :func:`_changed` records)."""

    @property
    def last_prompt(self) -> str | None:
        return self.recent_prompts[-1][1] if self.recent_prompts else None

    @property
    def last_reply(self) -> str | None:
        return self.replies[-1][1] if self.replies else None

    @property
    def changed_files(self) -> list[str]:
        return list(self.files)

    def pending_tasks(self) -> list[Task]:
        return [task for task in self.tasks.values() if task.status not in DONE_STATES]

    def did_work(self) -> bool:
        """Changed something (a file, a commit, a state-changing command), or had a task list:
        more than a question asked and answered."""
        return bool(self.files or self.commits or self.commands or self.tasks)

    def to_state(self) -> dict[str, Any]:
        """Everything folding more lines needs, as JSON values (kept in ``store.digests``)."""
        return {
            "v": STATE_VERSION, "first_prompt": self.first_prompt,
            "recent_prompts": [list(p) for p in self.recent_prompts], "prompts": self.prompts,
            "queued": list(self.queued), "answers": list(self.answers),
            "interrupted": self.interrupted, "replies": [list(r) for r in self.replies],
            "on_notice": self.on_notice, "steps": list(self.steps), "local": list(self.local),
            "plan": self.plan, "background": [list(b) for b in self.background.items()],
            "files": [list(f) for f in self.files.items()],
            "commands": list(self.commands), "commits": [list(c) for c in self.commits],
            "unpushed": self.unpushed, "upstream": self.upstream, "push_seen": self.push_seen,
            "last_test": list(self.last_test) if self.last_test else None,
            "open_errors": [list(e) for e in self.open_errors.items()],
            "gotchas": [list(g) for g in self.gotchas],
            "tasks": [[key, task.subject, task.status] for key, task in self.tasks.items()],
            "git_branch": self.git_branch, "cwd": self.cwd, "last_ts": self.last_ts,
            "task_creates": self._task_creates,
            "calls": [[k, *v] for k, v in self._calls.items()], "said": self._said,
            "edits": [[path, count] for path, count in self._edits.items()],
            "since": {key: list(steps) for key, steps in self._since.items()},
        }

    @classmethod
    def from_state(cls, session_uuid: str, state: dict[str, Any],
                   sidechain: bool = False) -> Digest:
        """The inverse of :meth:`to_state`; ``ValueError`` for anything of the wrong shape or
        version."""
        try:
            if state["v"] != STATE_VERSION:
                raise ValueError(f"a digest of version {state['v']!r}")
            d = cls(session_uuid, sidechain)
            d.first_prompt = _text_or_none(state["first_prompt"])
            d.recent_prompts.extend((_text_or_none(t), _text(p))
                                    for t, p in _rows(state["recent_prompts"], 2))
            d.prompts = _int(state["prompts"])
            d.queued.extend(_text(q) for q in state["queued"])
            d.answers.extend(_text(a) for a in state["answers"])
            d.interrupted = _bool(state["interrupted"])
            d.replies.extend((_text_or_none(t), _text(r)) for t, r in _rows(state["replies"], 2))
            d.on_notice = _bool(state["on_notice"])
            d.steps.extend(_text(step) for step in state["steps"])
            d.local.extend(_text(line) for line in state["local"])
            d.plan = _text_or_none(state["plan"])
            d.background.update((_text(k), _text(c)) for k, c in _rows(state["background"], 2))
            d.files.update((_text(p), _text(a)) for p, a in _rows(state["files"], 2))
            d.commands.extend(_text(c) for c in state["commands"])
            d.commits.extend((_text(h), _text(s), _text_or_none(t))
                             for h, s, t in _rows(state["commits"], 3))
            d.unpushed = None if state["unpushed"] is None else _int(state["unpushed"])
            d.upstream = _text_or_none(state["upstream"])
            d.push_seen = _bool(state["push_seen"])
            test = state["last_test"]
            d.last_test = None if test is None else (_text(test[0]), _text(test[1]))
            d.open_errors.update((_text(k), _text(e)) for k, e in _rows(state["open_errors"], 2))
            d.gotchas.extend((_text(e), _text(f)) for e, f in _rows(state["gotchas"], 2))
            d.tasks.update((_text(key), Task(_text(subject), _text(status)))
                           for key, subject, status in _rows(state["tasks"], 3))
            d.git_branch = _text_or_none(state["git_branch"])
            d.cwd = _text_or_none(state["cwd"])
            d.last_ts = _text_or_none(state["last_ts"])
            d._task_creates = {_text(k): _text(v) for k, v in state["task_creates"].items()}
            d._calls.update((_text(k), (_text(n), _text(a)))
                            for k, n, a in _rows(state["calls"], 3))
            d._said = _text_or_none(state["said"])
            d._edits = {_text(path): _int(count) for path, count in _rows(state["edits"], 2)}
            d._since = {_text(key): [_text(step) for step in steps]
                        for key, steps in state["since"].items()}
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ValueError(f"not a saved digest: {exc}") from None
        return d


def _text_or_none(value: object) -> str | None:
    return None if value is None else _text(value)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, found {type(value).__name__}")


def _int(value: object) -> int:
    if type(value) is int:
        return value
    raise ValueError("expected an integer")


def _bool(value: object) -> bool:
    if type(value) is bool:
        return value
    raise ValueError("expected true or false")


def _rows(value: object, width: int) -> list[list[Any]]:
    """A list of lists of exactly ``width`` items (what ``to_state`` writes for pairs)."""
    if isinstance(value, list) and all(isinstance(row, list) and len(row) == width
                                       for row in value):
        return value
    raise ValueError(f"expected rows of {width}")


def could_hold_message(record: Record, line: bytes) -> bool:
    """Whether a parsed line takes part in the fold: a message or queue record, or another
    whose line holds a message marker (an attachment quoting one: its branch, folder and time
    count)."""
    return record.type in _FOLDED_TYPES or any(marker in line for marker in _MESSAGE_MARKERS)


def digest_lines(session_uuid: str, lines: Iterable[bytes], sidechain: bool = False) -> Digest:
    """Fold a transcript's lines into a :class:`Digest`; bad lines are skipped."""
    return fold_lines(Digest(session_uuid, sidechain), lines)


def fold_lines(digest: Digest, lines: Iterable[bytes]) -> Digest:
    """Fold more lines into ``digest``, parsing them as ingest does (for a reader whose saved
    digest is behind the archive, and for tests). What only this needs is imported here: a
    session start that finds the saved digest current never loads it."""
    from .extract import extract
    from .lines import is_plain_progress

    for line in lines:
        if is_plain_progress(line):
            continue
        try:
            record = parse_record(line)
        except RecordError:
            continue
        if could_hold_message(record, line):
            try:
                fold(digest, record, extract(record, 0))
            except Exception:  # one odd record must not cost the handoff (ingest skips it too)
                continue
    return digest


def fold(digest: Digest, record: Record, info: Extracted | None) -> None:
    """Fold one record that :func:`could_hold_message`; ``info`` is what ``extract`` made of it
    (any text limit: only its kind and prompt are read here)."""
    if record.sessionId not in (None, digest.session_uuid) \
            or (record.isSidechain is True and not digest.sidechain):
        return
    if isinstance(record.gitBranch, str) and record.gitBranch:
        digest.git_branch = record.gitBranch
    if isinstance(record.cwd, str) and record.cwd:
        digest.cwd = record.cwd
    if isinstance(record.timestamp, str):
        digest.last_ts = record.timestamp
    if record.type == "queue-operation":
        _queued(digest, record)
        return
    if info is None:
        return
    if record.type == "system":
        if record.subtype == "local_command" and isinstance(record.content, str):
            _local(digest, record.content)
        elif info.kind == "api_error" or record.level == "error":
            text = record.content if isinstance(record.content, str) else ""
            digest.open_errors.pop("api", None)
            digest.open_errors["api"] = f"API error: {cause_line(text) or info.kind}"
        return
    message = record.message
    if not is_message(message):
        return
    blocks = message.content if isinstance(message.content, list) else ()
    if record.type == "user":
        _user(digest, record, info, blocks)
    else:
        _assistant(digest, record, blocks)


def _queued(digest: Digest, record: Record) -> None:
    """``enqueue`` keeps what the user typed while Claude worked; it leaves the queue again as
    a prompt of its own (dropped here, counted there) or stays an instruction in passing.
    Background tasks' notifications queue too: they are not the user's words."""
    content = record.content
    if record.operation == "enqueue" and isinstance(content, str) \
            and content.strip() and not content.lstrip().startswith(("<", "/")):
        digest.queued.append(clip(content.strip(), 2000))


def _user(digest: Digest, record: Record, info: Extracted, blocks: Iterable[Any]) -> None:
    prompt = info.prompt
    if prompt is not None and prompt.lstrip().startswith(_INTERRUPTED):
        digest.interrupted = True
    elif prompt is not None:
        digest.prompts += 1
        prompt = clip(prompt, _KEPT_CHARS, ellipsis=True)  # the state is read at every Stop
        digest.first_prompt = digest.first_prompt or prompt
        digest.recent_prompts.append((record.timestamp if isinstance(record.timestamp, str)
                                      else None, prompt))
        digest.interrupted = digest.on_notice = False
        digest.steps.clear()
        digest._said = None
        stripped = prompt.strip()
        if stripped in digest.queued:
            digest.queued.remove(stripped)
    plain = _plain(record) if prompt is None or info.kind == "command" else None
    if plain is not None:
        _local(digest, plain)
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            _tool_result(digest, block, record)


def _local(digest: Digest, text: str) -> None:
    """Claude Code's own user-role lines: a background task's notice (what Claude says to it
    is not where the work ended), a slash command the user ran, and what it printed."""
    text = text.lstrip()
    if text.startswith("<task-notification>"):
        digest.on_notice = True
        finished = text.split("<task-id>", 1)[-1].split("</task-id>", 1)[0].strip()
        if "<task-id>" in text and "<status>running" not in text:
            digest.background.pop(finished, None)
    elif text.startswith("<command-name>"):
        name = text[len("<command-name>"):].split("<", 1)[0].strip()
        if name and not (digest.local and digest.local[-1].split(":", 1)[0] == name):
            digest.local.append(name)  # Claude Code writes it as a user and a system record
    elif text.startswith("<local-command-stdout>") and digest.local:
        said = first_line(text[len("<local-command-stdout>"):].split("</local-command", 1)[0])
        if said and ": " not in digest.local[-1]:
            digest.local[-1] = f"{digest.local[-1]}: {said}"


def _plain(record: Record) -> str | None:
    content = record.message.content if is_message(record.message) else None
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return " ".join(t for t in texts if isinstance(t, str))
    return content if isinstance(content, str) else None


def _assistant(digest: Digest, record: Record, blocks: Iterable[Any]) -> None:
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            said = block.get("text")
            if isinstance(said, str) and (said := said.strip()):
                digest.open_errors.pop("api", None)
                digest._said = clip(said, 300, flatten=True, ellipsis=True)
                if not digest.on_notice:
                    digest.replies.append((record.timestamp if isinstance(record.timestamp, str)
                                           else None, _head_and_tail(said)))
        elif kind == "tool_use":
            digest.on_notice = False  # working again: what it says next is about the work
            _tool_use(digest, block, record.cwd if isinstance(record.cwd, str) else None)


def _tool_use(digest: Digest, block: dict[str, Any], cwd: str | None) -> None:
    name, tool_input, use_id = block.get("name"), block.get("input"), block.get("id")
    if not isinstance(name, str) or not isinstance(tool_input, dict):
        return
    path_key = EDIT_TOOLS.get(name)
    arg = tool_input.get(path_key) if path_key else tool_input.get("command") \
        if name == "Bash" else None
    if isinstance(use_id, str):
        digest._calls[use_id] = (name, _absolute(arg, cwd) if path_key and isinstance(arg, str)
                                 else arg[:_CALL_ARG_CHARS] if isinstance(arg, str) else "")
        while len(digest._calls) > _KEEP["calls"]:
            digest._calls.popitem(last=False)
    digest.steps.append(_step(name, tool_input))
    if name == "ExitPlanMode" and isinstance(tool_input.get("plan"), str):
        digest.plan = clip(tool_input["plan"], 1200, flatten=True, ellipsis=True)
    elif name in ("KillShell", "KillBash", "TaskStop"):
        for key in ("shell_id", "bash_id", "task_id", "id"):
            digest.background.pop(str(tool_input.get(key)), None)
    elif name == "TodoWrite" and isinstance(tool_input.get("todos"), list):
        digest.tasks = OrderedDict(
            (str(item.get("content")), Task(str(item.get("content")), str(item.get("status"))))
            for item in tool_input["todos"] if isinstance(item, dict) and item.get("content"))
    elif name == "TaskCreate" and isinstance(use_id, str):
        subject = tool_input.get("subject") or tool_input.get("description")
        if isinstance(subject, str):
            digest._task_creates[use_id] = subject
    elif name == "TaskUpdate":
        task = digest.tasks.get(str(tool_input.get("taskId")))
        if task is not None:
            if isinstance(tool_input.get("status"), str):
                task.status = tool_input["status"]
            if isinstance(tool_input.get("subject"), str):
                task.subject = tool_input["subject"]


def _head_and_tail(text: str) -> str:
    """A long reply kept by its beginning and its end (a summary's last lines say what
    remains), so the saved state stays small however long Claude wrote."""
    if len(text) <= _KEPT_CHARS:
        return text
    half = _KEPT_CHARS // 2
    return text[:half] + " … " + text[-half:]


def _step(name: str, tool_input: dict[str, Any]) -> str:
    """A tool call in a few words: its name and its main argument."""
    said = main_argument(tool_input)
    return f"{name} {clip(said, 140, ellipsis=True)}" if said else name


def _absolute(path: str, cwd: str | None) -> str:
    if path.startswith("/"):
        return posixpath.normpath(path)  # as the recall hook normalises the paths it looks up
    if not cwd or not cwd.startswith("/"):
        return path  # not a POSIX path we can place (Windows is untested)
    return posixpath.normpath(posixpath.join(cwd, path))


def _tool_result(digest: Digest, block: dict[str, Any], record: Record) -> None:
    digest._result = record
    use_id = block.get("tool_use_id")
    name, arg = digest._calls.pop(use_id, ("", "")) if isinstance(use_id, str) else ("", "")
    output = content_text(block.get("content"))
    at = record.timestamp if isinstance(record.timestamp, str) else None
    if block.get("is_error") is True:
        if name == "Bash":  # a push rejected after its commit: the commit is real
            _outcomes(digest, arg, output, at, ok=False)
        _failed(digest, name, arg, output)
        return
    key = _error_key(name, arg)
    if name in EDIT_TOOLS:
        action = "created" if output.startswith("File created") else "edited"
        if digest.files.get(arg) == "created":
            action = "created"
        _changed(digest, arg, action, at)
    elif name == "Bash":
        _ran(digest, arg, output, record.cwd if isinstance(record.cwd, str) else None, at)
        marker = "running in background with ID: "
        shell = output.split(marker, 1)[1].split(".", 1)[0].split() if marker in output else []
        if shell:
            digest.background[shell[0]] = clip(" ".join(arg.split()), 160, ellipsis=True)
            while len(digest.background) > _KEEP["background"]:
                digest.background.popitem(last=False)
    elif name == "AskUserQuestion" and output.startswith(_ANSWERED):
        answer = output[len(_ANSWERED):].split(". You can now continue")[0].strip()
        digest.answers.append(clip(answer, 600, flatten=True, ellipsis=True))
    result = record.toolUseResult
    if is_tool_use_result(result):
        _task_result(digest, name, use_id, result)
    if name == "Bash":  # any of its commands may be the failed one, run again
        key = next((k for k in (f"bash {t}" for t in command_targets(arg))
                    if k in digest.open_errors), key)
    failed = digest.open_errors.pop(key, None) if key else None
    steps = digest._since.pop(key, []) if key else []
    if failed is not None and name == "Bash":
        fix = f"`{clip(' '.join(arg.split()), 140, ellipsis=True)}` succeeded"
        if steps:
            fix = "after " + ", ".join(steps) + ", " + fix
        digest.gotchas.append((failed, fix))
        for cause in failed.split(": ", 1)[-1].split("; then "):
            digest.new_fixes.append((error_signature(cause), at, cause, fix))
    elif key is not None and (name in EDIT_TOOLS or (name == "Bash" and changes_state(arg))):
        _a_step_since(digest, f"`{clip(' '.join(arg.split()), 100, ellipsis=True)}`"
                      if name == "Bash" else f"an edit of {arg.rsplit('/', 1)[-1]}")


def _a_step_since(digest: Digest, step: str) -> None:
    """A change made while errors are open: maybe what fixes them (the last three are kept
    for each, and named with the fix when the failed step succeeds)."""
    for key in digest.open_errors:
        steps = digest._since.setdefault(key, [])
        if step not in steps:
            steps.append(step)
            del steps[:-3]


def _error_key(name: str, arg: str) -> str | None:
    if name in EDIT_TOOLS:
        return f"edit {arg}"
    if name == "Bash":
        return f"bash {command_targets(arg)[0]}"
    return name or None


def _failed(digest: Digest, name: str, arg: str, output: str) -> None:
    if _SIBLING_FAILED in output or any(said in output for said in _NOT_FAILURES):
        return  # cancelled (a parallel call failed) or refused by the user: no error of its own
    if name not in _ERRORS_KEPT or (name == "Bash" and not changes_state(arg)):
        return  # a look that failed (grep found nothing, a page did not load) changed nothing
    key = _error_key(name, arg) or "tool"
    cause = cause_line(output) or "failed"
    what = f"`{command_key(arg)}`" if name == "Bash" else f"{name} {arg}".strip()
    earlier = digest.open_errors.pop(key, None)
    if earlier is not None and cause not in earlier:  # the same step failing on and on
        causes = earlier.split(": ", 1)[-1].split("; then ")[-2:]
        cause = "; then ".join([*causes, cause])
    digest.open_errors[key] = f"{what or 'a tool'}: {cause}"
    digest._since.setdefault(key, [])
    while len(digest.open_errors) > _KEEP["errors"]:
        dropped, _ = digest.open_errors.popitem(last=False)
        digest._since.pop(dropped, None)


def _changed(digest: Digest, path: str, action: str, at: str | None) -> None:
    if not path:
        return
    if digest.copied is not None and digest._result is not None \
            and digest.copied(digest._result):
        return  # copied with another session's lines: that session's change, counted there
    digest.files.pop(path, None)
    digest.files[path] = action  # most recently changed last
    while len(digest.files) > _KEEP["files"]:
        digest.files.popitem(last=False)
    edits = digest._edits[path] = digest._edits.pop(path, 0) + 1
    while len(digest._edits) > _KEEP["files"]:
        digest._edits.pop(next(iter(digest._edits)))
    digest.new_changes.append((path, at, f"{action} by a subagent" if digest.sidechain
                               else action, edits,
                               clip(digest.last_prompt or "", 300, flatten=True,
                                    ellipsis=True) or None, digest._said))


def _ran(digest: Digest, command: str, output: str, cwd: str | None, at: str | None) -> None:
    """A Bash command that succeeded: what it committed, pushed, tested and changed."""
    if not command:
        return
    if changes_state(command):
        digest.commands.append(command)
    _outcomes(digest, command, output, at)
    for action, path, moved_to in file_changes(command, output):
        if action == "moved" and moved_to:
            _changed(digest, _absolute(path, cwd), f"moved to {_absolute(moved_to, cwd)}", at)
            _changed(digest, _absolute(moved_to, cwd), "created", at)
        else:
            _changed(digest, _absolute(path, cwd), action, at)


def _outcomes(digest: Digest, command: str, output: str, at: str | None,
              ok: bool = True) -> None:
    """Commits, pushes and the branch's state as git printed them, in order, and the test
    run's summary, from a command's output whether or not it exited 0 (a failed test run is
    the last test run; a commit before a rejected push happened). A ``git commit -q`` is kept
    with hash ``""`` until later output shows it: a ``git log`` line of its subject, or the
    commit a push moved the branch to when it is the last one."""
    for kind, first, second in git_events(command, output, ok):
        if kind == "commit":
            digest.commits.append((str(first), str(second), at))
            digest.unpushed = (digest.unpushed or 0) + 1
        elif kind == "logged":
            for n in range(len(digest.commits) - 1, -1, -1):
                sha, subject, when = digest.commits[n]
                if not sha and subject == second:
                    digest.commits[n] = (str(first), subject, when)
                    break
        elif kind == "tip" and digest.commits and not digest.commits[-1][0] \
                and digest.git_branch in (None, second):  # the branch the session was on
            _, subject, when = digest.commits[-1]
            digest.commits[-1] = (str(first), subject, when)
        elif kind == "pushed" and first is True:
            digest.unpushed, digest.push_seen = 0, True
        elif kind == "ahead" and isinstance(first, int):
            digest.unpushed, digest.push_seen = first, True
            digest.upstream = second if isinstance(second, str) else None
    summary = test_summary(output, command)
    if summary is not None:
        digest.last_test = (clip(" ".join(command.split()), 200, ellipsis=True), summary)


def _task_result(digest: Digest, name: str, use_id: Any, result: ToolUseResult) -> None:
    if name == "TaskCreate" and isinstance(use_id, str) and isinstance(result.task, dict):
        task_id = result.task.get("id")
        subject = digest._task_creates.pop(use_id, None) or result.task.get("subject")
        if task_id is not None and isinstance(subject, str):
            digest.tasks[str(task_id)] = Task(subject)
    elif name == "TaskList" and isinstance(result.tasks, list):
        digest.tasks = OrderedDict(
            (str(item.get("id")), Task(str(item.get("subject")), str(item.get("status"))))
            for item in result.tasks if isinstance(item, dict) and item.get("id") is not None)


# --- the digest as archived -------------------------------------------------------------


def digest_of(conn: sqlite3.Connection, record: files.FileRecord,
              catch_up: int | None = None, *, max_line_bytes: int) -> tuple[Digest, int] | None:
    """The digest of ``record``'s archived complete lines and how many bytes of them had to be
    folded from the frames: the saved digest, with whatever it lacks (at most ``catch_up``
    bytes, else None). A saved state that is damaged or of another shape counts as none: it is
    derived data, folded again. Lines longer than ``max_line_bytes`` are left out, as ingest
    leaves them out (the setting ``max_indexed_line_bytes``): one digest, however folded, and
    no reader holds such a line in memory."""
    digest, start = _saved_digest(conn, record)
    digest.copied = _copied_from_others(conn, record.session_uuid)
    missing = record.committed - start
    if catch_up is not None and missing > catch_up:
        return None
    if missing:
        fold_lines(digest, _archived_lines(conn, record, start, max_line_bytes))
    return digest, missing


def _copied_from_others(conn: sqlite3.Connection, session_uuid: str
                        ) -> Callable[[Record], bool]:
    """Whether a record's entry is filed under another session than ``session_uuid``: its
    line was copied from there (entries are deduplicated on the record's uuid, so the copy's
    entry is the first archived one's). Asked only of a record that changed a file, so what
    it needs is imported then."""

    def copied(record: Record) -> bool:
        if not isinstance(record.uuid, str) or not record.uuid:
            return False  # no uuid: its entry's key is its line's hash, never shared
        from ..store.entries import owner_of_key
        from .index import entry_key

        owner = owner_of_key(conn, entry_key(record, b""))
        return owner is not None and owner[0] != session_uuid
    return copied


def _archived_lines(conn: sqlite3.Connection, record: files.FileRecord, start: int,
                    max_line_bytes: int) -> Iterator[bytes]:
    """The complete lines archived from ``start``, split as ingest splits them."""
    from ..store.frames import read
    from .lines import LineSplitter

    splitter, offset = LineSplitter(start, max_line_bytes), start
    for chunk in read(conn, record, start, record.committed):
        for _, line in splitter.feed(offset, chunk):
            yield line
        offset += len(chunk)


def _saved_digest(conn: sqlite3.Connection, record: files.FileRecord) -> tuple[Digest, int]:
    """The saved digest of ``record`` and the offset it was folded to, else a new one at 0."""
    sidechain = record.kind == "subagent"
    if record.committed == 0:  # nothing archived yet (a new file, a new generation)
        return Digest(record.session_uuid, sidechain), 0
    try:
        row = digests.load(conn, record.file_id)
        if row is not None and row.generation == record.generation \
                and 0 < row.offset <= record.committed:
            state = loads(row.state)
            return Digest.from_state(record.session_uuid, state, sidechain), row.offset
    except (CorruptBlobError, ValueError, RecursionError):
        pass
    return Digest(record.session_uuid, sidechain), 0


def save_digest(conn: sqlite3.Connection, record: files.FileRecord, digest: Digest) -> None:
    """Keep ``digest`` as the state of ``record`` at its committed offset, and what it folded
    since it was last saved (file changes, errors fixed) in ``store.recall``'s tables."""
    digests.save(conn, record.file_id, record.generation, record.committed,
                 dumps(digest.to_state()).encode())
    if digest.new_changes:
        recall.save_changes(conn, record.session_id, record.file_id, digest.new_changes)
        digest.new_changes = []
    if digest.new_fixes:
        recall.save_fixes(conn, record.session_id, digest.new_fixes)
        digest.new_fixes = []


def refresh_digests(db: Database, max_line_bytes: int) -> tuple[int, list[str]]:
    """Bring every session transcript's saved digest up to its archived bytes (after an
    upgrade from an archive without digests, or a save whose digest failed); returns how many
    were brought up to date and what kept the others from it (damaged frames, say: a digest
    is derived data, never a reason to fail the command). One transaction per file: a hook
    waits for one at most. A lock held past the busy timeout stops it (``BusyError``): the
    rest is not damaged, only not done yet."""
    done, problems = 0, []
    for file_id in digests.behind(db.conn):
        try:
            with db.write() as conn:
                record = files.by_id(conn, file_id)
                if record is None or record.kind not in DIGESTED_KINDS:
                    continue
                found = digest_of(conn, record, max_line_bytes=max_line_bytes)
                if found is not None:
                    save_digest(conn, record, found[0])
                    done += 1
        except BusyError:
            raise
        except SessionCoreError as exc:
            problems.append(f"the digest of file {file_id} was not rebuilt: {exc.message}")
        except Exception as exc:  # derived data never fails the command
            problems.append(f"the digest of file {file_id} was not rebuilt: {exc!r}")
    return done, problems
