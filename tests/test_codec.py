"""The codec loads zstandard's C backend without the package's ``__init__`` (hooks would pay
for it on every event); that is only safe for the versions pyproject.toml pins, and only if a
later ``import zstandard`` in the same process still gets a whole, working package."""

from __future__ import annotations

import re
import subprocess
import sys

import zstandard

from .conftest import REPO


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


def test_hooks_load_only_the_backend_and_a_later_import_gets_the_whole_package() -> None:
    done = run(
        "import sys\n"
        "from session_core.store import codec\n"
        "assert 'zstandard' not in sys.modules, 'the package __init__ ran'\n"
        "frame = codec.compress(b'hello ' * 100, 3)\n"
        "import zstandard\n"
        "assert zstandard.backend == 'cext' and hasattr(zstandard, 'backend_c')\n"
        "assert zstandard.ZstdError is codec._zstd.ZstdError\n"
        "assert zstandard.ZstdDecompressor().decompress(frame) == b'hello ' * 100\n"
        "other = zstandard.ZstdCompressor(write_checksum=True).compress(b'x' * 50)\n"
        "assert codec.decompress(other, 50) == b'x' * 50\n"
        "print('ok')\n")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_installed_zstandard_is_one_the_pin_allows() -> None:
    """A zstandard outside the pin may lay its backend out differently: the codec falls back to
    the plain import then, but the pin is what the direct load was checked against."""
    requirement = re.search(r'"(zstandard[^"]*)"', (REPO / "pyproject.toml").read_text())
    assert requirement is not None
    low, high = re.findall(r"(\d+)\.(\d+)", requirement.group(1))
    version = tuple(int(part) for part in zstandard.__version__.split(".")[:2])
    assert tuple(map(int, low)) <= version < tuple(map(int, high)), (zstandard.__version__,
                                                                     requirement.group(1))


def test_a_damaged_frame_is_an_error_never_other_bytes() -> None:
    done = run(
        "from session_core.store import codec\n"
        "from session_core.base.errors import CorruptBlobError\n"
        "frame = bytearray(codec.compress(b'the archived line\\n' * 50, 3))\n"
        "frame[len(frame) // 2] ^= 0x01\n"
        "try:\n"
        "    codec.decompress(bytes(frame), 18 * 50)\n"
        "except CorruptBlobError:\n"
        "    print('refused')\n")
    assert done.stdout.strip() == "refused", done.stderr


def test_a_frame_whose_checksum_flag_was_cleared_is_an_error() -> None:
    """zstd accepts a frame that says it has no checksum, and then any damage to its body:
    every frame we write has one, so one without is damage (search relies on it)."""
    done = run(
        "from session_core.store import codec\n"
        "from session_core.base.errors import CorruptBlobError\n"
        "data = b'the archived line\\n' * 50\n"
        "frame = bytearray(codec.compress(data, 3))\n"
        "frame[4] &= ~0x04  # the frame header's content-checksum flag\n"
        "try:\n"
        "    codec.decompress(bytes(frame[:-4]), len(data))\n"
        "except CorruptBlobError:\n"
        "    print('refused')\n")
    assert done.stdout.strip() == "refused", done.stderr
