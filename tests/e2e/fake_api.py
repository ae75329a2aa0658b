"""A local stand-in for the Anthropic Messages API, so the real Claude Code client can be tested.

The server answers the main conversation from a *script* of replies, in order, and records every
request it gets. Claude Code also sends other requests to the same endpoint: session-title
generation (interactive), compaction summaries, subagents' own loops, and (on other setups) quota
probes with max_tokens 1. Those are told apart (see `classify`) and never consume the main
script, so a test's script only describes the conversation it cares about.

Stdlib only: the e2e tests must not need anything the project does not already install.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "FakeAnthropic",
    "RecordedRequest",
    "Reply",
    "classify",
    "default_side_reply",
    "is_main_request",
    "text",
    "tool_use",
    "tool_uses",
]

# Markers checked against 2.1.330. Subagents' system prompt starts with a billing line that
# carries this flag; compaction reuses the main system prompt and tools but ends with this ask.
SUBAGENT_MARKER = "cc_is_subagent=true"
COMPACT_MARKERS = ("create a detailed summary of the conversation", "<summary>")


@dataclass(frozen=True)
class Reply:
    """One scripted assistant message: content blocks plus the stop reason that goes with them."""

    blocks: tuple[dict[str, Any], ...]
    stop_reason: str = "end_turn"

    def content(self) -> list[dict[str, Any]]:
        """Content blocks as the API returns them; tool_use ids are made fresh per call."""
        out: list[dict[str, Any]] = []
        for block in self.blocks:
            b = dict(block)
            if b["type"] == "tool_use" and not b.get("id"):
                b["id"] = "toolu_" + uuid.uuid4().hex[:24]
            out.append(b)
        return out


def text(value: str) -> Reply:
    """A plain text answer that ends the turn."""
    return Reply(({"type": "text", "text": value},), "end_turn")


def tool_use(name: str, input: Mapping[str, Any], *, id: str | None = None) -> Reply:
    """A single tool call; Claude Code runs it and sends the result in the next main request."""
    return tool_uses([(name, input)], ids=[id] if id else None)


def tool_uses(
    calls: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    preamble: str | None = None,
    ids: list[str] | None = None,
) -> Reply:
    """Several tool calls in one assistant message (run as one batch), with optional text first."""
    blocks: list[dict[str, Any]] = []
    if preamble:
        blocks.append({"type": "text", "text": preamble})
    for i, (name, inp) in enumerate(calls):
        block_id = ids[i] if ids and i < len(ids) else ""
        blocks.append({"type": "tool_use", "id": block_id, "name": name, "input": dict(inp)})
    if not any(b["type"] == "tool_use" for b in blocks):
        raise ValueError("tool_uses needs at least one call")
    return Reply(tuple(blocks), "tool_use")


@dataclass
class RecordedRequest:
    """What the client sent, plus how the fake classified and answered it."""

    seq: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    kind: str  # "main", "subagent", "compact", "side", "count_tokens", "other"
    reply_index: int | None = None  # index into its script (main or subagent), None if none used
    response: dict[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the optional JSONL log."""
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "kind": self.kind,
            "reply_index": self.reply_index,
            "response": self.response,
        }


