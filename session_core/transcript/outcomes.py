"""What a tool call's text says happened: commits, pushes, test summaries, files a shell command
created, moved or deleted, the line of an error that names its cause.

Pure functions of strings, written with ``find`` and ``split`` rather than regexes: ingest runs
them in every Stop, and importing ``re`` would cost that hook more than the parsing does
(bench/README.md, the import ledger). Each recognises the common shapes and says nothing
(``None``, an empty list) about anything else: a digest may miss a fact, it must not invent one.
"""

from __future__ import annotations

from ..base.text import clip

CAUSE_CHARS = 200
_HEX = frozenset("0123456789abcdef")
_SEPARATORS = ("&&", "||", ";", "|", "\n")
_READ_ONLY = frozenset({
    "ls", "cat", "head", "tail", "grep", "rg", "egrep", "fgrep", "find", "fd", "pwd", "echo",
    "printf", "wc", "which", "type", "file", "stat", "du", "df", "tree", "less", "more", "jq",
    "diff", "cmp", "sort", "uniq", "cut", "awk", "date", "whoami", "env", "printenv", "true",
    "sleep", "test", "[", "realpath", "basename", "dirname", "readlink", "md5sum", "sha256sum",
    "ps", "uname", "id", "hostname", "nproc", "free", "top", "lsof", "man", "help", "cd",
})
_GIT_READ_ONLY = frozenset({
    "status", "log", "diff", "show", "blame", "rev-parse", "ls-files", "shortlog", "describe",
    "reflog", "grep", "cat-file", "ls-tree", "remote", "config", "branch", "fetch",
})
_STRONG_WORDS = ("error", "exception", "fatal", "panic", "denied", "not found", "no such",
                 "cannot", "can't", "undefined", "refused")
_WEAK_WORDS = ("failed", "failure", "invalid", "unexpected", "missing")
_GENERATED = ("* creating ", "creating ", "create ", "created ", "wrote ", "writing ")


def strip_ansi(text: str) -> str:
    """Terminal colour codes out (test runners colour their summary lines)."""
    if "\x1b" not in text:
        return text
    out, at = [], 0
    while (start := text.find("\x1b", at)) >= 0:
        out.append(text[at:start])
        end = start + 1
        if end < len(text) and text[end] == "[":
            end += 1
            while end < len(text) and not ("@" <= text[end] <= "~"):
                end += 1
        at = end + 1
    out.append(text[at:])
    return "".join(out)


def first_line(text: str) -> str:
    """The first line that says something, colour codes removed, on one line."""
    for raw in strip_ansi(text).splitlines():
        if raw.strip():
            return clip(raw.strip(), CAUSE_CHARS, flatten=True, ellipsis=True)
    return ""


def cause_line(text: str) -> str:
    """The line of an error output that says why: the first line naming an error (a test run
    or a build reports the first cause first; a traceback's is its last line), else the last
    line saying something failed, else the first non-empty line. Claude Code's wrappers
    (``Exit code 1``, ``<tool_use_error>``) are not it."""
    lines = []
    for raw in strip_ansi(text).splitlines():
        line = raw.strip().removeprefix("<tool_use_error>").removesuffix("</tool_use_error>")
        line = line.strip()
        if line and not (line.startswith("Exit code ") and line[10:].strip().isdigit()):
            lines.append(line)
    if not lines:
        return ""
    strong = [line for line in lines if any(w in line.lower() for w in _STRONG_WORDS)
              and not _is_summary(line.lower())]
    if strong:  # a traceback ends with its exception; a test or build names the first cause
        chosen = strong[-1] if any(line.startswith("Traceback") for line in lines) else strong[0]
    else:
        chosen = next((line for line in reversed(lines)
                       if any(w in line.lower() for w in _WEAK_WORDS)), lines[0])
    return clip(chosen, CAUSE_CHARS, flatten=True, ellipsis=True)


def commits(output: str) -> list[tuple[str, str]]:
    """``(hash, subject)`` of each ``[branch 1a2b3c4] subject`` line ``git commit`` prints."""
    found = []
    for raw in output.splitlines():
        line = raw.strip()
        close = line.find("] ")
        if not line.startswith("[") or close < 0:
            continue
        words = line[1:close].split()
        if len(words) >= 2 and 7 <= len(words[-1]) <= 40 and set(words[-1]) <= _HEX:
            found.append((words[-1], line[close + 2:].strip()))
    return found


