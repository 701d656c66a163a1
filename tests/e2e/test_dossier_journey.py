"""A dossier's journey in the browser (issue "Dossier intake", Done when).

As ``canbo.phuongninhkieu`` (the officer of today's Phường Ninh Kiều): register a producer
and its product, create the dossier in the open 26/2026 round of Cần Thơ, upload its
documents (and record the samples), submit; return it with a reason (the ward checks the
papers under 26/2026), complete the rejected paper, resubmit and accept. Then
``sonn.cantho`` (the department) finds it in the province's list.

Selectors are ids, names, URLs and state classes rather than visible text: the
Vietnamese catalog of these pages is still being completed. Expected labels come from the
same catalog through ``gettext`` in Vietnamese, so the assertions hold before and after.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dossiers.models import DocumentState, Dossier, DossierState
from tests.e2e.helpers import demo_filing_target, log_in
from tests.i18n import vi

PRODUCT = "Bánh phồng nếp An Bình"
PRODUCER = "Hộ kinh doanh Bánh phồng Út Nhỏ"
RETURN_REASON = "Phiếu kiểm nghiệm thiếu chỉ tiêu vi sinh vật, đề nghị bổ sung."


def tiny_pdf(title):
    from dossiers.demo import tiny_pdf as build

    return {"name": f"{title}.pdf", "mimeType": "application/pdf",
            "buffer": build(title, PRODUCT)}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads (and the demo's files) go to a temporary folder, not the repository."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def submit_form(page):
    """The main form of a form page (``_form_page.html``)."""
    page.locator("form.panel button[type=submit].primary").click()


def press(page, action):
    page.locator(f"#actions button[name=action][value={action}]").click()


def expect_state(page, state):
    badge = page.locator(".page-head .state")
    expect(badge).to_have_class(re.compile(rf"\bstate-{state}\b"))
    expect(badge).to_have_text(vi(DossierState(state).label))


def upload(page, line_pk, title):
    row = page.locator(f"#doc-{line_pk}")
    row.locator(f"#id_doc{line_pk}-file").set_input_files(tiny_pdf(title))
    row.locator("form.upload button[type=submit]").click()
    expect(page.locator(f"#doc-{line_pk}")).to_have_class(re.compile(r"\bdoc-state-submitted\b"))


def test_officer_files_returns_completes_and_accepts_a_dossier(page, demo_live, browser,
                                                               browser_context_args):
    base = demo_live.url
    ward, criteria_set, open_round = demo_filing_target()
    page.set_default_timeout(15_000)

    # --- canbo.phuongninhkieu registers the producer, the product and the dossier --------
    log_in(page, base, "canbo.phuongninhkieu")
    page.goto(f"{base}/dossiers/producers/new/")
    page.locator("#id_type").select_option("household")
    page.locator("#id_name").fill(PRODUCER)
    page.locator("#id_registration_no").fill("1801 999 001")
    page.locator("#id_representative_name").fill("Trần Thị Nhỏ")
    page.locator("#id_representative_gender").select_option("female")
    page.locator("#id_representative_ethnicity").fill("Kinh")
    page.locator("#id_address").fill("Khu vực 3, Phường Ninh Kiều")
    page.locator("#id_unit").select_option(str(ward.pk))
    submit_form(page)

    expect(page).to_have_url(re.compile(r"/dossiers/products/new/\?producer=\d+$"))
    page.locator("#id_name").fill(PRODUCT)
    page.locator("#id_criteria_set").select_option(str(criteria_set.pk))
    submit_form(page)

    expect(page).to_have_url(re.compile(r"/dossiers/new/\?product=\d+(&round=\d+)?$"))
    page.locator("#id_round").select_option(str(open_round.pk))
    expect(page.locator("#id_product option:checked")).to_contain_text(PRODUCT)
    page.locator("#id_production_address").fill("Khu vực 3, Phường Ninh Kiều, TP. Cần Thơ")
    page.locator("#id_workers").fill("6")
    submit_form(page)

    expect(page).to_have_url(re.compile(r"/dossiers/\d+/$"))
    dossier = Dossier.objects.get(product__name=PRODUCT)
    expect_state(page, DossierState.DRAFT)

    # --- the documents: one PDF per required paper, the samples recorded -----------------
    lines = list(dossier.documents.select_related("item").order_by("item__order"))
    for line in lines:
        if line.item.required and line.item.code != "samples":
            upload(page, line.pk, line.item.code)
    samples = next(line for line in lines if line.item.code == "samples")
    page.locator("#id_samples_count").fill("5")
    page.locator("#id_samples_received_on").fill(timezone.localdate().isoformat())
    page.locator("#samples button[type=submit]").click()
    expect(page.locator(f"#doc-{samples.pk}")).to_have_class(
        re.compile(r"\bdoc-state-submitted\b"))

    press(page, "submit")
    expect_state(page, DossierState.SUBMITTED)

    # --- returned with a reason, completed, resubmitted, accepted --------------------------
    test_report = next(line for line in lines if line.item.code == "test_report")
    page.locator("#actions a[href$='/return/']").click()
    page.locator(f"#id_reason{test_report.pk}").fill(RETURN_REASON)
    page.locator("#id_note").fill("Đề nghị bổ sung và nộp lại.")
    submit_form(page)
    expect_state(page, DossierState.RETURNED)
    rejected = page.locator(f"#doc-{test_report.pk}")
    expect(rejected).to_have_class(re.compile(r"\bdoc-state-rejected\b"))
    expect(rejected.locator(".doc-reason")).to_contain_text(RETURN_REASON)

    upload(page, test_report.pk, "test_report-bo-sung")
    press(page, "resubmit")
    expect_state(page, DossierState.RESUBMITTED)
    press(page, "accept")
    # nobody checked the papers line by line: the page asks first, listing them
    confirm = page.locator("#confirm-accept")
    expect(confirm).to_be_visible()
    expect_state(page, DossierState.RESUBMITTED)
    confirm.locator("button[name=action][value=accept]").click()
    expect_state(page, DossierState.ACCEPTED)

    steps = [("", DossierState.DRAFT), (DossierState.DRAFT, DossierState.SUBMITTED),
             (DossierState.SUBMITTED, DossierState.RETURNED),
             (DossierState.RETURNED, DossierState.RESUBMITTED),
             (DossierState.RESUBMITTED, DossierState.ACCEPTED)]
    timeline = page.locator("#timeline ol.timeline > li")
    expect(timeline).to_have_count(len(steps))
    for i, (before, after) in enumerate(steps):
        text = f"{vi(DossierState(before).label)} → " if before else ""
        expect(timeline.nth(i).locator("strong").first).to_have_text(
            text + vi(DossierState(after).label))
    expect(timeline.nth(2)).to_contain_text(RETURN_REASON)

    dossier.refresh_from_db()
    assert dossier.state == DossierState.ACCEPTED
    papers = [line for line in lines if line.item.required and line.item.code != "samples"]
    assert dossier.files.count() == len(papers) + 1  # one per paper, the completed report
    assert not dossier.documents.filter(state=DocumentState.REJECTED).exists()

    # --- the department sees it in the province list --------------------------------------
    department = browser.new_context(**browser_context_args)
    try:
        other = department.new_page()
        other.set_default_timeout(15_000)
        log_in(other, base, "sonn.cantho")
        other.goto(f"{base}/dossiers/")
        row = other.locator(f"#dossier-{dossier.pk}")
        expect(row).to_contain_text(PRODUCT)
        expect(row.locator(".state")).to_have_class(re.compile(r"\bstate-accepted\b"))
        other.locator("#id_q").fill("banh phong nep")
        other.locator("form.filters button[type=submit]").click()
        expect(other.locator("#results table.dossiers tbody tr")).to_have_count(1)
        expect(other.locator("#results")).to_contain_text(PRODUCT)
    finally:
        department.close()
