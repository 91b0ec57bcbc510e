"""A tiny headless-Chromium driver over the DevTools protocol (for tests and screenshots).

It talks to the browser over ``--remote-debugging-pipe`` (file descriptors 3 and 4, messages
are JSON terminated by a NUL byte), so it needs nothing beyond the standard library and a
Chromium binary (Debian's ``chromium``). Not part of the public API.

Usage::

    with Chromium() as br:
        page = br.open("file:///tmp/out/report.html", width=1200, height=900)
        page.requests, page.console_errors, page.dialogs       # what happened while loading
        page.evaluate("document.title")
        png = page.screenshot(full_page=True)

Command line (writes a screenshot of a report)::

    python -m gait.report._browser report.html shot.png [--width 1200] [--height 0] [--palette]
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (env ``GAIT_CHROMIUM`` first), or None."""
    env = os.environ.get("GAIT_CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


class BrowserError(RuntimeError):
    pass


def _high_fd(fd: int) -> int:
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Chromium:
    """A headless Chromium process driven over the DevTools pipe."""

    def __init__(self, executable: str | None = None, *, timeout_s: float = 30.0) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise BrowserError("no chromium executable found")
        self.timeout_s = timeout_s
        self._tmp = tempfile.TemporaryDirectory(prefix="gait-chromium-")
        to_r, to_w = os.pipe()  # we write, chromium reads on fd 3
        from_r, from_w = os.pipe()  # chromium writes on fd 4, we read
        # the child's ends must not be 3 or 4 themselves before the shell moves them there
        to_r, from_w = (_high_fd(to_r), _high_fd(from_w))
        args = [*FLAGS, f"--user-data-dir={self._tmp.name}", "--remote-debugging-pipe", "about:blank"]
        # a tiny Python trampoline puts the pipe ends on fds 3 and 4, then becomes chromium
        tramp = ("import os,sys;a,b=int(sys.argv[1]),int(sys.argv[2]);os.dup2(a,3);os.dup2(b,4);"
                 "os.close(a);os.close(b);os.execv(sys.argv[3],sys.argv[3:])")
        self._proc = subprocess.Popen(
            [sys.executable, "-c", tramp, str(to_r), str(from_w), exe, *args],
            pass_fds=(to_r, from_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        self._w = os.fdopen(to_w, "wb", buffering=0)
        self._r = os.fdopen(from_r, "rb", buffering=0)
        self._next_id = 0
        self._lock = threading.Lock()
        self._responses: dict[int, queue.Queue] = {}
        self.events: list[dict[str, Any]] = []
        self._event_cv = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": False})

    # -- protocol
    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self._r.read(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw.decode("utf-8"))
                if "id" in msg and msg["id"] in self._responses:
                    self._responses[msg["id"]].put(msg)
                else:
                    with self._event_cv:
                        self.events.append(msg)
                        self._event_cv.notify_all()
                    if msg.get("method") == "Page.javascriptDialogOpening":
                        # record it, then dismiss it so the page does not hang
                        threading.Thread(target=self._dismiss, args=(msg.get("sessionId"),),
                                         daemon=True).start()
        with self._event_cv:
            self._closed = True
            self._event_cv.notify_all()

    def _dismiss(self, session: str | None) -> None:
        try:
            self.send("Page.handleJavaScriptDialog", {"accept": True}, session=session)
        except (BrowserError, OSError):
            pass

    def send(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            q: queue.Queue = queue.Queue()
            self._responses[mid] = q
            msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            try:
                self._w.write(json.dumps(msg).encode("utf-8") + b"\0")
            except OSError as exc:
                self._responses.pop(mid, None)
                raise BrowserError(f"chromium is not running ({exc}); exit code "
                                   f"{self._proc.poll()}") from None
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                try:
                    resp = q.get(timeout=0.1)
                    break
                except queue.Empty:
                    if self._closed:
                        raise BrowserError(f"chromium exited (code {self._proc.poll()}) before "
                                           f"answering {method}") from None
                    if time.monotonic() > deadline:
                        raise BrowserError(f"no answer to {method} within {self.timeout_s} s") from None
        finally:
            self._responses.pop(mid, None)
        if "error" in resp:
            raise BrowserError(f"{method}: {resp['error']}")
        return resp.get("result", {})

    def wait_event(self, method: str, *, session: str | None = None, since: int = 0,
                   timeout_s: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        with self._event_cv:
            while True:
                for ev in self.events[since:]:
                    if ev.get("method") == method and (session is None or ev.get("sessionId") == session):
                        return ev
                if self._closed:
                    raise BrowserError(f"chromium exited while waiting for {method}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"timed out waiting for {method}")
                self._event_cv.wait(left)

    # -- pages
    def open(self, url: str, *, width: int = 1200, height: int = 900,
             settle_s: float = 0.3) -> "Page":
        """Open ``url`` in a new tab and wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for dom in ("Page.enable", "Runtime.enable", "Network.enable", "Log.enable"):
            self.send(dom, session=sid)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=sid)
        mark = len(self.events)
        self.send("Page.navigate", {"url": url}, session=sid)
        self.wait_event("Page.loadEventFired", session=sid, since=mark)
        time.sleep(settle_s)
        return Page(self, sid, target, mark)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - best effort, then make sure it is gone
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        for f in (self._w, self._r):
            try:
                f.close()
            except OSError:
                pass
        self._tmp.cleanup()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class Page:
    browser: Chromium
    session: str
    target: str
    mark: int
    _cache: dict = field(default_factory=dict)

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.browser.events[self.mark:]
                if e.get("sessionId") == self.session and e.get("method") == method]

    @property
    def requests(self) -> list[str]:
        """URLs of every request the page made."""
        return [e["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    @property
    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP violations...)."""
        out = []
        for e in self._events("Runtime.consoleAPICalled"):
            if e.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", [])))
        for e in self._events("Runtime.exceptionThrown"):
            out.append(str(e.get("exceptionDetails", {}).get("text")))
        for e in self._events("Log.entryAdded"):
            if e.get("entry", {}).get("level") == "error":
                out.append(str(e["entry"].get("text")))
        return out

    @property
    def dialogs(self) -> list[str]:
        return [e.get("message", "") for e in self._events("Page.javascriptDialogOpening")]

    def evaluate(self, expression: str) -> Any:
        r = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                              session=self.session)
        if "exceptionDetails" in r:
            raise BrowserError(f"evaluate failed: {r['exceptionDetails'].get('text')}")
        return r.get("result", {}).get("value")

    def screenshot(self, *, full_page: bool = True, clip_height: int | None = None) -> bytes:
        """PNG of the page (the whole page when ``full_page``; at most ``clip_height`` px tall)."""
        import base64

        params: dict[str, Any] = {"format": "png"}
        if full_page or clip_height:
            w = int(self.evaluate("document.documentElement.scrollWidth"))
            h = int(self.evaluate("document.documentElement.scrollHeight"))
            if clip_height:
                h = min(h, int(clip_height))
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        data = self.browser.send("Page.captureScreenshot", params, session=self.session)["data"]
        return base64.b64decode(data)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a developer tool
    import argparse

    ap = argparse.ArgumentParser(description="Screenshot an HTML file with headless Chromium.")
    ap.add_argument("html")
    ap.add_argument("png")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=0, help="clip height in px (0: whole page)")
    ap.add_argument("--palette", action="store_true",
                    help="store as a 256-colour palette PNG (much smaller; for docs)")
    a = ap.parse_args(argv)
    with Chromium() as br:
        page = br.open(Path(a.html).resolve().as_uri(), width=a.width)
        png = page.screenshot(full_page=True, clip_height=a.height or None)
    if a.palette:
        import io

        from PIL import Image

        img = Image.open(io.BytesIO(png)).convert("RGB")
        img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
        png = buf.getvalue()
    Path(a.png).write_bytes(png)
    print(f"{a.png}: {len(png)} bytes; console errors: {page.console_errors or 'none'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
