"""Open a local page in Debian's headless Chromium (/usr/bin/chromium) through Playwright's DevTools client,
with every request that leaves the file system refused: what the page shows offline, its console errors,
and a full-page screenshot.

`python -m tests.browser PAGE.html OUT.png [WIDTH [HEIGHT]]` takes the screenshot shown in the README.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import in_ci

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str:
    """The browser, or skip (locally) / fail (CI=true); `make test` installs Debian's chromium when it can."""
    for name in CHROMIUM_NAMES:
        p = os.environ.get("GROUPSCOPE_CHROMIUM") or shutil.which(name)
        if p:
            return p
    msg = "Debian's chromium is not installed (make browser installs it as root)"
    if in_ci():
        pytest.fail(msg + "; required under CI=true")
    pytest.skip(msg)


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    result: object = None


def visit(page: Path, script: str, screenshot: Path | None = None, width: int = 1280, height: int | None = None) -> PageVisit:
    """Load `page` offline, run `script` (a JS function body's expression) after load and return what it gave;
    the screenshot is of the whole page, or of its top `height` pixels."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    out = PageVisit()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = browser.new_context(viewport={"width": width, "height": height or 900}, offline=True)
            tab = ctx.new_page()

            def route(r):
                url = r.request.url
                if url.startswith(("file:", "data:", "about:")):
                    r.continue_()
                else:
                    out.blocked.append(url)
                    r.abort()

            tab.route("**/*", route)
            tab.on("console", lambda m: out.console_errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: out.console_errors.append(f"page error: {e}"))
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.wait_for_timeout(300)
            out.result = tab.evaluate(script)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(screenshot), full_page=height is None)
        finally:
            browser.close()
    return out


CHARTS_JS = """() => Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const img = f.querySelector('img'); const box = img.getBoundingClientRect();
  return {name: f.dataset.chart, complete: img.complete, natural: img.naturalWidth, width: box.width, height: box.height};
})"""


if __name__ == "__main__":
    page, shot = Path(sys.argv[1]), Path(sys.argv[2])
    v = visit(page, CHARTS_JS, shot, width=int(sys.argv[3]) if len(sys.argv) > 3 else 1280,
              height=int(sys.argv[4]) if len(sys.argv) > 4 else None)
    print(f"{len(v.result)} charts, console errors: {v.console_errors}, blocked: {v.blocked}; screenshot {shot}")