def git_events(command: str, output: str,
               ok: bool = True) -> list[tuple[str, object, object]]:
    """What git said, in the order it said it: ``("commit", hash, subject)``,
    ``("pushed", ok, None)``, ``("ahead", count, upstream)``, and evidence of a hash a quiet
    commit did not print: ``("logged", hash, subject)`` (a ``git log``/``show`` line),
    ``("tip", hash, branch)`` (where a push moved a local branch to). One command line may
    commit, push and show the status in any order; a ``--dry-run`` push pushed nothing.

    A ``git commit -q`` prints nothing: a command that ran one (``ok``: it exited 0, or it
    failed later, at a push its ``&&`` chain reached) counts as a commit with the message its
    ``-m`` gave and hash ``""`` (unknown) unless its output showed one."""
    lowered = command.lower()
    if "git" not in lowered:
        return []
    events: list[tuple[str, object, object]] = []
    dry = "--dry-run" in lowered or " push -n" in lowered
    lines = output.splitlines()
    logging = "log" in lowered or "show" in lowered
    full_log: str | None = None  # ``git log``'s "commit <hash>" line, waiting for its subject
    for at, raw in enumerate(lines):
        line = raw.strip()
        if "commit" in lowered and line.startswith("["):
            events += [("commit", sha, subject) for sha, subject in commits(line)]
        elif "push" in lowered and not dry and (
                line.startswith(("To ", "Everything up-to-date", "error: failed to push"))
                or "[rejected]" in line):
            result = pushed("\n".join(lines[at:at + 6]))
            if result is not None and (not events or events[-1][:2] != ("pushed", result)):
                events.append(("pushed", result, None))
            tip = _push_tip(lines[at + 1:at + 6]) if result else None
            if tip:
                events.append(("tip", tip[0], tip[1]))
        elif "status" in lowered and (line.startswith(("Your branch is", "## "))):
            found = ahead_of_upstream(line)
            if found is not None:
                events.append(("ahead", found[0], found[1]))
        elif logging and line:
            words = line.split(None, 1)
            if len(words) == 2 and words[0] == "commit" and _is_hash(words[1].split()[0]):
                full_log = words[1].split()[0]
            elif full_log and raw.startswith("    "):
                events.append(("logged", full_log, line))
                full_log = None
            elif len(words) == 2 and _is_hash(words[0]):
                events.append(("logged", words[0], _undecorated(words[1])))
    if "commit" in lowered:
        events = _quiet_commits(command, events, ok)
    return events


def _is_hash(word: str) -> bool:
    return 7 <= len(word) <= 40 and set(word) <= _HEX


def _undecorated(subject: str) -> str:
    """A ``git log --oneline --decorate`` subject without its ``(HEAD -> main, …)``."""
    if subject.startswith("(") and ") " in subject:
        return subject.split(") ", 1)[1].strip()
    return subject.strip()


def _push_tip(lines: list[str]) -> tuple[str, str] | None:
    """The commit a push moved a branch to and that branch: ``   0f0f0f0..1a2b3c4  main ->
    main`` (``+ 0f0f0f0...1a2b3c4 main -> main (forced update)`` too)."""
    for raw in lines:
        words = raw.split()
        if "->" not in words:
            continue
        at = words.index("->")
        span = next((w for w in words[:at] if ".." in w), None)
        if span is None or at < 1:
            return None
        tip = span.replace("...", "..").split("..")[-1]
        return (tip, words[at - 1]) if _is_hash(tip) else None
    return None


def commit_commands(command: str) -> list[tuple[str, bool]]:
    """``(subject, quiet)`` of each ``git commit`` a command line runs (not ``--dry-run``):
    the first line of its first ``-m``/``--message`` (``-qm``, ``-am``, ``-mText``,
    ``--message=Text``; a ``-m "$(cat <<'EOF'`` heredoc's first line), ``""`` when none was
    given (``-F``, an editor); ``quiet``: ``-q``/``--quiet`` keeps git from printing it."""
    found = []
    for words in split_commands(command):
        words = _program(words)
        if not words or words[0].rsplit("/", 1)[-1] != "git":
            continue
        at = 1
        while at < len(words) and words[at].startswith("-"):  # git's own options
            at += 2 if words[at] in ("-C", "-c", "--git-dir", "--work-tree") else 1
        if words[at:at + 1] != ["commit"] or "--dry-run" in words:
            continue
        message: str | None = None
        quiet = False
        args = words[at + 1:]
        for n, word in enumerate(args):
            following = args[n + 1] if n + 1 < len(args) else ""
            if word in ("--quiet",):
                quiet = True
            elif word == "--message":
                message = following if message is None else message
            elif word.startswith("--message="):
                message = word[10:] if message is None else message
            elif word.startswith("-") and not word.startswith("--"):
                flags = word[1:]
                quiet = quiet or "q" in flags.split("m", 1)[0]
                if "m" in flags and message is None:
                    rest = flags.split("m", 1)[1]
                    message = rest or following
        found.append((_subject_of(message or "", command), quiet))
    return found


