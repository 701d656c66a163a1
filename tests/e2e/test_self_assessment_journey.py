"""The self-assessment (Mẫu 02) in the browser (issue 13, item 6): on a phone-sized screen
``canbo.phuongninhkieu`` chooses options, sees the running total change and "Đã lưu"
without pressing any button, reloads and finds the answers kept; a note typed and not yet
sent makes the browser ask before leaving the page.

Expected labels come from the catalog through ``gettext`` in Vietnamese, so the assertions
hold before and after the catalog is completed.
"""

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation
from playwright.sync_api import expect

from dossiers import services
from dossiers.models import SelfAssessmentEntry
from ocop.accounts.models import User
from tests import factories
from tests.e2e.helpers import demo_filing_target, log_in
from tests.i18n import vi

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def vi_number(value):
    with translation.override("vi"):
        return floatformat(value, "-2")


@pytest.fixture
def draft(demo_live):
    """A new 26/2026 dossier of Phường Ninh Kiều in the open round, filed by its officer."""
    officer = User.objects.get(username="canbo.phuongninhkieu")
    ward, criteria_set, open_round = demo_filing_target()
    producer = factories.producer(ward, name="Hộ kinh doanh Mắm Út Hai")
    product = services.create_product(officer, producer=producer, name="Mắm cá linh Út Hai",
                                      criteria_set=criteria_set)
    dossier = services.create_dossier(officer, round=open_round, product=product)
    criteria = list(criteria_set.criteria.order_by("order")[:2])
    return dossier, [(c, c.options.order_by("-points", "order").first()) for c in criteria]


def test_self_assessment_autosaves_totals_and_warns_before_leaving(page, demo_live, draft):
    base = demo_live.url
    dossier, ((first, best_first), (second, best_second)) = draft
    page.set_default_timeout(15_000)
    page.set_viewport_size(PHONE)
    log_in(page, base, "canbo.phuongninhkieu")
    url = f"{base}/dossiers/{dossier.pk}/self-assessment/"
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.goto(url)
    total = page.locator("#sa-total")
    expect(total).to_have_text("0")

    # --- each choice is saved at once and the total follows ----------------------------------
    page.locator(f"#criterion-{first.pk} input[type=radio][value='{best_first.pk}']").check()
    expect(page.locator(f"#sa-result-{first.pk}")).to_have_text(vi("Saved."))
    expect(total).to_have_text(vi_number(best_first.points))
    expect(page.locator("#save-status [data-state=saved]")).to_be_visible()
    expect(page.locator("#save-status")).to_contain_text("Đã lưu")

    page.locator(f"#criterion-{second.pk} input[type=radio][value='{best_second.pk}']").check()
    expect(total).to_have_text(vi_number(best_first.points + best_second.points))
    expect(page.locator("#sa-progress")).to_contain_text("2")

    # the running total stays in view on a phone, far down the form too
    page.locator("#self-assessment fieldset.criterion").last.scroll_into_view_if_needed()
    expect(page.locator("#sa-summary")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # --- reloaded (nothing unsaved: no question asked): the answers are kept ----------------------
    page.reload()
    assert dialogs == []
    expect(page.locator(f"#criterion-{first.pk} input[value='{best_first.pk}']")).to_be_checked()
    expect(page.locator(f"#criterion-{second.pk} input[value='{best_second.pk}']")).to_be_checked()
    expect(total).to_have_text(vi_number(best_first.points + best_second.points))
    stored = {e.criterion_id: e.option_id for e in
              SelfAssessmentEntry.objects.filter(dossier=dossier)}
    assert stored == {first.pk: best_first.pk, second.pk: best_second.pk}

    # --- a note is sent when it loses focus -------------------------------------------------------
    note = page.locator(f"#id_note{first.pk}")
    note.click()
    note.press_sequentially("Có hợp đồng với 12 hộ dân")
    expect(page.locator("#save-status [data-state=unsaved]")).to_be_visible()
    note.press("Tab")
    expect(page.locator("#save-status [data-state=saved]")).to_be_visible()
    assert SelfAssessmentEntry.objects.get(dossier=dossier, criterion=first).note == (
        "Có hợp đồng với 12 hộ dân")
    page.reload()
    assert dialogs == []
    expect(note).to_have_value("Có hợp đồng với 12 hộ dân")

    # --- a note typed and not sent: leaving asks first -------------------------------------------
    other = page.locator(f"#id_note{second.pk}")
    other.click()
    other.press_sequentially("Chưa gửi")
    page.locator(".sticky-actions a").click(no_wait_after=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(url)
    expect(other).to_have_value("Chưa gửi")
