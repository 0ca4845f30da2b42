"""A real browser on a real server: Debian's Chromium, driven by Playwright, against
gunicorn serving an index of the seeds.

Nothing here downloads a browser (`playwright install` is never run): the tests use the
system's /usr/bin/chromium, and fail, saying how to install it, when it is missing.
Screenshots of the main states go to test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.reindex import reindex
from tests.conftest import ROOT, SEEDS, running_gunicorn

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a headless Chromium in a container with no network but loopback: no sandbox
# (we run as root), no GPU, and none of the background traffic Chromium starts by itself.
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
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Playwright's own default wait is 30 s; a page of this size answers in well under one.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def seeds_server(tmp_path_factory):
    """gunicorn on an index of the bundled seeds only (what `make run` shows a newcomer)."""
    root = tmp_path_factory.mktemp("seeds-index")
    assert reindex(root, [SEEDS]).switched
    with running_gunicorn(root, root.parent / "seeds-gunicorn.log") as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is needed for the browser tests and {CHROMIUM} is missing: "
            "install it with `apt-get install -y chromium` (.ci/run does)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page did that it should not: console errors (CSP violations included) and
    requests to anywhere but Sift itself."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self._console(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda req: self._request(req.url, base))

    def _console(self, text: str) -> None:
        # A 4xx page shown on purpose logs "Failed to load resource"; anything else counts.
        if "Failed to load resource" not in text:
            self.errors.append(text)

    def _request(self, url: str, base: str) -> None:
        if not url.startswith((base, "data:")):
            self.foreign.append(url)


def _open_page(browser, base: str, viewport: dict, javascript: bool = True):
    context = browser.new_context(
        base_url=base, viewport=viewport, java_script_enabled=javascript, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    return context, page, PageWatch(page, base)


@pytest.fixture
def page(browser, seeds_server):
    context, page, watch = _open_page(browser, seeds_server, DESKTOP)
    yield page
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.foreign, f"requests outside Sift: {watch.foreign}"


@pytest.fixture
def phone_page(browser, seeds_server):
    context, page, watch = _open_page(browser, seeds_server, PHONE)
    yield page
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.foreign, f"requests outside Sift: {watch.foreign}"


@pytest.fixture
def plain_page(browser, seeds_server):
    """A browser with JavaScript off: the pages must work with links and forms alone."""
    context, page, watch = _open_page(browser, seeds_server, DESKTOP, javascript=False)
    yield page
    context.close()
    assert not watch.foreign, f"requests outside Sift: {watch.foreign}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def shot(artifacts):
    """shot(page, "name"): a full-page screenshot in test-artifacts/browser/name.png."""

    def take(page, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    return take
