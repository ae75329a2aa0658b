"""Pages rendered by a real headless Chromium (Debian package ``chromium``), as a person would
see them: a screenshot, the text of the page after its scripts ran, and every network request
the page tried to make.

Requests are caught by pointing Chromium's proxy at a local socket that only counts connections
(and answers none): a ``file://`` page is read without the proxy, anything else it asks for
(``http``, ``https``, websockets, even loopback) reaches the socket and is counted.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    """The browser's path; the test command installs it (apt ``chromium``)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("headless Chromium is missing: apt-get install chromium")


_QUIET = ("NetworkTimeServiceQuerying", "OptimizationHints", "MediaRouter",
          "DialMediaRouteProvider", "Translate", "AutofillServerCommunication",
          "CertificateTransparencyComponentUpdater", "InterestFeedContentSuggestions",
          "CalculateNativeWinOcclusion", "SafeBrowsing", "GCM", "PushMessaging")
"""Chromium's own background traffic (time, update, hints): off where a switch turns it off."""
BACKGROUND_HOSTS = frozenset({
    "update.googleapis.com", "accounts.google.com", "clients2.google.com",
    "clientservices.googleapis.com", "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com", "redirector.gvt1.com", "edgedl.me.gvt1.com"})
"""Hosts only Chromium itself calls (its updater and sign-in, which no switch silences in
this build): their connections are not the page's. Any other host is."""


def request_host(request: bytes) -> str:
    """The host a proxied request was for (``CONNECT host:443`` or ``GET http://host/...``)."""
    words = request.split(b"\r\n", 1)[0].split()
    if len(words) < 2:
        return ""
    target = words[1].decode("latin-1")
    if "://" in target:
        target = target.split("://", 1)[1].split("/", 1)[0]
    return target.rsplit(":", 1)[0] if target.count(":") == 1 else target


class _Counter:
    """A listening socket that records each connection attempt and closes it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(5)
            try:
                request = conn.recv(4096)
            except OSError:  # opened and never used within 5 s: still counted
                request = b"(a connection that sent nothing)"
            finally:
                conn.close()
            if request:  # b"": closed unused, a preconnect Chromium makes to its proxy
                self.requests.append(request)

    def close(self) -> None:
        self.sock.close()


class _Text(HTMLParser):
    """The text a reader sees: no script, style or template bodies."""

    HIDDEN = frozenset({"script", "style", "template", "head", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


class Rendered:
    __slots__ = ("dom", "requests", "screenshot", "text")

    def __init__(self, dom: str, text: str, screenshot: Path, requests: list[bytes]) -> None:
        self.dom, self.text, self.screenshot = dom, text, screenshot
        self.requests = requests
        """What the page asked the network for (Chromium's own updater calls left out)."""


def _run(args: list[str], timeout: float = 90) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def render(page: Path, screenshot: Path, width: int = 1280, height: int = 900) -> Rendered:
    """Load ``page`` from ``file://`` twice (once for its DOM, once for a screenshot of
    ``width`` x ``height``) and report what was requested from the network meanwhile."""
    counter = _Counter()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
              f"--proxy-server=http://127.0.0.1:{counter.port}",
              "--proxy-bypass-list=<-loopback>", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-default-apps",
              "--no-default-browser-check", "--metrics-recording-only", "--no-pings",
              "--no-service-autorun", "--disable-field-trial-config",
              "--disable-client-side-phishing-detection", "--disable-domain-reliability",
              "--disable-features=" + ",".join(_QUIET),
              f"--window-size={width},{height}", "--virtual-time-budget=3000"]
    url = page.resolve().as_uri()
    try:
        dom = _run([*common, "--dump-dom", url])
        _run([*common, f"--screenshot={screenshot}", url])
    finally:
        counter.close()
        shutil.rmtree(profile, ignore_errors=True)
    if not screenshot.is_file() or screenshot.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot of {page}")
    parser = _Text()
    parser.feed(dom)
    text = " ".join(" ".join(parser.parts).split())
    asked = [r for r in counter.requests if request_host(r) not in BACKGROUND_HOSTS]
    return Rendered(dom, text, screenshot, asked)
