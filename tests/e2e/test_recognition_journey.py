"""The recognition journey in the browser (issue "Recognition decisions, certificates and
ratings", Done when).

As ``sonn.cantho`` (the department): from the home page, reach the results of the closed
demo session waiting for a decision, prepare the draft, check its "DỰ THẢO" watermark,
issue it, watch the documents being made, download the decision and the certificates;
decode the QR code printed on a certificate and open the public verification page it
points to. Then find the product the Ninh Kiều district council forwarded in the
province's intake, with its district result.

The documents are made by a background thread standing in for a Celery worker (the wake-up
is replaced, the job itself runs unchanged), so the page really shows the progress first.
"""

import io
import re
import threading
import time
import zipfile

import pytest
import zxingcpp
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from dossiers.models import Decision, Dossier, DossierState
from tests.e2e.helpers import log_in


@pytest.fixture
def recognition_demo(transactional_db, live_server, settings, tmp_path):
    """The demo accounts, rounds and councils (their closed sessions included)."""
    from councils.demo import seed_councils
    from dossiers.demo import seed_rounds
    from ocop.demo import registered_steps, seed_demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    seed_demo([*registered_steps(base=True), seed_rounds, seed_councils])
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def slow_worker(monkeypatch):
    """Instead of a Celery message: a thread that runs the job after a pause."""
    from dossiers import issuing

    def wake(task, decision_id):
        def run():
            time.sleep(1.5)
            try:
                issuing.generate(decision_id)
            finally:
                connection.close()

        threading.Thread(target=run, daemon=True).start()
        return True

    monkeypatch.setattr(issuing.jobs, "wake", wake)
    monkeypatch.setattr("django.conf.settings.DECISION_RENDER_PARALLELISM", 1)


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qr_of(certificate_pdf):
    """The text of the QR code printed on the certificate (its embedded image)."""
    page = PdfReader(io.BytesIO(certificate_pdf)).pages[0]
    for image in page.images:
        for found in zxingcpp.read_barcodes(image.image):
            return found.text
    raise AssertionError("no QR code found on the certificate")


def test_department_drafts_issues_and_verifies_a_certificate(page, recognition_demo,
                                                             slow_worker):
    base = recognition_demo.url
    page.set_default_timeout(20_000)
    log_in(page, base, "sonn.cantho")

    # --- from the home page to the results of the closed session -------------------------
    page.locator("#card-decisions a[href='/decisions/pending/']").click()
    expect(page).to_have_url(f"{base}/decisions/pending/")
    group = page.locator("form[id^=group-]", has_text="Thành phố Cần Thơ")
    expect(group.locator("input[name=dossier]")).to_have_count(2)
    products = [group.locator("label").nth(i).inner_text() for i in range(2)]
    group.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/decisions/\d+/$"))
    draft = Decision.objects.get(state="draft")
    for product in products:
        expect(page.locator("#annex")).to_contain_text(product)

    # --- the draft carries the watermark ---------------------------------------------------
    preview = page.request.get(f"{base}/decisions/{draft.pk}/preview.pdf")
    assert preview.headers["content-type"] == "application/pdf"
    assert "DỰ THẢO" in pdf_text(preview.body())

    # --- issue it and watch the documents being made ---------------------------------------
    form = page.locator("#issue form")
    expect(form.locator("#id_number")).to_have_value("1")
    form.locator("#id_date").fill(timezone.localdate().isoformat())
    form.locator("#id_signer_name").fill("Trần Việt Trường")
    form.locator("input[name=signature_form][value=kt]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{base}/decisions/{draft.pk}/")
    expect(page.locator("#documents-progress progress")).to_be_visible()
    expect(page.locator(f"a[href='/decisions/{draft.pk}/bundle/']")).to_be_visible(
        timeout=60_000)
    decision = Decision.objects.get(pk=draft.pk)
    assert (decision.reference, decision.state) == ("01/QĐ-UBND", "issued")

    # --- download the decision and the certificates ----------------------------------------
    with page.expect_download() as info:
        page.locator(f"a[href='/decisions/{draft.pk}/pdf/']").click()
    decision_pdf = open(info.value.path(), "rb").read()
    text = pdf_text(decision_pdf)
    assert "01/QĐ-UBND" in text and "DỰ THẢO" not in text
    with page.expect_download() as info:
        page.locator(f"a[href='/decisions/{draft.pk}/bundle/']").click()
    bundle = zipfile.ZipFile(info.value.path())
    certificates = [n for n in bundle.namelist() if n.startswith("giay-chung-nhan/")]
    assert len(certificates) == 2

    # --- the QR code leads to the public verification page ---------------------------------
    url = qr_of(bundle.read(certificates[0]))
    rating = decision.ratings.get(verification_code=url.rstrip("/").rsplit("/", 1)[-1])
    assert url == f"{base}/xac-minh/{rating.verification_code}/"
    visitor = page.context.browser.new_context(locale="vi-VN")
    public = visitor.new_page()
    public.goto(url)
    expect(public.locator("body")).to_contain_text(rating.product.name)
    expect(public.locator("[data-state]").first).to_have_attribute("data-state", "valid")
    visitor.close()


def test_district_forwarded_dossier_is_in_the_province_intake(page, recognition_demo):
    base = recognition_demo.url
    page.set_default_timeout(20_000)
    arrived = Dossier.objects.get(forwarded_from__isnull=False)
    source = arrived.forwarded_from
    assert arrived.state == DossierState.SUBMITTED
    log_in(page, base, "sonn.cantho")
    page.goto(f"{base}/dossiers/?q={arrived.product.name}")
    link = page.locator(f"#dossier-{arrived.pk} a").first
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(f"{base}/dossiers/{arrived.pk}/")
    block = page.locator("#recognition")
    expect(block).to_contain_text(f"{source.result_score:.2f}".replace(".", ","))
    expect(block.locator(f"a[href='/dossiers/{source.pk}/']")).to_be_visible()
    assert arrived.files.count() == source.files.count() > 0