def _subject_of(message: str, command: str) -> str:
    if message.startswith("$(") and "<<" in command:  # -m "$(cat <<'EOF' ... EOF )"
        body = command[command.index("<<"):].split("\n")[1:]
        message = next((line for line in body if line.strip()), "")
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else ""


def _quiet_commits(command: str, events: list[tuple[str, object, object]],
                   ok: bool) -> list[tuple[str, object, object]]:
    """``events`` with the commits the command ran and did not print, hash unknown: all of
    them when it printed none, else its ``-q`` ones. A failed command's commits count only
    when its output shows a push attempted after them."""
    ran = commit_commands(command)
    shown = sum(1 for event in events if event[0] == "commit")
    if not ran or shown >= len(ran):
        return events
    if not ok and not any(event[0] == "pushed" for event in events):
        return events
    missing = ran if shown == 0 else [one for one in ran if one[1]][:len(ran) - shown]
    added: list[tuple[str, object, object]] = [("commit", "", subject) for subject, _ in missing]
    segments = [words for words in split_commands(command) if "git" in words]
    first_commit = next((n for n, w in enumerate(segments) if "commit" in w), 0)
    before = any("push" in w or "status" in w for w in segments[:first_commit])
    return events + added if before else added + events


def commit_text(sha: str, subject: str, width: int = 10, head: str | None = None) -> str:
    """A commit on one line: its short hash and subject, or the subject and "hash unknown"
    (a ``git commit -q`` nothing later showed the hash of); never an invented hash. ``head``:
    for the session's last commit, the HEAD recorded at its last event (``store.state``),
    given as what it is, evidence, not the commit's hash."""
    if sha:
        return f"{sha[:width]} {subject}"
    unknown = f"hash unknown; HEAD was {head[:width]} when the session last ran" if head \
        else "hash unknown"
    return f"{subject} ({unknown})" if subject else f"a commit (message and {unknown})"


def pushed(output: str) -> bool | None:
    """What ``git push`` printed: True when a ref was updated or all were up to date, False
    when it was rejected, None when this is not push output."""
    lowered = output.lower()
    if "[rejected]" in lowered or "failed to push" in lowered:
        return False
    if "everything up-to-date" in lowered:
        return True
    for line in output.splitlines():
        words = line.split()
        if "->" in words and (".." in line or "[new branch]" in line or "+" in line):
            return True
    return None


def ahead_of_upstream(output: str) -> tuple[int, str | None] | None:
    """``(commits ahead, upstream)`` from ``git status`` (long or ``-sb``), None if it says
    neither; ``(0, upstream)`` when up to date."""
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("Your branch is up to date with"):
            return 0, _quoted(line)
        if line.startswith("Your branch is ahead of"):
            words = line.split()
            count = words[words.index("by") + 1] if "by" in words[:-1] else ""
            return _count(count), _quoted(line)
        if line.startswith("## ") and "..." in line:
            upstream = line[line.index("...") + 3:].split(" ")[0]
            at = line.find("[ahead ")
            if at < 0:
                return 0, upstream
            count = line[at + 7:].split("]")[0].split(",")[0]
            return _count(count), upstream
    return None


def _count(text: str) -> int:
    """A count git printed; 1 for anything else (``"²".isdigit()`` holds, ``int`` refuses it)."""
    return int(text) if text.isascii() and text.isdigit() else 1


def _quoted(line: str) -> str | None:
    start = line.find("'")
    end = line.find("'", start + 1)
    return line[start + 1:end] if 0 <= start < end else None


_SUMMARY_TAIL = 20_000
"""Runners print their summary last: only the output's end is read."""
_SUMMARY_WORDS = ("pass", "PASS", "fail", "FAIL", "Fail", "ok", "test", "Test", "example",
                  "Ran ")


