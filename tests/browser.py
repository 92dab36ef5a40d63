"""Helpers for the browser tests: a live server, Debian's Chromium, keyboard moves, axe-core.

The browser is the system's Chromium (never a downloaded one); axe-core comes from npm
(``package.json``). ``make test`` and ``.ci/run`` install both when missing.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """The app served over real HTTP on loopback, in a thread."""

    def __init__(self, app, port: int):
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)


def tab_to(page, selector: str, limit: int = 250) -> None:
    """Press Tab until the element matching ``selector`` has the focus, as a keyboard user."""
    for _ in range(limit):
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choose_radio(page, name: str, index: int) -> None:
    """Tab into a radio group, then Space (first option) or arrow keys (later ones)."""
    tab_to(page, f'input[name="{name}"]')
    if index == 0:
        page.keyboard.press("Space")
    for _ in range(index):
        page.keyboard.press("ArrowDown")


def type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def choose_option(page, selector: str, steps: int) -> None:
    """Focus a select and move down ``steps`` options with the arrow key."""
    tab_to(page, selector)
    for _ in range(steps):
        page.keyboard.press("ArrowDown")


def new_context(browser, **options):
    """A browser context with axe-core loaded into every page before the page's own scripts.

    The pages' Content-Security-Policy allows only the app's own script files, and it stays on
    in these tests (a CSP that broke the page's script must fail them); an init script is the
    one way in that the policy does not govern.
    """
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE))
    return context


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page, name: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"{name}: {json.dumps(violations, indent=1)}"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
