"""The demo clinic in a browser: the session-economics report draws its
chart, the stock page and the admin dashboard show the alerts, and axe-core
finds no serious or critical violation on any of them."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import expect

from clinic.roles import Role
from clinic.tests.browser import assert_accessible, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    # The role groups come from a migration, which a transactional test's flush empties.
    for role in Role:
        Group.objects.get_or_create(name=role)
    call_command("seed_demo", verbosity=0)


def test_the_demo_report_stock_and_dashboard_render_and_pass_axe(demo, page):
    login(page, "admin")
    page.goto("/reports/session-economics/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Session economics")
    canvas = page.locator("#economics-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('economics-chart'))")
    bars = page.evaluate(
        "() => Chart.getChart(document.getElementById('economics-chart')).data.datasets[1].data"
    )
    assert any(value > 0 for value in bars)  # demo sessions bring in money
    expect(page.get_by_role("table").first).to_contain_text("Iontophoresis")
    assert_accessible(page)
    screenshot(page, "session-economics", full_page=True)
    page.get_by_role("textbox", name="Month").fill("2001-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No signed sessions in January 2001")).to_be_visible()

    # One demo per test run: a transactional test's flush also empties the
    # catalog the migrations load, so the stock pages are checked here too.
    page.goto("/")
    expect(page.get_by_role("heading", name="Supplies")).to_be_visible()
    expect(page.get_by_text("DX-23K02")).to_be_visible()  # close to expiry
    expect(page.get_by_text("Wearable patch, large").first).to_be_visible()  # below reorder level
    assert_accessible(page)
    page.goto("/supplies/")
    expect(page.get_by_role("heading", name="Stock")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Receive stock").click()
    page.get_by_label("Item").select_option(label="Alcohol prep pads")
    page.get_by_label("Lot number").fill("AP-NEW")
    page.get_by_label("Expiry").fill("2001-01-01")
    page.get_by_label("Quantity received").fill("100")
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_text("do not put it on the shelf")).to_be_visible()  # refused, input kept
    expect(page.get_by_label("Lot number")).to_have_value("AP-NEW")
    assert_accessible(page)