def _system_text(body: Mapping[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return ""


def _last_user_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages") or []
    if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "user":
        return ""
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def classify(body: Any) -> str:
    """Which kind of /v1/messages request this is: main, subagent, compact or side.

    Observed on 2.1.330: the main loop (and `-p`) always sends a non-empty `tools` list; a
    subagent does too but flags `cc_is_subagent=true` in its first system block; compaction sends
    the main prompt and tools with a summary request as the last user message; side requests
    (session-title generation, probes with max_tokens 1) send `tools: []` or none.
    """
    if not isinstance(body, dict):
        return "side"
    if not body.get("tools") or int(body.get("max_tokens") or 0) <= 1:
        return "side"
    if SUBAGENT_MARKER in _system_text(body):
        return "subagent"
    last = _last_user_text(body)
    if all(marker in last for marker in COMPACT_MARKERS):
        return "compact"
    return "main"


def is_main_request(body: Any) -> bool:
    """True for a request of the main agent loop, the only kind that consumes the script."""
    return classify(body) == "main"


def _fill_schema(schema: Any, key: str = "") -> Any:
    """A minimal instance of a JSON schema, for side requests that ask for structured output."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _fill_schema(v, k) for k, v in props.items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return f"Fake {key}".strip() if key else "fake"


def default_side_reply(body: Mapping[str, Any], plain: str = "OK") -> Reply:
    """What side requests get: JSON that fits a requested schema (e.g. the title), else `plain`."""
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and "schema" in fmt:
        return text(json.dumps(_fill_schema(fmt["schema"])))
    return text(plain)


def _estimate_tokens(body: Any) -> int:
    """A rough input-token count (4 chars a token), so usage numbers look plausible."""
    try:
        return max(1, len(json.dumps(body)) // 4)
    except (TypeError, ValueError):
        return 1


def _sse(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class FakeAnthropic:
    """A threaded local Messages API answering main requests from ``script``.

    Use as a context manager; ``url`` is what ANTHROPIC_BASE_URL must be set to. Replies are
    `Reply` objects or plain strings (text). Subagent requests take ``subagent_script`` (their
    own queue), compaction gets ``compact_summary`` wrapped in the tags Claude Code wants, and
    side requests get ``side_reply`` (a string, or a function of the request body). A main or
    subagent request that arrives after its script ran out gets ``exhausted_reply`` and is
    counted in ``exhausted``, so a test can assert the client asked no more than was scripted.
    """

    def __init__(
        self,
        script: Iterable[Reply | str] = (),
        *,
        subagent_script: Iterable[Reply | str] = (),
        compact_summary: str = "The user and the assistant exchanged a few test messages.",
        side_reply: str | Callable[[dict[str, Any]], Reply] = "OK",
        exhausted_reply: str = "(fake API: script exhausted)",
        log_path: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.script: list[Reply] = [_as_reply(r) for r in script]
        self.subagent_script: list[Reply] = [_as_reply(r) for r in subagent_script]
        self.compact_summary = compact_summary
        self.log_path = Path(log_path) if log_path else None
        self.side_reply = side_reply
        self.exhausted_reply = exhausted_reply
        self.requests: list[RecordedRequest] = []
        self.exhausted = 0
        self.errors: list[str] = []
        self._next = {"main": 0, "subagent": 0}
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for ANTHROPIC_BASE_URL (no trailing slash, no /v1)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeAnthropic:
        """Start serving in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-anthropic", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- script ------------------------------------------------------------------------------
    def extend(self, replies: Iterable[Reply | str]) -> None:
        """Append main replies (e.g. for a resumed session run against the same server)."""
        with self._lock:
            self.script.extend(_as_reply(r) for r in replies)

    @property
    def remaining(self) -> int:
        """Main replies not yet used."""
        with self._lock:
            return len(self.script) - self._next["main"]

    # -- inspection --------------------------------------------------------------------------
    def main_requests(self) -> list[dict[str, Any]]:
        """Bodies of the main-conversation requests, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.kind == "main"]

    def requests_of(self, kind: str) -> list[RecordedRequest]:
        """Recorded requests of one kind (main, subagent, compact, side, count_tokens, other)."""
        with self._lock:
            return [r for r in self.requests if r.kind == kind]

    def side_requests(self) -> list[dict[str, Any]]:
        """Bodies of the side requests (titles, probes, helpers), in order."""
        return [r.body for r in self.requests_of("side")]

    def messages_requests(self) -> list[RecordedRequest]:
        """Every recorded POST to /v1/messages, whatever its kind."""
        with self._lock:
            return [r for r in self.requests if r.kind in _MESSAGE_KINDS]

    # -- internals ---------------------------------------------------------------------------
    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec.to_json()) + "\n")

    def _reply_for(self, kind: str, body: dict[str, Any]) -> tuple[Reply, int | None]:
        if kind == "compact":
            return text(
                f"<analysis>fake</analysis>\n<summary>{self.compact_summary}</summary>"
            ), None
        if kind == "side":
            if callable(self.side_reply):
                return self.side_reply(body), None
            return default_side_reply(body, self.side_reply), None
        with self._lock:
            script = self.script if kind == "main" else self.subagent_script
            idx = self._next[kind]
            if idx < len(script):
                self._next[kind] += 1
                return script[idx], idx
            self.exhausted += 1
            return text(self.exhausted_reply), None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "FakeAnthropic/1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest output stays readable; requests are recorded instead."""

            def _read_body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    return self.rfile.read(length)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                return b""

            def _send(self, status: int, payload: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("request-id", "req_fake_" + uuid.uuid4().hex[:16])
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _send_json(self, status: int, obj: Any) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json")

            def do_HEAD(self) -> None:
                fake._record(self._rec("other", None))
                self._send(200 if self.path.split("?")[0] in ("/", "") else 404, b"", "text/plain")

            def do_GET(self) -> None:
                fake._record(self._rec("other", None))
                if self.path.split("?")[0] in ("/", ""):
                    self._send_json(200, {"ok": True})
                else:
                    self._send_json(404, _error("not_found_error", "not found"))

            def _rec(self, kind: str, body: Any) -> RecordedRequest:
                return RecordedRequest(
                    seq=next(fake._seq),
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    kind=kind,
                )

            def do_POST(self) -> None:
                raw = self._read_body()
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                route = self.path.split("?")[0].rstrip("/")
                try:
                    if route == "/v1/messages":
                        self._messages(body)
                    elif route == "/v1/messages/count_tokens":
                        rec = self._rec("count_tokens", body)
                        rec.response = {"input_tokens": _estimate_tokens(body)}
                        fake._record(rec)
                        self._send_json(200, rec.response)
                    else:
                        fake._record(self._rec("other", body))
                        self._send_json(404, _error("not_found_error", f"no route {route}"))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                except Exception as exc:  # keep serving; the test sees it in fake.errors
                    fake.errors.append(f"{type(exc).__name__}: {exc}")
                    raise

            def _messages(self, body: Any) -> None:
                if not isinstance(body, dict):
                    fake._record(self._rec("other", body))
                    self._send_json(400, _error("invalid_request_error", "body is not JSON"))
                    return
                rec = self._rec(classify(body), body)
                reply, rec.reply_index = fake._reply_for(rec.kind, body)
                message = _message(reply, body)
                rec.response = message
                fake._record(rec)
                if body.get("stream"):
                    self._send(200, _sse_stream(message), "text/event-stream")
                else:
                    self._send_json(200, message)

        return Handler


_MESSAGE_KINDS = ("main", "subagent", "compact", "side")


def _as_reply(value: Reply | str) -> Reply:
    return text(value) if isinstance(value, str) else value


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _message(reply: Reply, body: Mapping[str, Any]) -> dict[str, Any]:
    content = reply.content()
    out_tokens = max(1, len(json.dumps(content)) // 4)
    return {
        "id": "msg_fake_" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "claude-fake",
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": _estimate_tokens(body.get("messages")),
            "output_tokens": out_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _sse_events(message: Mapping[str, Any]) -> Iterator[bytes]:
    usage = message["usage"]
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = dict(usage, output_tokens=1)
    yield _sse("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield _sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            yield _sse("ping", {"type": "ping"})
            txt = block["text"]
            for piece in (txt[: len(txt) // 2], txt[len(txt) // 2 :]):
                if piece:
                    yield _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": piece},
                        },
                    )
        else:
            yield _sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                },
            )
            js = json.dumps(block["input"])
            for piece in (js[: len(js) // 2], js[len(js) // 2 :]):
                yield _sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def _sse_stream(message: Mapping[str, Any]) -> bytes:
    """The whole SSE body; sent with a Content-Length so keep-alive connections stay usable."""
    return b"".join(_sse_events(message))
