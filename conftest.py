"""Suite-wide fixtures and the service markers.

`postgres` tests need PostgreSQL (exclusion constraints, real concurrency);
`redis` tests need a real Redis; `browser` tests need Debian's Chromium and
Playwright (clinic/tests/browser.py). Under CI=true a missing service or
browser fails the test; elsewhere it skips with the reason.
"""

import pytest
from django.db import connection

pytest.register_assert_rewrite("clinic.tests.browser")

from clinic.tests.browser import browser_missing  # noqa: E402
from scripts.services import DEFAULTS, in_ci, reachable  # noqa: E402

pytest_plugins = ["clinic.tests.browser"]


def _require(name: str) -> None:
    if reachable(name):
        return
    message = f"{name} at {DEFAULTS[name]} is unreachable"
    if in_ci():
        pytest.fail(f"{message} (CI=true: service tests must run)")
    pytest.skip(f"{message}; start it to run this test")


@pytest.fixture(autouse=True)
def _service_markers(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        message = "needs PostgreSQL; this run uses SQLite (set DATABASE_URL to a postgres:// URL)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    if request.node.get_closest_marker("redis"):
        _require("redis")
    if request.node.get_closest_marker("browser") and (reason := browser_missing()):
        if in_ci():
            pytest.fail(f"{reason} (CI=true: browser tests must run; .ci/run installs Chromium)")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (clinic.ratelimit) live in the cache: each test
    starts with none, so one test's requests never throttle the next's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def redis_url() -> str:
    _require("redis")
    return DEFAULTS["redis"]


@pytest.fixture
def front_desk(db):
    from clinic.tests.factories import UserFactory

    return UserFactory(username="fd", role="front_desk")


@pytest.fixture
def therapist_user(db):
    from clinic.tests.factories import UserFactory

    return UserFactory(username="th", role="therapist")


@pytest.fixture
def clinic_admin(db):
    from clinic.tests.factories import UserFactory

    return UserFactory(username="ca", role="clinic_admin", is_staff=True)
