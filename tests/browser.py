"""A real headless Chromium driven over the DevTools protocol, for the web-view tests.

``--dump-dom`` can only load a URL; the analyst view needs more than that from a browser:
a sign-in form posted with its one-off CSRF cookie, a session cookie kept between pages,
a decision form submitted the way a browser submits it (with its own ``Origin`` and
``Sec-Fetch-Site`` headers). This drives Debian's Chromium through its DevTools websocket
(aiohttp, already a dependency of Faust) with the handful of commands the tests need.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1900",
    "--remote-debugging-port=0",  # Chromium picks a port and writes it to DevToolsActivePort
)


class Browser:
    """One Chromium with one page; every call waits for what it started to finish."""

    def __init__(self, profile: Path, timeout: float = 60.0) -> None:
        if CHROMIUM is None:
            raise RuntimeError("needs Debian's chromium (apt-get install chromium)")
        self.profile, self.timeout = profile, timeout
        self._loop = asyncio.new_event_loop()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._loads = 0  # Page.loadEventFired seen so far
        self._process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._run(self._connect())
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # what the tests call

    def goto(self, url: str) -> str:
        """Load ``url`` (following redirects) and return the page's DOM."""
        self._run(self._until_loaded(self._command("Page.navigate", url=url)))
        return self.dom()

    def submit(self, form_id: str, **fields: str) -> str:
        """Fill the named fields of ``<form id=form_id>``, submit it as a user would, and
        return the DOM of the page it leads to."""
        form, values = json.dumps(form_id), json.dumps(fields)
        script = (
            f"(() => {{ const f = document.getElementById({form}); if (!f) return false;"
            f" for (const [k, v] of Object.entries({values})) f.elements[k].value = v;"
            " f.requestSubmit(); return true; })()"
        )

        async def fill() -> None:
            if not await self._evaluate(script):
                raise AssertionError(f"no form #{form_id} on the page")

        self._run(self._until_loaded(fill()))
        return self.dom()

    def dom(self) -> str:
        return str(self._run(self._evaluate("document.documentElement.outerHTML")))

    def url(self) -> str:
        return str(self._run(self._evaluate("location.href")))

    def cookies(self) -> list[dict[str, Any]]:
        return list(self._run(self._command("Network.getCookies"))["cookies"])

    def screenshot(self, path: Path) -> Path:
        shot = self._run(self._command("Page.captureScreenshot", format="png"))
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        if hasattr(self, "_session"):
            self._run(self._session.close())
        self._process.kill()
        self._process.wait(timeout=30)
        self._loop.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # the protocol

    def _run(self, coroutine):
        return self._loop.run_until_complete(asyncio.wait_for(coroutine, self.timeout))

    async def _connect(self) -> None:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (active.exists() and active.read_text().strip()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            await asyncio.sleep(0.1)
        port = int(active.read_text().split()[0])
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as answer:
            pages = [t for t in await answer.json() if t["type"] == "page"]
        self._socket = await self._session.ws_connect(
            pages[0]["webSocketDebuggerUrl"], max_msg_size=0
        )
        self._reader = asyncio.ensure_future(self._read())
        await self._command("Page.enable")
        await self._command("Network.enable")

    async def _read(self) -> None:
        async for frame in self._socket:
            message = json.loads(frame.data)
            if message.get("method") == "Page.loadEventFired":
                self._loads += 1
            elif (future := self._waiting.pop(message.get("id", -1), None)) is not None:
                if "error" in message:
                    future.set_exception(RuntimeError(f"DevTools: {message['error']}"))
                else:
                    future.set_result(message.get("result", {}))

    async def _command(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future = self._waiting[ident] = self._loop.create_future()
        await self._socket.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        return await future

    async def _evaluate(self, expression: str) -> Any:
        result = await self._command(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def _until_loaded(self, action) -> None:
        """Run ``action`` and wait for the next page load it causes (redirects included:
        the load event fires once, for the page the redirects end on)."""
        seen = self._loads
        await action
        while self._loads == seen:
            await asyncio.sleep(0.05)
        await self._evaluate("document.readyState")  # the DOM is there to read
