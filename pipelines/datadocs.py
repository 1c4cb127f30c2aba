"""Great Expectations Data Docs that work offline.

GX's page templates load Bootstrap, bootstrap-table, jQuery, Vega and Font Awesome from public CDNs; on an
operator's network without internet the index shows no list of suites or runs (bootstrap-table draws it)
and every page is unstyled. After GX builds the docs, `make_offline` copies those assets from installed
npm packages (vendor/datadocs, installed by `make` with `npm ci`; nothing is fetched at run time) into
`local_site/static/vendor/` and points every page's <script> and <link> at the copies, dropping the
`integrity` / `crossorigin` attributes that would make a browser refuse a file:// script.

The assets are found at $GROUPSCOPE_DATADOCS_ASSETS (a node_modules folder), else vendor/datadocs/node_modules
beside the source tree. Without them the docs keep their CDN links and a warning says how to install them;
the month's report carries the validation summary either way.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from groupscope.console import get_logger

log = get_logger("datadocs")

ENV = "GROUPSCOPE_DATADOCS_ASSETS"
VENDOR = "static/vendor"

# Last path segment of a URL in GX's templates -> file of an npm package (under node_modules).
ASSETS = {
    "bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "bootstrap-table-filter-control.css": "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "popper.min.js": "popper.js/dist/umd/popper.min.js",
    "vega@5": "vega/build/vega.min.js",
    "vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Remote images of GX's pages (its logo, fetched with a per-site query string) -> images GX ships in the site.
IMAGES = {"logo-long.png": "static/images/logo-long.png", "full_logo_dark.png": "static/images/logo-long.png"}
# Folders a stylesheet refers to relatively (Font Awesome's ../webfonts/).
EXTRA_DIRS = ["@fortawesome/fontawesome-free/webfonts"]

_TAG = re.compile(r"<(script|link|img)\b[^>]*>", re.I)
_CSS_URL = re.compile(r"url\((['\"]?)(https?://[^)'\"]+)\1\)")
_URL = re.compile(r'\b(src|href)\s*=\s*"(https?://[^"]+)"', re.I)
_SRI = re.compile(r'\s+(integrity|crossorigin)(\s*=\s*"[^"]*")?', re.I)


@dataclass
class OfflineResult:
    pages: int = 0
    replaced: int = 0
    missing: list[str] = field(default_factory=list)  # remote URLs with no local copy
    assets: Path | None = None


def assets_dir() -> Path | None:
    """The node_modules folder holding the Data Docs assets, or None when they are not installed."""
    env = os.environ.get(ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1] / "vendor" / "datadocs" / "node_modules")
    for c in candidates:
        if all((c / rel).is_file() for rel in ASSETS.values()):
            return c
    return None


def rewrite_page(html: str, page_dir: Path, site: Path) -> tuple[str, int, list[str]]:
    """The page with every remote <script>/<link> URL that has a local copy pointed at it (relative to
    `page_dir`); returns the text, the number replaced and the URLs left remote."""
    replaced, missing = 0, []

    def tag(m: re.Match) -> str:
        nonlocal replaced
        text = m.group(0)
        u = _URL.search(text)
        if not u:
            return text
        name = _basename(u.group(2))
        target = site / VENDOR / ASSETS[name] if name in ASSETS else site / IMAGES[name] if name in IMAGES else None
        if target is None:
            missing.append(u.group(2))
            return text
        local = os.path.relpath(target, page_dir).replace(os.sep, "/")
        replaced += 1
        text = text[: u.start(2)] + local + text[u.end(2):]
        return _SRI.sub("", text)

    def css_url(m: re.Match) -> str:
        nonlocal replaced
        name = _basename(m.group(2))
        if name not in IMAGES:
            missing.append(m.group(2))
            return m.group(0)
        replaced += 1
        return f"url('{os.path.relpath(site / IMAGES[name], page_dir).replace(os.sep, '/')}')"

    return _CSS_URL.sub(css_url, _TAG.sub(tag, html)), replaced, missing


def _basename(url: str) -> str:
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


def make_offline(site: Path, assets: Path | None = None) -> OfflineResult:
    """Copy the assets into the site and rewrite every page of it (idempotent: rewritten pages have no
    remote URL left to replace)."""
    site = Path(site)
    out = OfflineResult(assets=assets or assets_dir())
    if out.assets is None:
        log.warning("Data Docs keep their CDN links (they need the network to show their lists): the offline assets "
                    "are not installed; run `make` (npm ci in vendor/datadocs) or set %s", ENV)
        return out
    vendor = site / VENDOR
    for rel in ASSETS.values():
        dst = vendor / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out.assets / rel, dst)
    for rel in EXTRA_DIRS:
        shutil.copytree(out.assets / rel, vendor / rel, dirs_exist_ok=True)
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, n, missing = rewrite_page(text, page.parent, site)
        out.pages += 1
        out.replaced += n
        out.missing += missing
        if new != text:
            page.write_text(new, encoding="utf-8")
    if out.missing:
        log.warning("Data Docs: %d remote assets without a local copy, e.g. %s", len(out.missing), out.missing[0])
    return out
