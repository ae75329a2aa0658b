"""Our files on disk: private folders and files, and the one way we replace a file.

Transcripts hold code, paths and sometimes secrets, so every folder we make is 0700 and every
file 0600, set explicitly (never left to the umask). A file is never written in place: readers
(the status line, Claude Code reading its settings, a user's ``export -o``) must never see half
of one, so it is written beside its name and renamed over it.
"""

from __future__ import annotations

import os

from .jsonlite import loads

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from types import TracebackType
    from typing import BinaryIO, TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

NEW_FILE_MODE = 0o644
"""A file of the user's that we create (a settings file): readable, writable by its owner only."""


OWNER_ONLY_WRITES = 0o022
"""The umask bits the CLI and the installer add: what they create (the venv, the hook scripts,
the command's link) is writable by its owner only, even for a user whose umask is 000."""
PRIVATE = 0o077
"""The umask bits the hooks add: everything they create is the user's alone."""


def restrict_umask(bits: int) -> None:
    """Add ``bits`` to the process's umask (never loosen it): files created by anything we run,
    SQLite's ``-wal``/``-shm`` and pip's files included, get no more than that allows."""
    os.umask(os.umask(0) | bits)


def file_identity(path: StrPath) -> tuple[int, int] | None:
    """What says "the same file" across renames: (device, inode); None if there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def claim(path: StrPath, stale_seconds: float) -> bool:
    """Take a lock file (``O_EXCL``): True if this process now holds it. One left by a process
    that died (older than ``stale_seconds``) is taken over. Release it with :func:`release`."""
    import time

    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            try:
                if time.time() - os.stat(path).st_mtime < stale_seconds:
                    return False
                os.unlink(path)
            except OSError:
                return False
        except OSError:
            return False
    return False


def release(path: StrPath) -> None:
    try:  # noqa: SIM105 - contextlib is kept off the hook path
        os.unlink(path)
    except OSError:
        pass


def ensure_private_dir(path: StrPath) -> str:
    """Create ``path`` (and parents) and make the leaf 0700. An empty path (the folder of a bare
    file name) is the current directory."""
    folder = os.fspath(path) or os.curdir
    os.makedirs(folder, exist_ok=True)
    if os.stat(folder).st_mode & 0o777 != 0o700:
        os.chmod(folder, 0o700)
    return folder


def make_private_file(path: StrPath) -> None:
    """Best effort 0600 on a file we own (database, its -wal/-shm, backups, logs)."""
    try:
        if os.stat(path).st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
    except OSError:
        pass


def temp_path(final: StrPath) -> str:
    """Where a file is written before it takes its name: beside it (same file system), hidden,
    and per process, so two writers never share one."""
    folder, name = os.path.split(os.fspath(final))
    return os.path.join(folder, f".{name}.{os.getpid()}.tmp")


def fsync_dir(folder: StrPath) -> None:
    """Make a rename in ``folder`` durable (the entry is in the directory, not only the data)."""
    fd = os.open(os.fspath(folder) or os.curdir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp: StrPath, final: StrPath, *, durable: bool = False,
            exclusive: bool = False) -> None:
    """Give the finished ``temp`` its name. ``durable``: data and name survive a power cut
    (backups, restores). ``exclusive``: never replace a file that is there (a restore must not
    clobber a transcript Claude Code wrote meanwhile): ``FileExistsError`` instead."""
    temp, final = os.fspath(temp), os.fspath(final)
    try:
        if durable:
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if exclusive:
            os.link(temp, final)
        else:
            os.replace(temp, final)
    finally:
        if os.path.lexists(temp):  # linked (exclusive), or the rename failed
            os.unlink(temp)
    if durable:
        fsync_dir(os.path.dirname(final))


class AtomicFile:
    """``with AtomicFile(path) as out: out.write(...)``: the file appears under its name only
    when the block succeeds; on any error the temporary file goes and the old one stays.

    ``mode``: the file's permissions, set explicitly; None keeps those of the file replaced (a
    user's settings file), else :data:`NEW_FILE_MODE`. ``through_links``: a symlink (settings
    kept in a dotfiles repository) stays a symlink and the file it names is replaced.
    """

    def __init__(self, path: StrPath, *, mode: int | None = 0o600, durable: bool = False,
                 exclusive: bool = False, through_links: bool = False) -> None:
        self.path = os.path.realpath(path) if through_links else os.fspath(path)
        self.durable, self.exclusive = durable, exclusive
        if mode is None:
            try:
                mode = os.stat(self.path).st_mode & 0o777
            except FileNotFoundError:
                mode = NEW_FILE_MODE
        self.mode = mode
        self.temp = temp_path(self.path)
        self._file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        try:
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:  # a missing or read-only folder: name the file asked for
            raise OSError(exc.errno, exc.strerror, self.path) from None
        os.fchmod(fd, self.mode)
        self._file = os.fdopen(fd, "wb")
        return self._file

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        assert self._file is not None
        try:
            if kind is None:
                self._file.flush()
                if self.durable:
                    os.fsync(self._file.fileno())
            self._file.close()
            if kind is None:
                publish(self.temp, self.path, durable=self.durable, exclusive=self.exclusive)
        finally:
            if os.path.lexists(self.temp):
                os.unlink(self.temp)


def write_atomic(path: StrPath, data: bytes, *, mode: int | None = 0o600,
                 durable: bool = False, through_links: bool = False) -> None:
    """Replace ``path`` with ``data`` all at once (see :class:`AtomicFile`)."""
    with AtomicFile(path, mode=mode, durable=durable, through_links=through_links) as out:
        out.write(data)


def read_json_object(path: StrPath) -> dict[str, object]:
    """A small state file as a dict; missing, unreadable or not an object reads as empty."""
    try:
        with open(path, "rb") as handle:
            data = loads(handle.read())
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def remove_files_named(folder: StrPath, pattern: str) -> bool:
    """Delete the files (not folders) of ``folder`` whose whole name matches ``pattern``, a
    regular expression, then the folder if that empties it; True if the folder is gone. For
    folders that may hold a user's own files beside ours: theirs stay, and so does the folder.
    """
    import re  # only the CLI cleans up: re stays off the hook path

    ours = re.compile(pattern)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return True
    for name in names:
        path = os.path.join(folder, name)
        if ours.fullmatch(name) and (os.path.islink(path) or not os.path.isdir(path)):
            os.unlink(path)
    try:
        os.rmdir(folder)
    except OSError:
        return False
    return True


def sqlite_uri(path: str) -> str:
    """``path`` as a ``file:`` URI for SQLite (``?`` and ``#`` would end it, ``%`` escape)."""
    return "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
