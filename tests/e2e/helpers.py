"""What every browser journey shares: the demo password, logging in as a demo user, and
keeping screenshots."""

import os

from playwright.sync_api import expect

PASSWORD = "ocop-demo-2026"


def log_in(page, base, username):
    """Log ``username`` in through the login form, as a user would; lands on the home."""
    page.goto(f"{base}/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{base}/")


def screenshot_dir():
    """Where the journeys keep their screenshots: ``$OCOP_SCREENSHOTS`` (scripts/test.sh sets
    it to test-results/screenshots), or None to keep none."""
    return os.environ.get("OCOP_SCREENSHOTS") or None


def keep_screenshot(page, name):
    """Save the whole page as ``<name>.png`` in :func:`screenshot_dir`, if set."""
    folder = screenshot_dir()
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def demo_filing_target():
    """Where the demo's ward officer (``canbo.phuongninhkieu``) files a 26/2026 dossier:
    ``(ward, criteria set 06, the open round taking dossiers today)``."""
    from django.utils import timezone

    from dossiers.models import EvaluationRound
    from ocop.regions.models import AdministrativeUnit, Level
    from scoring.models import CriteriaSet

    ward = AdministrativeUnit.objects.current().get(level=Level.COMMUNE,
                                                    name="Phường Ninh Kiều")
    criteria_set = CriteriaSet.objects.published().get(regime__slug="26/2026", set_no=6)
    open_round = (EvaluationRound.objects.filter(
        regime__slug="26/2026", is_open=True, intake_deadline__gte=timezone.localdate())
        .order_by("intake_deadline").first())
    return ward, criteria_set, open_round
