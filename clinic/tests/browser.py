"""Browser tests: Playwright driving Debian's Chromium against pytest-django's
live server (a pytest plugin, loaded by the top-level conftest.py).

One headless browser for the whole run (`browser`, session scope), a fresh
context per test (`page`: 1280x800, the clinic's time zone, no shared
cookies). Tests find things by label and role, as a person would, and call
`assert_accessible(page)` (axe-core, vendored) on the pages they visit.

Playwright's sync API keeps an asyncio loop on the main thread, which makes
Django's ORM refuse to run ("async unsafe") in the test code: the browser
fixture allows it for as long as the browser runs, and the browser tests are
collected last so no other test runs under that allowance.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
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
AXE_STATIC = "vendor/axe-core-4.14.1/axe.min.js"
# Screenshots: var/screenshots by default (every run); `make screenshots`
# points this at docs/screenshots to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000
BLOCKING_IMPACTS = ("serious", "critical")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: see the module docstring."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=DESKTOP,
        locale="en-US",
        timezone_id=settings.CLINIC_TIME_ZONE,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = SCREENSHOTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"))
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def login(page, username: str, password: str | None = None) -> None:
    """Log in through the login page, as a person does."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def logout(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def axe_violations(page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict]:
    """Run axe-core on the page as it is now; the violations of `impacts`."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # From our own static files: the CSP (script-src 'self') stays on, so a
        # page that breaks it still fails its test.
        page.add_script_tag(url=static(AXE_STATIC))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + " " + n.html.slice(0, 120)),
          }));
        }"""
    )
    return [v for v in found if v["impact"] in impacts]


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the current page."""
    violations = axe_violations(page)
    lines = [
        f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in violations
    ]
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(lines)


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path
