"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: it launches /usr/bin/chromium, and skips when that
is missing, except where WINGMAN_REQUIRE_BROWSER=1 (CI), which makes it fail.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, require_or_skip


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the ORM calls the
    tests make between browser steps are plain synchronous code all the same.
    Set from the first browser test until the session ends (Playwright's own
    session fixtures tear down under it); the deploy check strips it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser():
    require_or_skip(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed", "WINGMAN_REQUIRE_BROWSER")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Runs in every document before its own scripts: hands each CSP violation to the test.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation({
  page: document.URL, directive: e.effectiveDirective, blocked: e.blockedURI,
  source: e.sourceFile + ":" + e.lineNumber, sample: e.sample,
}));
"""


class PolicyViolations:
    """What the browser refused under the Content-Security-Policy (or found wrong in the
    Permissions-Policy header) on any page of one test. Every page made by `new_page` is
    watched, and a test that leaves one here fails (see pytest_runtest_call below)."""

    def __init__(self):
        self.found: list[str] = []
        self.contexts = []

    def watch(self, context) -> None:
        self.contexts.append(context)
        context.expose_binding("__cspViolation", lambda source, v: self.found.append(
            f"{v['page']}: {v['directive']} refused {v['blocked'] or 'inline'} at {v['source']} {v['sample']!r}"))
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", self._console)

    def _console(self, message) -> None:
        # Chromium's own words, a second witness (also for what no document event reports).
        text = message.text
        if "Content Security Policy" in text or "Permissions-Policy" in text:
            self.found.append(f"{message.page.url if message.page else '?'}: console: {text}")

    def take(self) -> list[str]:
        """Let reports in flight arrive, then return and forget them."""
        for context in self.contexts:
            if context.pages:
                context.pages[0].wait_for_timeout(200)
                break
        found, self.found = self.found, []
        return found


@pytest.fixture
def policy_violations(request):
    watcher = PolicyViolations()
    request.node.policy_violations = watcher
    return watcher


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test whose pages violated the CSP fails, even when all its own assertions held."""
    result = yield
    watcher = getattr(item, "policy_violations", None)
    if watcher is not None and (found := watcher.take()):
        pytest.fail("the browser reported policy violations:\n" + "\n".join(found), pytrace=False)
    return result


@pytest.fixture
def new_page(browser, policy_violations):
    """Open a page in a fresh browser context (its own cookies): new_page(viewport=..., java_script_enabled=...).
    Its CSP violations fail the test."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        policy_violations.watch(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