def test_summary(output: str, command: str = "") -> str | None:
    """The last summary line of a test run (pytest, unittest, jest, vitest, go, cargo, mix,
    rspec, mocha), colour codes removed. A bare ``ok``/``PASS``/``FAIL`` line counts only when
    the command runs tests (anything may print "OK")."""
    tail = output[-_SUMMARY_TAIL:]
    bare_ok = "test" in command.lower()
    if not any(word in tail for word in _SUMMARY_WORDS):
        return None
    lines = [line.strip(" =\t") for line in strip_ansi(tail).splitlines()]
    for at in range(len(lines) - 1, -1, -1):
        line = lines[at]
        if _is_summary(line.lower(), bare_ok):
            if line.startswith("Ran ") and at + 2 < len(lines) and lines[at + 2]:
                line = f"{line}: {lines[at + 2]}"  # unittest: "Ran 5 tests in 0.1s" / "" / "OK"
            return clip(line, CAUSE_CHARS, flatten=True, ellipsis=True)
    return None


_LINE_WORDS = ("pass", "fail", "test", "example", "ran ", "ok  ")


def _is_summary(line: str, bare_ok: bool = False) -> bool:
    if line in ("ok", "pass", "fail"):  # go test's own last line
        return bare_ok
    if not any(word in line for word in _LINE_WORDS) or not any(ch.isdigit() for ch in line):
        return False
    return (line.startswith("test result:")  # cargo
            or (line.startswith("tests:") and "total" in line)  # jest
            or (line.startswith("tests ") and ("passed" in line or "failed" in line))  # vitest
            or ((" passed" in line or " failed" in line) and " in " in line)  # pytest
            or (("tests," in line or "test," in line) and "failure" in line)  # mix, minitest
            or ("examples," in line and "failure" in line)  # rspec
            or (line.startswith("ran ") and " test" in line)  # unittest
            or line.startswith(("ok  ", "fail\t", "--- fail"))  # go
            or (" passing" in line and "(" in line))  # mocha


_SPECIAL = frozenset(" \t'\"&|;\n")
_COMMAND_CHARS = 4000
"""Only a command's beginning is split: what it runs and touches is there, and a heredoc's
commit message can be long."""


def split_commands(command: str) -> list[list[str]]:
    """A shell command line as the words of each simple command (``&&``, ``||``, ``;``, ``|``
    and newlines separate them), quotes removed; good enough to see what ran, not a shell.
    Plain text is copied in slices between special characters: this runs on every command
    a Stop archives."""
    text = command[:_COMMAND_CHARS]
    heredoc = text.find("<<")
    if heredoc >= 0:  # a heredoc's body is data (a script, a commit message), not commands
        text = text[:heredoc]
    segments: list[list[str]] = []
    words: list[str] = []
    word: list[str] = []
    at, end = 0, len(text)
    while at < end:
        ch = text[at]
        if ch not in _SPECIAL:
            stop = at + 1
            while stop < end and text[stop] not in _SPECIAL:
                stop += 1
            word.append(text[at:stop])
            at = stop
            continue
        if ch in "'\"":
            close = text.find(ch, at + 1)
            close = end if close < 0 else close
            word.append(text[at + 1:close])  # an empty quoted word is still a word
            at = close + 1
            continue
        _end_word(word, words)
        if ch in " \t":
            at += 1
            continue
        if words:
            segments.append(words)
        words = []
        at += 2 if text.startswith(("&&", "||"), at) else 1
    _end_word(word, words)
    if words:
        segments.append(words)
    return segments


def _end_word(word: list[str], words: list[str]) -> None:
    if word:
        words.append("".join(word))
        word.clear()


def _program(words: list[str]) -> list[str]:
    """The words from the program on: leading ``VAR=value`` assignments and wrappers dropped."""
    at = 0
    while at < len(words) and (("=" in words[at] and not words[at].startswith("-"))
                               or words[at] in ("sudo", "time", "env", "command", "exec")):
        at += 1
    return words[at:]


def command_key(command: str) -> str:
    """What a command runs, for telling "the same command succeeded later": the first simple
    command that is not a ``cd``, as its program and subcommand (``mix test``, ``git push``,
    ``python -m pytest``, ``pytest``), arguments dropped."""
    for words in split_commands(command):
        words = _program(words)
        if words and words[0] != "cd":
            return _key_of(words)
    return command.strip()[:60]


def _key_of(words: list[str]) -> str:
    key = [words[0].rsplit("/", 1)[-1]]
    rest = [w for w in words[1:] if not w.startswith("-")]
    if key[0].startswith("python") and "-m" in words and words.index("-m") + 1 < len(words):
        return f"python -m {words[words.index('-m') + 1]}"
    if rest and rest[0].replace("-", "").replace(".", "").isalpha() \
            and "/" not in rest[0] and "." not in rest[0]:
        key.append(rest[0])
        if key[0] in ("npm", "yarn", "pnpm", "bun", "uv", "poetry") and rest[0] == "run" \
                and len(rest) > 1:
            key.append(rest[1])
    return " ".join(key)


