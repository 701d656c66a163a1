"""A district officer logs in and lands on the Vietnamese home page."""

from playwright.sync_api import expect


def test_district_officer_logs_in_and_sees_vietnamese_home(page, demo_live):
    page.goto(f"{demo_live.url}/")
    expect(page).to_have_url(f"{demo_live.url}/login/?next=/")
    expect(page.locator("h1")).to_have_text("Đăng nhập")

    page.get_by_label("Tên đăng nhập").fill("canbo.ninhkieu")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    expect(page.get_by_label("Tên đăng nhập")).to_have_value("canbo.ninhkieu")

    page.get_by_label("Mật khẩu").fill("ocop-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()

    expect(page).to_have_url(f"{demo_live.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text("Xin chào, Trần Thị Bình")
    expect(page.locator(".whoami")).to_contain_text("Quận Ninh Kiều")
    expect(page.locator("#panel-officer h2")).to_have_text("Tiếp nhận hồ sơ")
