"""What every browser journey shares: the demo password and logging in as a demo user."""

from playwright.sync_api import expect

PASSWORD = "ocop-demo-2026"


def log_in(page, base, username):
    """Log ``username`` in through the login form, as a user would; lands on the home."""
    page.goto(f"{base}/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{base}/")
