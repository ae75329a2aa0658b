"""What a session was doing, folded deterministically from its records (no model calls).

The handoff needs things the index does not keep: the text of the first and last prompts and of
the last reply, files the tools changed, commands, the latest state of task lists, errors. It is
a fold over the session's own transcript, record by record, and folding in pieces gives what
folding at once does; so ingest folds each batch of records it parses, in the same pass that
indexes them, and the store keeps the state (``store.digests``). A reader that finds the saved
state behind the archived bytes folds the lines in between (:func:`fold_lines`).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict, deque

from ..base.errors import BusyError, CorruptBlobError, SessionCoreError
from ..base.jsonlite import dumps, loads
from ..base.text import clip
from ..store import digests, files
from .records import Record, RecordError, is_message, is_tool_use_result, parse_record

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

    from ..store.connection import Database
    from .extract import Extracted

EDIT_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}
DONE_STATES = frozenset({"completed", "deleted", "cancelled"})
_MESSAGE_MARKERS = (b'"type":"user"', b'"type":"assistant"', b'"type":"system"',
                    b'"type": "user"', b'"type": "assistant"', b'"type": "system"')
ERROR_CHARS = 200
"""An error is kept as one line of at most this many characters."""
_KEEP_COMMANDS = 12
_KEEP_ERRORS = 5
_KEEP_REPLIES = 3
_FOLDED_TYPES = frozenset({"user", "assistant", "system"})
_KEEP_TOOL_NAMES = 500
"""Tool-use ids remembered across a saved digest: a result follows its call within the turn."""


class Task:
    __slots__ = ("status", "subject")

    def __init__(self, subject: str, status: str = "pending") -> None:
        self.subject, self.status = subject, status


class Digest:
    """Plain class, not a dataclass: SessionStart builds it, and ``dataclasses`` is kept off the
    hook path (bench/README.md, the import ledger)."""

    def __init__(self, session_uuid: str) -> None:
        self.session_uuid = session_uuid
        self.first_prompt: str | None = None
        self.last_prompt: str | None = None
        self.prompts = 0
        self.replies: deque[tuple[str | None, str]] = deque(maxlen=_KEEP_REPLIES)
        """(time, text) of the last assistant text messages, oldest first."""
        self.changed_files: OrderedDict[str, None] = OrderedDict()
        self.commands: deque[str] = deque(maxlen=_KEEP_COMMANDS)
        self.tasks: OrderedDict[str, Task] = OrderedDict()
        self.errors: deque[str] = deque(maxlen=_KEEP_ERRORS)
        self.git_branch: str | None = None
        self.cwd: str | None = None
        self.last_ts: str | None = None
        self._task_creates: dict[str, str] = {}
        self._tool_names: dict[str, str] = {}

    @property
    def last_reply(self) -> str | None:
        return self.replies[-1][1] if self.replies else None

    def pending_tasks(self) -> list[Task]:
        return [task for task in self.tasks.values() if task.status not in DONE_STATES]

    def to_state(self) -> dict[str, Any]:
        """Everything folding more lines needs, as JSON values (kept in ``store.digests``)."""
        return {
            "first_prompt": self.first_prompt, "last_prompt": self.last_prompt,
            "prompts": self.prompts, "replies": [list(reply) for reply in self.replies],
            "changed_files": list(self.changed_files), "commands": list(self.commands),
            "tasks": [[key, task.subject, task.status] for key, task in self.tasks.items()],
            "errors": list(self.errors), "git_branch": self.git_branch, "cwd": self.cwd,
            "last_ts": self.last_ts, "task_creates": self._task_creates,
            "tool_names": list(self._tool_names.items())[-_KEEP_TOOL_NAMES:],
        }

    @classmethod
    def from_state(cls, session_uuid: str, state: dict[str, Any]) -> Digest:
        """The inverse of :meth:`to_state`; ``ValueError`` for anything of the wrong shape."""
        try:
            digest = cls(session_uuid)
            digest.first_prompt = _text_or_none(state["first_prompt"])
            digest.last_prompt = _text_or_none(state["last_prompt"])
            digest.prompts = state["prompts"] if type(state["prompts"]) is int else _bad()
            digest.replies.extend((_text_or_none(when), _text(text))
                                  for when, text in _rows(state["replies"], 2))
            digest.changed_files.update((_text(path), None) for path in state["changed_files"])
            digest.commands.extend(_text(command) for command in state["commands"])
            digest.tasks.update((_text(key), Task(_text(subject), _text(status)))
                                for key, subject, status in _rows(state["tasks"], 3))
            digest.errors.extend(_text(error) for error in state["errors"])
            digest.git_branch = _text_or_none(state["git_branch"])
            digest.cwd = _text_or_none(state["cwd"])
            digest.last_ts = _text_or_none(state["last_ts"])
            digest._task_creates = {_text(k): _text(v) for k, v in state["task_creates"].items()}
            digest._tool_names = {_text(k): _text(v) for k, v in _rows(state["tool_names"], 2)}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a saved digest: {exc}") from None
        return digest


def _text_or_none(value: object) -> str | None:
    return None if value is None else _text(value)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, found {type(value).__name__}")


def _rows(value: object, width: int) -> list[list[object]]:
    """A list of lists of exactly ``width`` items (what ``to_state`` writes for pairs)."""
    if isinstance(value, list) and all(isinstance(row, list) and len(row) == width
                                       for row in value):
        return value
    raise ValueError(f"expected rows of {width}")


def _bad() -> int:
    raise ValueError("expected an integer")


def could_hold_message(record: Record, line: bytes) -> bool:
    """Whether a parsed line takes part in the fold: a message record, or another whose line
    holds a message marker (an attachment quoting one: its branch, folder and time count)."""
    return record.type in _FOLDED_TYPES or any(marker in line for marker in _MESSAGE_MARKERS)


def digest_lines(session_uuid: str, lines: Iterable[bytes]) -> Digest:
    """Fold a session's transcript lines into a :class:`Digest`; bad lines are skipped."""
    return fold_lines(Digest(session_uuid), lines)


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
            fold(digest, record, extract(record, 0))
    return digest


