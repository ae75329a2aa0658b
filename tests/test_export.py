"""``export`` to read: markdown, json and html (one self-contained page per session, or a site
of them all), redacted unless asked not to, and jsonl still the original bytes.

HTML pages are opened in a real headless Chromium (``tests/browser.py``): what a person sees,
and every request the page makes (there must be none)."""

from __future__ import annotations

import base64
import html
import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from session_core.cli.json_document import FORMAT, VERSION
from session_core.handoff.redact import redact
from session_core.store.summary import SessionSummary
from session_core.transcript.extract import main_argument

from .browser import render
from .conftest import REPO, SHARED, corpus_transcripts, imported_corpus, run_cli
from .session_builder import LongSession, Transcript

TRANSCRIPTS = corpus_transcripts()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_corpus(tmp_path_factory, "export project")


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _typed(record: dict[str, Any]) -> str | None:
    """The text of a prompt the user typed, read straight from the record (no project code)."""
    if record.get("type") != "user" or record.get("isMeta") or record.get("isCompactSummary"):
        return None
    content = (record.get("message") or {}).get("content")
    if isinstance(content, list):
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return None
        content = " ".join(b.get("text", "") for b in content
                           if isinstance(b, dict) and b.get("type") == "text")
    if not isinstance(content, str) or not content.strip() or content.lstrip().startswith(
            ("<", "Caveat:", "[Request interrupted")):
        return None
    return content


class Session:
    """What a session's own transcript says, as a test expects to see it on its page."""

    def __init__(self, path: Path) -> None:
        records = _records(path)
        self.path = path
        self.uuid = next(r["sessionId"] for r in records if isinstance(r.get("sessionId"), str))
        self.prompt = next((p for p in map(_typed, records) if p), None)
        self.tool: tuple[str, str] | None = None
        for record in records:
            if record.get("type") != "assistant" or self.tool:
                continue
            for block in (record.get("message") or {}).get("content") or []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    said = " ".join(redact(main_argument(block.get("input"))).split())
                    if 0 < len(said) <= 200:
                        self.tool = (block["name"], said)
                        break


MAIN_FILES = [Session(p) for p in TRANSCRIPTS
              if "subagents" not in p.parts and not _records(p)[0].get("isSidechain")]


class _Summaries(HTMLParser):
    """The summary line of each tool call: what shows while the call is folded."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._depth = 0
        self._tool_next = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "details":
            self._tool_next = "tool" in classes
        elif tag == "summary" and self._tool_next:
            self._depth, self._tool_next = 1, False
            self.found.append("")
        elif self._depth:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.found[-1] += data


def tool_summaries(dom: str) -> list[str]:
    parser = _Summaries()
    parser.feed(dom)
    return [" ".join(text.split()) for text in parser.found]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("session", MAIN_FILES, ids=lambda s: s.path.name)
def test_every_shared_transcript_exports_as_a_page_that_asks_the_network_nothing(
        corpus: Path, session: Session, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    done = run_cli("export", session.uuid, "--format", "html", "-o", str(page),
                   "--project", str(corpus))
    assert done.returncode == 0, done.stderr
    shown = render(page, tmp_path / "page.png")
    assert shown.requests == []
    assert shown.screenshot.stat().st_size > 1000
    assert session.uuid in shown.text
    if session.prompt:
        assert _flat(redact(session.prompt))[:80] in shown.text
    if session.tool:
        name, said = session.tool
        summary = tool_summaries(shown.dom)[0]
        assert summary.startswith(name) and (said[-25:] in summary or said[:25] in summary), \
            (summary, said)


def test_the_corpus_has_prompts_and_tool_calls_to_check() -> None:
    """The test above checks a prompt and a tool call where a transcript has them: most do."""
    assert len(MAIN_FILES) >= 8
    assert sum(1 for s in MAIN_FILES if s.prompt and s.tool) >= 6


def _listed(project: Path) -> list[dict[str, Any]]:
    done = run_cli("list", "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr
    listed: list[dict[str, Any]] = json.loads(done.stdout)
    return listed


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def test_the_static_site_indexes_every_session_with_a_working_link(
        corpus: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = run_cli("export", "--all", "--format", "html", "-o", str(site),
                   "--project", str(corpus))
    assert done.returncode == 0, done.stderr
    listed = _listed(corpus)
    shown = render(site / "index.html", tmp_path / "index.png")
    assert shown.requests == [] and shown.screenshot.stat().st_size > 1000
    links = _Links()
    links.feed(shown.dom)
    assert sorted(links.links) == sorted(f"sessions/{s['uuid']}.html" for s in listed)
    assert all((site / link).is_file() for link in links.links)
    for session in listed:
        assert session["uuid"] in shown.text
        if session["title"]:
            assert _flat(session["title"])[:40] in shown.text
    page = (site / "sessions" / f"{listed[0]['uuid']}.html").read_text()
    assert 'href="../index.html"' in page
    phone = render(site / "sessions" / f"{listed[0]['uuid']}.html", tmp_path / "phone.png",
                   width=390, height=844)
    assert phone.requests == []
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "sessions"]


def test_a_site_exported_again_keeps_no_page_of_a_session_gone(corpus: Path,
                                                                tmp_path: Path) -> None:
    """A forgotten session's page (perhaps exported --no-redact) must not outlive it; a file
    of the user's in the folder stays."""
    site = tmp_path / "site"
    (site / "sessions").mkdir(parents=True)
    gone = site / "sessions" / "99999999-8888-4777-8666-555555555555.html"
    gone.write_text("<p>the leaked key</p>")
    mine = site / "sessions" / "notes.html"
    mine.write_text("mine")
    done = run_cli("export", "--all", "-o", str(site), "--project", str(corpus))
    assert done.returncode == 0, done.stderr
    assert not gone.exists() and mine.read_text() == "mine"
    assert len(list((site / "sessions").glob("*-*-*-*-*.html"))) == len(_listed(corpus))


