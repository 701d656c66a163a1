"""The header: one line of menu at 1366 px, folded behind "Menu" on a 390-px phone where it
takes less than a fifth of the screen; the menu reaches the role's pages by clicking."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import keep_screenshot as keep
from tests.e2e.helpers import log_in


@pytest.mark.parametrize("username", ["sonn.cantho", "admin", "canbo.ninhkieu"])
def test_menu_fits_on_one_line_at_1366(page, demo_live, username):
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, demo_live.url, username)

    links = page.locator("#mainnav a")
    assert links.count() >= 5
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert len(tops) == 1, f"the menu wraps: {tops}"
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 60
    expect(page.locator("details.navmenu")).to_be_hidden()
    keep(page, f"home-{username}-1366")


def test_phone_header_is_small_and_menu_opens(page, demo_live):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, demo_live.url, "sonn.cantho")

    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 0.2 * 844, header
    expect(page.locator("#mainnav")).to_be_hidden()
    keep(page, "home-sonn.cantho-390")

    page.locator("details.navmenu > summary").click()
    menu = page.locator("details.navmenu nav")
    expect(menu).to_be_visible()
    keep(page, "menu-open-390")
    menu.get_by_role("link", name="Hồ sơ", exact=True).click()
    expect(page).to_have_url(f"{demo_live.url}/dossiers/")
