"""Secrets out of what leaves the archive: ``[redacted:<kind>]`` in place of each value.

The archive itself stays byte-exact; what is handed to a new session (and, later, what is shown
or exported as text) goes through :func:`redact` first. Known formats come first (provider keys
and tokens, PEM blocks, JWTs, credentials in URLs, ``Authorization:`` headers, ``*_KEY=`` and the
like), then a fallback for long random-looking tokens. Deterministic, no network.

``re`` is imported when a text is redacted, not with the module: only the handoff needs it, and
a SessionStart in a git project has it loaded already (``subprocess`` brings it).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?"
                    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    ("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)
_URL_CREDENTIALS = r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:)(?P<value>[^\s@/]+)(?=@)"
_AUTH_HEADER = (r"(?P<head>\b(?:Proxy-)?Authorization\s*[:=]\s*[\"']?"
                r"(?:Bearer|Basic|Token|Bot|Digest)?\s*)(?P<value>[^\s\"',;]+)")
# The name before the keyword is bounded: unbounded, a long run of word characters was scanned
# again from each of its positions (a 100 KB base64 blob took 10 s).
_ASSIGNMENT = (r"(?P<head>\b[A-Za-z0-9_.\-]{0,64}"
               r"(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?)"
               r"[A-Za-z0-9_]{0,64}[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s\"',;}]{4,})")
_CANDIDATE = r"[A-Za-z0-9+/_\-]{32,}={0,2}"
ENTROPY_BITS = 4.2
"""Per character, over a token of 32+: random base64/base62 is ~5.5-6, English words ~3.5-4,
hex (commit hashes, which stay) at most 4."""

_compiled: list[tuple[str, re.Pattern[str]]] | None = None


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    global _compiled
    if _compiled is None:
        import re

        _compiled = [(kind, re.compile(pattern)) for kind, pattern in _PATTERNS]
        _compiled += [("password", re.compile(_URL_CREDENTIALS)),
                      ("authorization", re.compile(_AUTH_HEADER, re.IGNORECASE)),
                      ("secret", re.compile(_ASSIGNMENT, re.IGNORECASE)),
                      ("high-entropy", re.compile(_CANDIDATE))]
    return _compiled


def _entropy(token: str) -> float:
    counts: dict[str, int] = {}
    for char in token:
        counts[char] = counts.get(char, 0) + 1
    from math import log2  # only for a token that may be a secret: the recall hooks skip it

    return -sum(n / len(token) * log2(n / len(token)) for n in counts.values())


def _path_like(token: str) -> bool:
    """``/tmp/claude-0/-tmp-proj/<uuid>/tasks/a2fc…``: a path, to be judged by its parts, not
    as one random-looking run. It starts with ``/`` and has two parts that are plain lower-case
    words; a random key with ``/`` in it (base64) almost never does both."""
    if not token.startswith("/"):
        return False
    words = [part for part in token.split("/") if len(part) >= 3 and part.islower()
             and part.replace("-", "").replace("_", "").isalnum()
             and sum(char.isalpha() for char in part) >= 3]
    return len(words) >= 2


def _random_looking(token: str) -> bool:
    if _path_like(token):
        return any(len(part) >= LONG_WORD and _random_looking(part)
                   for part in token.split("/"))
    body = token.rstrip("=")
    if all(char in "0123456789abcdefABCDEF-" for char in body):
        return False  # hashes and UUIDs: wanted in a handoff, and not secrets
    if not any(char.isdigit() for char in body) or not any(char.isalpha() for char in body):
        return False
    return _entropy(body) >= ENTROPY_BITS


_RUN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")


def _random_run(text: str) -> bool:
    """Whether ``text`` holds a run of 32+ characters of the high-entropy pattern that looks
    random: found with a loop, so that paths and ids (long, but not random) cost no regular
    expression, and no import of ``re``, on the hook path."""
    run: list[str] = []
    for char in text + " ":
        if char in _RUN_CHARS:
            run.append(char)
            continue
        if len(run) >= LONG_WORD and _random_looking("".join(run)):
            return True
        run.clear()
    return False


_MARKERS = ("sk-", "sk_", "rk_", "pk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
            "glpat-", "xox", "akia", "asia", "aiza", "npm_", "eyj", "-----begin", "://",
            "authorization", "key", "token", "secret", "passw", "pwd", "credential")
"""Lower-case text every known format contains: a text with none of them and no word of 32+
characters holds no secret, and costs no regular expression (most handoff sections)."""
LONG_WORD = 32


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[redacted:<kind>]``; terminal colour
    codes are taken out first (one inside a secret, as ``grep --color`` prints it, would hide
    it from every pattern)."""
    if not text:
        return text
    if "\x1b" in text:
        from ..transcript.outcomes import strip_ansi

        text = strip_ansi(text)
    lowered = text.lower()
    known = any(marker in lowered for marker in _MARKERS)
    long_words = any(len(word) >= LONG_WORD for word in text.split()) and _random_run(text)
    if not known and not long_words:
        return text
    for kind, pattern in _patterns():
        if kind == "high-entropy" and not long_words:
            continue
        if kind != "high-entropy" and not known:
            continue
        text = pattern.sub(_replacer(kind, pattern), text)
    return text


def _replacer(kind: str, pattern: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    mark = f"[redacted:{kind}]"
    if kind == "high-entropy":
        def maybe(match: re.Match[str]) -> str:
            return mark if _random_looking(match.group(0)) else match.group(0)
        return maybe
    if "value" in pattern.groupindex:
        def value_only(match: re.Match[str]) -> str:
            value = match.group("value")
            return match.group("head") + (value if value.startswith("[redacted:") else mark)
        return value_only

    def whole(match: re.Match[str]) -> str:
        return mark
    return whole