def test_the_site_refuses_what_it_cannot_do_well(corpus: Path, tmp_path: Path) -> None:
    def export(*args: str) -> int:
        return run_cli("export", *args, "--project", str(corpus)).returncode

    assert export("--all", "--format", "markdown", "-o", str(tmp_path / "x")) == 2
    assert export("--all", "--format", "html") == 2
    assert export("--all", "8463c716", "--format", "html", "-o", str(tmp_path / "x")) == 2
    assert export("--format", "html") == 2
    assert export() == 2
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    assert export("--all", "--format", "html", "-o", str(a_file)) == 7
    assert a_file.read_text() == "mine"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    assert export("--all", "--format", "html", "-o", str(tmp_path / "link")) == 7
    assert list(elsewhere.iterdir()) == []
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    (tmp_path / "page.html").symlink_to(target)
    assert export("8463c716", "--format", "html", "-o", str(tmp_path / "page.html")) == 7
    assert target.read_text() == "keep"
    assert not (tmp_path / "x").exists()


# Twenty secrets of the kinds the redaction knows, each where a session really has them.
SECRETS: dict[str, str] = {
    "anthropic": "sk-ant-api03-Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2Vb4Nm6Qp",
    "openai": "sk-proj-Jq7Lm2Np9Rs4Tv6Wx8Yz1Ab3Cd5Ef7Gh9Ij2Kl4",
    "github": "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sX9",
    "github_pat": "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOPQRSTuv",
    "gitlab": "glpat-Xy7Zq2Wv9Ut4Sr6Qp8On",
    "slack": "xoxb-2048576192-4096138527-Kq8Lp3Mn7Rt2Vx9Zb4Wc6Yd",
    "stripe": "sk_live_51HqT8aK2mN4pR6sV8xZ0bC3dF",
    "aws_key_id": "AKIAQ3EGRTZ7VX2M5KDN",
    "google": "AIzaSyD9x8Kq2Lm4Np6Rs8Tv0Wx2Yz4Ab6Cd8Ef",
    "npm": "npm_Ab3Cd5Ef7Gh9Ij2Kl4Mn6Op8Qr0St2Uv4Wx",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dQw4w9WgXcQ_kP3r8Tz5Lm2Nv7",
    "pem": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "url_password": "S3cr3tPassw0rdForDb",
    "bearer": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",
    "db_password": "hunter2horse",
    "api_token": "tok_live_4f8a9b2c7d1e",
    "secret_key": "django-insecure-9x8w7v6u",
    "random": "Qm9vZ3lUb2tlbjEyMzQ1Njc4OTBhYmNkZWZnaGlq",
    "password_field": "CorrectHorse9Battery",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
SECRET_SESSION = "5ec2e700-1111-4222-8333-444455556666"


def secret_files(folder: Path) -> list[Path]:
    s = SECRETS
    main = Transcript(SECRET_SESSION)
    sub = Transcript(SECRET_SESSION, "5ec0001")
    main.prompt(f"Deploy with my key {s['anthropic']} and the OpenAI one {s['openai']}")
    main.prompt([{"type": "text", "text": f"push with {s['github']} (or {s['github_pat']})"}])
    main.think(f"The user pasted a Stripe key {s['stripe']}; I must not repeat it.")
    main.say(f"Your GitLab token {s['gitlab']} and Slack bot token {s['slack']} are set.")
    main.say(f"I see AWS key id {s['aws_key_id']} in the config.")
    main.call("Bash", {"command": f'curl "https://maps.googleapis.com/api?key={s["google"]}"'
                       f" -H 'Authorization: Bearer {s['jwt']}'"}, "ok")
    main.call("Write", {"file_path": "/work/app/.npmrc",
                        "content": f"//registry.npmjs.org/:_authToken={s['npm']}\n"},
              "File created")
    main.call("Write", {"file_path": "/work/app/key.pem", "content":
                        "-----BEGIN PRIVATE KEY-----\n" + s["pem"] + "\nAbCdEfGhIjKlMnOpQrStUvWx"
                        "Yz0123456789abcdefghijklmnop\n-----END PRIVATE KEY-----\n"}, "written")
    main.call("mcp__db__login", {"user": "admin", "password": s["password_field"]}, "logged in")
    main.call("Bash", {"command": "cat .env"},
              f"DATABASE_URL=postgres://admin:{s['url_password']}@db.example.com:5432/app\n"
              f"DB_PASSWORD={s['db_password']}\nexport API_TOKEN={s['api_token']}\n"
              f'SECRET_KEY: "{s["secret_key"]}"\n'
              f"aws_secret_access_key = {s['aws_secret']}")
    sub.prompt("Check the API")
    sub.call("Bash", {"command": "curl -v https://api.example.com"},
             f"> Authorization: Bearer {s['bearer']}\n< the body held {s['random']} ok")
    sub.say("The API answers.")
    task = main.call("Task", {"description": "check", "prompt": "Check the API"}, "answers",
                     tool_use_result={"agentId": "5ec0001", "status": "completed"})
    assert task
    return [main.write(folder / f"{SECRET_SESSION}.jsonl"),
            sub.write(folder / SECRET_SESSION / "subagents" / "agent-5ec0001.jsonl")]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [k, *_strings(v)]]
    if isinstance(value, list):
        return [t for item in value for t in _strings(item)]
    return []