def command_targets(command: str) -> list[str]:
    """What each simple command of a line runs and on what: its program and subcommand
    (:func:`command_key`) and the file name of its first positional argument (``python3
    tool.py``, ``git add session_live.ex``, ``git add`` for ``git add -A``). A failure counts as
    fixed when one of a later success's targets is its target: the same program on something
    else (``python3 --version`` after ``python3 -c 'import yaml'``) fixes nothing."""
    targets = []
    for words in split_commands(command):
        words = _program(words)
        if not words or words[0] == "cd":
            continue
        key = _key_of(words)
        rest = [w for w in words[1:] if not w.startswith("-")]
        if key.startswith("python -m "):
            rest = rest[1:]
        rest = rest[len(key.split()) - 1:]
        name = rest[0].rstrip("/").rsplit("/", 1)[-1] if rest else ""
        targets.append(f"{key} {name}"[:200] if name else key)
    return targets or [command.strip()[:60]]


def changes_state(command: str) -> bool:
    """Whether a command may change something: anything but reading, listing and looking."""
    for words in split_commands(command):
        words = _program(words)
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        if program == "git":
            sub = next((w for w in words[1:] if not w.startswith("-")), "")
            if sub in _GIT_READ_ONLY and not (sub == "branch" and any(
                    w in ("-d", "-D", "-m", "-M") for w in words)):
                continue
            return True
        if program == "sed" and "-i" not in words:
            continue
        if program not in _READ_ONLY:
            return True
    return False


def file_changes(command: str, output: str) -> list[tuple[str, str, str | None]]:
    """``(action, path, moved_to)`` for what a successful command created, moved or deleted:
    ``rm``, ``mv``, ``git rm``/``git mv``, ``cp`` (the copy is created), ``touch``, and
    generators that print ``* creating path`` / ``create path`` lines. Paths as written."""
    changes: list[tuple[str, str, str | None]] = []
    base = ""  # where a leading ``cd`` moved to: later relative paths are inside it
    for words in split_commands(command):
        words = _program(words)
        if words[:1] == ["cd"] and len(words) == 2:
            base = words[1] if words[1].startswith("/") else _join(base, words[1])
            continue
        before = len(changes)
        if words[:1] == ["git"] and len(words) > 1 and words[1] in ("rm", "mv"):
            if "--cached" in words:
                continue  # out of the index, still on disk
            words = words[1:]
        args = [w for w in words[1:] if not w.startswith("-")]
        program = words[0].rsplit("/", 1)[-1] if words else ""
        if program == "rm":
            changes.extend(("deleted", path, None) for path in args)
        elif program == "mv" and len(args) == 2:
            target = args[1]
            if target.endswith("/") or target in (".", ".."):  # into a folder
                target = target.rstrip("/") + "/" + args[0].rstrip("/").rsplit("/", 1)[-1]
            changes.append(("moved", args[0], target))
        elif program == "cp" and len(args) == 2:
            changes.append(("created", args[1], None))
        elif program == "touch":
            changes.extend(("created", path, None) for path in args)
        if base:
            changes[before:] = [(action, _join(base, path), moved and _join(base, moved))
                                for action, path, moved in changes[before:]]
    for raw in strip_ansi(output).splitlines()[:200]:
        line = raw.strip()
        lowered = line.lower()
        for prefix in _GENERATED:
            if lowered.startswith(prefix):
                path = line[len(prefix):].strip().split(" ")[0]
                if "/" in path and "." in path.rsplit("/", 1)[-1] and not path.endswith("/"):
                    changes.append(("created", path, None))
                break
    return changes


def _join(base: str, path: str) -> str:
    if not base or path.startswith("/"):
        return path
    return base.rstrip("/") + "/" + path


def error_signature(cause: str) -> str:
    """An error line with what differs between two runs of the same failure left out (paths,
    numbers, hashes; case): the key under which a fix is remembered and looked up."""
    words = []
    for word in strip_ansi(cause).lower().split():
        core = word.strip(".,:;()[]'\"`")
        if "/" in word or "\\" in word:
            words.append("<path>")
        elif len(core) >= 7 and set(core) <= _HEX:
            words.append("#")
        elif any(ch.isdigit() for ch in word):
            kept: list[str] = []
            for ch in word:
                if not (ch.isdigit() and kept and kept[-1] == "#"):
                    kept.append("#" if ch.isdigit() else ch)
            words.append("".join(kept))
        else:
            words.append(word)
    return " ".join(words)[:200]
