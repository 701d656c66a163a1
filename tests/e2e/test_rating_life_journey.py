"""The life of a rating in the browser (issue "The life of a rating", Done when).

As ``sonn.cantho`` (the department): run ``check_rating_expiry`` at a date 34 months after a
demo decision (318/QĐ-UBND of 20/12/2023, Phong Điền under 148) and see the rating due in
the register, the notices of the producer's contact and of the responsible officer (the
officer of today's Xã Nhơn Ái, ``canbo.xanhonai``, reads theirs in their own browser), and
a re-evaluation dossier prefilled from the last one (late filing: the window of the regime
in force closed, the expiry has not passed). Then record an inspection of another rated
product concluding "no longer meets", revoke it within the 15 days, and see the public
verification page of its certificate say "Đã thu hồi".

Seeded without the demo's own expiry run and oversight steps, so the command and the
pages do the work here.
"""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from dossiers.decisions import add_months
from dossiers.models import Dossier, Rating, RatingState, RegistrationType
from ocop.notices.models import Notification
from tests.e2e.helpers import log_in
from tests.i18n import vi


@pytest.fixture
def life_demo(transactional_db, live_server, settings, tmp_path):
    """Accounts, regulations, rounds, dossiers with their history decisions and ratings,
    councils — not the demo's expiry run nor its inspection and revocation."""
    from councils.demo import seed_councils
    from dossiers.demo import seed_dossiers
    from ocop.demo import registered_steps, seed_demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seed_demo([*registered_steps(base=True), seed_dossiers, seed_councils])
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.mark.e2e
def test_department_follows_a_rating_from_due_to_re_evaluation_and_a_revocation(
        life_demo, page, browser):
    base = life_demo.url
    due = Rating.objects.select_related("product").get(
        decision_number="318/QĐ-UBND", product__name="Dâu Hạ Châu")
    assert due.state == RatingState.VALID
    run_day = add_months(due.decision_date, 34)
    assert run_day == datetime.date(2026, 10, 20)

    # -- the expiry command, 34 months after the decision ----------------------------------
    out = io.StringIO()
    call_command("check_rating_expiry", date=run_day.isoformat(), stdout=out)
    due.refresh_from_db()
    assert due.state == RatingState.DUE
    assert out.getvalue().strip()  # what it did, in a line

    log_in(page, base, "sonn.cantho")
    # home → the due ratings → the rating's page
    page.locator("#card-ratings a[href='/ratings/?state=due']").click()
    row = page.locator(f"#rating-{due.pk}")
    expect(row).to_contain_text("Dâu Hạ Châu")
    row.locator("a").first.click()
    expect(page).to_have_url(f"{base}/ratings/{due.pk}/")
    expect(page.locator(".page-head .rating-state-due")).to_have_text(
        vi("Due for re-evaluation"))

    # the notifications: the producer's contact (by e-mail) and the responsible officer
    page.locator("#nav-notices").click()
    expect(page).to_have_url(re.compile(r"/notifications/"))
    producer_notice = Notification.objects.get(key=f"rating-due:{due.pk}:producer")
    expect(page.locator(f"#notice-{producer_notice.pk}")).to_contain_text(
        producer_notice.email)
    expect(page.locator(f"#notice-{producer_notice.pk}")).to_contain_text("Dâu Hạ Châu")
    officer = Notification.objects.get(key__startswith=f"rating-due:{due.pk}:user:",
                                       user__username="canbo.xanhonai")
    officer_context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    officer_page = officer_context.new_page()
    log_in(officer_page, base, "canbo.xanhonai")
    officer_page.locator("#nav-notices").click()
    notice = officer_page.locator(f"#notice-{officer.pk}")
    expect(notice).to_have_class(re.compile("unread"))
    expect(notice).to_contain_text("318/QĐ-UBND")
    notice.locator("a").first.click()
    expect(officer_page).to_have_url(f"{base}/ratings/{due.pk}/")
    officer_context.close()

    # -- the prefilled re-evaluation dossier ------------------------------------------------
    page.goto(f"{base}/ratings/{due.pk}/")
    page.locator("#reevaluate").click()
    expect(page.locator("#reevaluation-window")).to_be_visible()
    page.locator("form button[type=submit].primary, form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/dossiers/\d+/$"))
    dossier = Dossier.objects.get(current_rating=due,
                                  registration_type=RegistrationType.REEVALUATION)
    assert page.url.endswith(f"/dossiers/{dossier.pk}/")
    source = due.source_dossier
    assert dossier.registration == source.registration
    copied = dossier.files.count()
    assert copied and copied == source.files.exclude(
        document__item__code="samples").count()
    expect(page.locator("body")).to_contain_text("Dâu Hạ Châu")
    # the copies are the dossier's own files
    assert not set(dossier.files.values_list("file", flat=True)) & set(
        source.files.values_list("file", flat=True))

    # -- an inspection concluding "no longer meets", and the revocation --------------------
    target = Rating.objects.select_related("product").get(
        decision_number="245/QĐ-UBND", product__name="Nước mắm cá linh Ninh Kiều")
    today = timezone.localdate()
    page.goto(f"{base}/ratings/{target.pk}/")
    page.locator("#oversight a[href*='/inspections/new/']").click()
    page.fill("#id_title", "Kiểm tra đột xuất nước mắm cá linh")
    page.fill("#id_inspectors", "Đoàn kiểm tra của Sở")
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/inspections/\d+/$"))
    page.locator("#conclude input[type=radio][value=not_meets]").check()
    page.fill("#id_conclusion_date", today.isoformat())
    page.fill("#id_reference", "01/BB-KT")
    page.locator("#conclude button[type=submit]").click()
    deadline = today + datetime.timedelta(days=15)
    expect(page.locator("#revocation-deadline")).to_have_text(deadline.strftime("%d/%m/%Y"))
    page.locator("#items a.button.primary").click()  # Revoke
    page.locator("#id_ground").select_option("b")
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/inspections/revocations/\d+/$"))
    expect(page.locator("#deadline")).to_contain_text(deadline.strftime("%d/%m/%Y"))
    page.fill("#id_date", today.isoformat())
    page.fill("#id_signer_name", "Trần Văn Ký")
    page.locator("#issue button[type=submit].primary").click()
    expect(page.locator("#decision-number")).to_have_text(re.compile(r"\d+/QĐ-UBND"))
    target.refresh_from_db()
    assert target.state == RatingState.REVOKED

    # the public page of its certificate says revoked
    page.locator("a[href^='/xac-minh/']").click()
    expect(page.locator("[data-state=revoked]")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Đã thu hồi")
    expect(page.locator("body")).to_contain_text(target.product.name)