def _readable(fmt: str, data: bytes) -> str:
    """Everything a reader of the export can get at: JSON decoded, HTML unescaped."""
    text = data.decode()
    if fmt == "json":
        return text + "\n".join(_strings(json.loads(text)))
    if fmt == "html":
        return text + html.unescape(text)
    return text


@pytest.fixture(scope="module")
def secret_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    files = secret_files(tmp_path_factory.mktemp("secret transcripts"))
    project = tmp_path_factory.mktemp("secret project")
    done = run_cli("import", *map(str, files), "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project, files


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_exports_hold_no_secret_unless_asked_and_then_every_one(
        secret_project: tuple[Path, list[Path]], fmt: str) -> None:
    project, _ = secret_project
    redacted = run_cli("export", SECRET_SESSION, "--format", fmt, "--thinking",
                       "--project", str(project))
    assert redacted.returncode == 0, redacted.stderr
    said = _readable(fmt, redacted.stdout)
    assert [name for name, value in SECRETS.items() if value in said] == []
    assert said.count("[redacted:") >= len(SECRETS)
    assert "Check the API" in said and "GitLab token" in said  # the words around them stay
    raw = run_cli("export", SECRET_SESSION, "--format", fmt, "--no-redact", "--thinking",
                  "--project", str(project))
    assert raw.returncode == 0, raw.stderr
    kept = _readable(fmt, raw.stdout)
    assert [name for name, value in SECRETS.items() if value not in kept] == []


def test_show_holds_no_secret_and_jsonl_is_the_original_bytes(
        secret_project: tuple[Path, list[Path]], tmp_path: Path) -> None:
    project, files = secret_project
    shown = run_cli("show", SECRET_SESSION, "--project", str(project)).stdout.decode()
    assert "Deploy with my key" in shown
    assert [name for name, value in SECRETS.items() if value in shown] == []
    exported = run_cli("export", SECRET_SESSION, "--format", "jsonl", "--project", str(project))
    assert exported.returncode == 0 and exported.stdout == files[0].read_bytes()
    target = tmp_path / "out.jsonl"
    assert run_cli("export", SECRET_SESSION, "-o", str(target), "--no-redact",
                   "--project", str(project)).returncode == 0
    assert target.read_bytes() == files[0].read_bytes()


def test_thinking_is_left_out_unless_asked_for(
        secret_project: tuple[Path, list[Path]]) -> None:
    project, _ = secret_project

    def kinds(*args: str) -> list[str]:
        done = run_cli("export", SECRET_SESSION, "--format", "json", *args,
                       "--project", str(project))
        return [m["kind"] for m in json.loads(done.stdout)["messages"]]

    assert "thinking" not in kinds() and kinds("--thinking").count("thinking") == 1
    for fmt in ("markdown", "html"):
        out = run_cli("export", SECRET_SESSION, "--format", fmt, "--project", str(project))
        assert b"must not repeat it" not in out.stdout


@pytest.fixture(scope="module")
def long_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    paths = LongSession().write(tmp_path_factory.mktemp("long transcripts"))
    project = tmp_path_factory.mktemp("long project")
    assert run_cli("import", *map(str, paths), "--project", str(project)).returncode == 0
    return project


MESSAGE_KEYS = {"kind", "uuid", "parent_uuid", "timestamp", "model", "is_error", "text",
                "images", "tool"}
TOOL_KEYS = {"id", "name", "summary", "input", "result", "runs"}
RESULT_KEYS = {"text", "is_error", "timestamp", "uuid", "images"}
RUN_KEYS = {"agent_id", "file", "compaction", "call_id", "messages"}
TOP_KEYS = {"format", "version", "exported_at", "redacted", "thinking", "session", "messages",
            "unlinked_runs"}


def _check_message(message: dict[str, Any]) -> None:
    assert set(message) == MESSAGE_KEYS
    tool = message["tool"]
    assert (tool is not None) == (message["kind"] == "tool")
    if tool is not None:
        assert set(tool) == TOOL_KEYS
        assert tool["result"] is None or set(tool["result"]) == RESULT_KEYS
        for run in tool["runs"]:
            assert set(run) == RUN_KEYS and run["call_id"] == tool["id"]
            for inner in run["messages"]:
                _check_message(inner)


def test_json_export_has_the_documented_shape(long_project: Path) -> None:
    done = run_cli("export", LongSession.SESSION, "--format", "json",
                   "--project", str(long_project))
    document = json.loads(done.stdout)
    assert set(document) == TOP_KEYS
    assert (document["format"], document["version"]) == (FORMAT, VERSION) == (
        "session-core/conversation", 1)
    assert set(document["session"]) == set(SessionSummary.__slots__)
    assert document["session"]["uuid"] == LongSession.SESSION and document["redacted"] is True
    messages = document["messages"]
    for message in messages:
        _check_message(message)
    prompts = [m["text"] for m in messages if m["kind"] == "prompt"]
    assert prompts == [f"Prompt number {n}: please do step {n}" for n in range(1, 126)]
    tools = [m["tool"] for m in messages if m["kind"] == "tool"]
    assert len(tools) == 376 and sum(t["result"]["is_error"] for t in tools) == 37
    [task] = [t for t in tools if t["name"] == "Task"]
    [run] = task["runs"]
    assert run["agent_id"] == LongSession.AGENT and run["file"].endswith("agent-a1b2c3d.jsonl")
    assert [m["kind"] for m in run["messages"]] == ["prompt", "reply", "tool", "reply"]
    assert task["result"]["text"] == "Task report: the test races the writer."
    [stray] = document["unlinked_runs"]
    assert stray["agent_id"] == LongSession.STRAY and stray["call_id"] is None
    assert messages[1]["parent_uuid"] == messages[0]["uuid"]


def test_the_readme_documents_every_json_field() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### export --format json", 1)[1].split("\n## ", 1)[0]
    for key in MESSAGE_KEYS | TOOL_KEYS | RESULT_KEYS | RUN_KEYS | TOP_KEYS:
        assert f"`{key}`" in section, key


def test_markdown_reads_as_the_conversation_in_order(long_project: Path) -> None:
    done = run_cli("export", LongSession.SESSION, "--format", "markdown",
                   "--project", str(long_project))
    text = done.stdout.decode()
    at = -1
    for turn in range(1, 126):
        for said in (f"\n## Turn {turn} · ", f"\n> Prompt number {turn}: please do step {turn}",
                     f"\nReply {turn}a: starting step {turn}.", f"`run-step {turn} 1`",
                     f"turn {turn} call 3 output line 6", f"\nReply {turn}b: step {turn} done."):
            found = text.find(said, at + 1)
            assert found > at, (turn, said)
            at = found
    call = text.index("**Task** `Find the flaky test`")
    run = text.index("> **subagent a1b2c3d: 4 message(s)**", call)
    inside = text.index("> Subagent finding: the test sleeps 0.1 s", run)
    result = text.index("Task report: the test races the writer.", inside)
    assert call < run < inside < result < text.index("Reply 60b")
    assert text.index("## Subagent runs no tool call started") > text.index("Reply 125b")


def _png() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00\xff\x00\x00"  # one red pixel
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


HOSTILE = '</script><script>alert(1)</script><img src=x onerror="alert(2)"><style>*{}</style>'


def test_html_escapes_everything_and_shows_images_inline(tmp_path: Path) -> None:
    session = "40571e00-1111-4222-8333-444455556666"
    main = Transcript(session)
    main.prompt([{"type": "text", "text": f"Look at this {HOSTILE}"},
                 {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml",
                                              "data": base64.b64encode(b"<svg/>").decode()}}])
    main.say(f"It says {HOSTILE} ```")
    main.call("Read", {"file_path": f"/tmp/{HOSTILE}.png"},
              [{"type": "text", "text": HOSTILE},
               {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                            "data": _png()}}])
    path = main.write(tmp_path / f"{session}.jsonl")
    project = tmp_path / "project"
    project.mkdir()
    assert run_cli("import", str(path), "--project", str(project)).returncode == 0
    page = tmp_path / "page.html"
    assert run_cli("export", session, "--format", "html", "-o", str(page),
                   "--project", str(project)).returncode == 0
    text = page.read_text()
    assert "<script" not in text and "<img src=x" not in text and text.count("<style>") == 1
    assert text.count('<meta http-equiv="Content-Security-Policy" content="default-src'
                      " 'none'; img-src data:; style-src 'unsafe-inline'\">") == 1
    assert '<meta name="viewport"' in text
    images = re.findall(r'<img src="([^"]*)"', text)
    assert images == [f"data:image/png;base64,{_png()}"]  # the SVG is not shown as an image
    shown = render(page, tmp_path / "page.png")
    assert shown.requests == [] and shown.text.count("alert(1)") >= 4
    assert "</script><script>alert(1)</script>" in shown.text
    markdown = run_cli("export", session, "--format", "markdown", "--project",
                       str(project)).stdout.decode()
    assert "> Look at this &lt;/script>&lt;script>" in markdown
    assert "](data:image/png;base64," in markdown and "`image/svg+xml` not shown" in markdown


def test_a_readable_export_to_a_file_is_private_and_complete(
        long_project: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "session.md"
    target.parent.mkdir()
    done = run_cli("export", LongSession.SESSION, "--format", "markdown", "-o", str(target),
                   "--project", str(long_project))
    assert done.returncode == 0 and done.stdout == b""
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text().endswith("Stray run ready.\n")
    assert [p.name for p in target.parent.iterdir()] == ["session.md"]  # no temporary left


def test_the_real_subagent_is_quoted_under_its_call_in_markdown(corpus: Path) -> None:
    text = run_cli("export", "ae4a77f8", "--format", "markdown",
                   "--project", str(corpus)).stdout.decode()
    call = text.index("**Task** `Check OTEL hex package versions`")
    assert text.index("> **subagent aac57f5:", call) < text.index("Result · ", call)
    assert SHARED.is_dir()