def fold(digest: Digest, record: Record, info: Extracted | None) -> None:
    """Fold one record that :func:`could_hold_message`; ``info`` is what ``extract`` made of it
    (any text limit: only its kind and prompt are read here)."""
    if record.sessionId not in (None, digest.session_uuid) or record.isSidechain is True:
        return
    if isinstance(record.gitBranch, str) and record.gitBranch:
        digest.git_branch = record.gitBranch
    if isinstance(record.cwd, str) and record.cwd:
        digest.cwd = record.cwd
    if isinstance(record.timestamp, str):
        digest.last_ts = record.timestamp
    if info is None:
        return
    if record.type == "system":
        if info.kind == "api_error" or record.level == "error":
            text = record.content if isinstance(record.content, str) else ""
            digest.errors.append(f"API error: {_one_line(text) or info.kind}")
        return
    message = record.message
    if not is_message(message):
        return
    content = message.content
    blocks = content if isinstance(content, list) else ()
    if record.type == "user":
        if info.prompt is not None:
            digest.prompts += 1
            digest.first_prompt = digest.first_prompt or info.prompt
            digest.last_prompt = info.prompt
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                _tool_result(digest, block, record.toolUseResult)
        return
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            said = block.get("text")
            if isinstance(said, str) and (said := said.strip()):
                digest.replies.append((record.timestamp if isinstance(record.timestamp, str)
                                       else None, said))
        elif kind == "tool_use":
            _tool_use(digest, block)


def _tool_use(digest: Digest, block: dict[str, Any]) -> None:
    name, tool_input, use_id = block.get("name"), block.get("input"), block.get("id")
    if not isinstance(name, str) or not isinstance(tool_input, dict):
        return
    if isinstance(use_id, str):
        digest._tool_names[use_id] = name
    path_key = EDIT_TOOLS.get(name)
    if path_key and isinstance(tool_input.get(path_key), str):
        path = tool_input[path_key]
        digest.changed_files.pop(path, None)
        digest.changed_files[path] = None  # most recently changed last
    elif name == "Bash" and isinstance(tool_input.get("command"), str):
        digest.commands.append(tool_input["command"])
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


def _tool_result(digest: Digest, block: dict[str, Any], result: Any) -> None:
    use_id = block.get("tool_use_id")
    name = digest._tool_names.get(use_id) if isinstance(use_id, str) else None
    if block.get("is_error") is True:
        text = _one_line(_content_text(block.get("content")))
        digest.errors.append(f"{name or 'tool'}: {text}" if text else f"{name or 'tool'} failed")
        return
    if not is_tool_use_result(result):
        return
    if name == "TaskCreate" and isinstance(use_id, str) and isinstance(result.task, dict):
        task_id = result.task.get("id")
        subject = digest._task_creates.pop(use_id, None) or result.task.get("subject")
        if task_id is not None and isinstance(subject, str):
            digest.tasks[str(task_id)] = Task(subject)
    elif name == "TaskList" and isinstance(result.tasks, list):
        digest.tasks = OrderedDict(
            (str(item.get("id")), Task(str(item.get("subject")), str(item.get("status"))))
            for item in result.tasks if isinstance(item, dict) and item.get("id") is not None)


def _one_line(text: str) -> str:
    return clip(text, ERROR_CHARS, flatten=True, ellipsis=True)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


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
    missing = record.committed - start
    if catch_up is not None and missing > catch_up:
        return None
    if missing:
        fold_lines(digest, _archived_lines(conn, record, start, max_line_bytes))
    return digest, missing


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
    if record.committed == 0:  # nothing archived yet (a new file, a new generation)
        return Digest(record.session_uuid), 0
    try:
        row = digests.load(conn, record.file_id)
        if row is not None and row.generation == record.generation \
                and 0 < row.offset <= record.committed:
            return Digest.from_state(record.session_uuid, loads(row.state)), row.offset
    except (CorruptBlobError, ValueError, RecursionError):
        pass
    return Digest(record.session_uuid), 0


def save_digest(conn: sqlite3.Connection, record: files.FileRecord, digest: Digest) -> None:
    """Keep ``digest`` as the state of ``record`` at its committed offset."""
    digests.save(conn, record.file_id, record.generation, record.committed,
                 dumps(digest.to_state()).encode())


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
                if record is None or record.kind != "session":
                    continue
                found = digest_of(conn, record, max_line_bytes=max_line_bytes)
                if found is not None:
                    save_digest(conn, record, found[0])
                    done += 1
        except BusyError:
            raise
        except SessionCoreError as exc:
            problems.append(f"the digest of file {file_id} was not rebuilt: {exc.message}")
    return done, problems
