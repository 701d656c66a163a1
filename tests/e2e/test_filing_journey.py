"""Filing a complete dossier of 14 papers by clicking only, in fewer than 40 clicks (issue
#13, "Done when"; item 5, "Filing effort").

A current ward officer (``canbo.phuongninhkieu``) logs in and, from the home page: registers
the producer and its product (a community tourism service: criteria set 26 of 26/2026,
whose checklist has 14 lines — no product samples), creates the dossier in the open round
(preselected) with the registration form (Mẫu 01) filled in on the same page, chooses the
papers of the 13 other lines (the self-assessment report, Mẫu 02, as a file: answering its
criteria one click each would not fit), uploads them all with one button, submits, and sees
the dossier submitted.

Every click goes through :class:`Clicks`; typing into a field is not a click, choosing in a
select list is one, choosing files through the file chooser is one (the click that opens
it). The count is printed and must stay under 40.
"""

import re
import warnings

import pytest
from playwright.sync_api import expect

from dossiers.demo import tiny_pdf
from dossiers.models import Dossier, DossierState
from tests.e2e.helpers import keep_screenshot, log_in

from .axe import assert_accessible

MAX_CLICKS = 40
PAPERS = 14
PRODUCT = "Du lịch sinh thái cồn Ninh Kiều"


class Clicks:
    """The one way this journey acts on the page; counts each click."""

    def __init__(self, page):
        self.page, self.count, self.log = page, 0, []

    def click(self, locator, why):
        locator.click()
        self.count += 1
        self.log.append(why)

    def choose(self, locator, why, **option):
        """Pick an option of a select list: one click (the list opened and an option taken
        is one gesture on a phone; counted as one)."""
        locator.select_option(**option)
        self.count += 1
        self.log.append(why)

    def files(self, locator, paths, why):
        """Click a file input and choose ``paths`` in the chooser: one click."""
        with self.page.expect_file_chooser() as chooser:
            locator.click()
        chooser.value.set_files(paths)
        self.count += 1
        self.log.append(why)


def _fits(page, what):
    """On a phone, the page must not scroll sideways; reported as a warning (the pages of the
    dossier are other changes' templates; the role journeys assert it where they may)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"] + 1:
        warnings.warn(f"filing: {what} scrolls sideways ({width}px wide)", stacklevel=2)


def _papers(folder, lines):
    """One small PDF per checklist line (the demo's own tiny PDFs pass the upload checks)."""
    paths = {}
    for index, title in enumerate(lines, start=1):
        path = folder / f"giay-to-{index:02d}.pdf"
        path.write_bytes(tiny_pdf(title))
        paths[title] = str(path)
    return paths


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 800},
                                      {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_ward_officer_files_a_14_paper_dossier_in_under_40_clicks(page, demo_live, tmp_path,
                                                                  viewport):
    base = demo_live.url
    page.set_viewport_size(viewport)
    page.set_default_timeout(15_000)
    log_in(page, base, "canbo.phuongninhkieu")  # the start: the login form (not counted)
    c = Clicks(page)

    # home → new dossier → a new product → a new producer
    c.click(page.locator("#panel-officer").get_by_role("link", name="Tạo hồ sơ mới"),
            "home: new dossier")
    c.click(page.locator("main a[href^='/dossiers/products/new/']"), "add a new product")
    c.click(page.locator("main a[href='/dossiers/producers/new/']"), "add a new producer")
    expect(page).to_have_url(f"{base}/dossiers/producers/new/")
    assert_accessible(page, "producer form")
    _fits(page, "the producer form")

    c.choose(page.locator("#id_type"), "producer type", index=1)
    page.locator("#id_name").fill("Hộ kinh doanh Du lịch cồn Ninh Kiều")
    page.locator("#id_registration_no").fill("1801499001")
    page.locator("#id_representative_name").fill("Trần Văn Cồn")
    c.choose(page.locator("#id_representative_gender"), "gender", index=1)
    page.locator("#id_representative_ethnicity").fill("Kinh")
    page.locator("#id_address").fill("Số 2 đường Hai Bà Trưng, Phường Ninh Kiều")
    c.click(page.locator("main form button[type=submit]").last, "save the producer")
    expect(page).to_have_url(re.compile(r"/dossiers/products/new/\?producer=\d+"))

    # the product: the sets of the open round's regime (26/2026), set 26 (tourism)
    _fits(page, "the product form")
    page.locator("#id_name").fill(PRODUCT)
    set_26 = page.locator("#id_criteria_set option", has_text=re.compile(r"^\s*26\b|· 26 "))
    c.choose(page.locator("#id_criteria_set"), "criteria set 26",
             value=set_26.first.get_attribute("value"))
    c.click(page.locator("main form button[type=submit]").last, "save the product")
    expect(page).to_have_url(re.compile(r"/dossiers/new/\?product=\d+"))

    # the dossier: the open round and the product preselected; Mẫu 01 on the same page
    assert page.locator("#id_round").input_value(), "the only open round is preselected"
    _fits(page, "the dossier form")
    page.locator("#id_production_address").fill(
        "Cồn Ninh Kiều, Phường Ninh Kiều, thành phố Cần Thơ")
    page.locator("#id_product_description").fill(
        "Du lịch sinh thái trên cồn: vườn cây ăn trái, ẩm thực địa phương.")
    page.locator("#id_workers").fill("9")
    c.choose(page.locator("#id_expected_stars"), "stars sought", value="3")
    c.click(page.locator("main form button[type=submit]").last, "create the dossier")
    expect(page).to_have_url(re.compile(r"/dossiers/\d+/$"))
    dossier = Dossier.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert dossier.documents.count() == PAPERS

    # the checklist: Mẫu 01 is given online; choose the papers of the 13 other lines
    lines = page.locator("#checklist li.doc")
    expect(lines).to_have_count(PAPERS)
    expect(page.locator("#checklist .doc-online")).to_have_count(1)
    titles = [t.strip() for t in lines.locator(".doc-title").evaluate_all(
        "els => els.map(e => e.firstChild.textContent)")]
    papers = _papers(tmp_path, titles)
    inputs = page.locator(
        "#checklist li.doc:not(:has(.doc-online)) form.upload input[type=file]")
    expect(inputs).to_have_count(PAPERS - 1)
    for i in range(inputs.count()):
        title = inputs.nth(i).locator("xpath=ancestor::li[1]").locator(
            ".doc-title").evaluate("e => e.firstChild.textContent").strip()
        c.files(inputs.nth(i), papers[title], f"choose the file of “{title}”")
    c.click(page.locator("#checklist-upload button[type=submit]"), "upload all")
    waiting = "#checklist li.doc.doc-state-missing:not(:has(.doc-online))"
    expect(page.locator(waiting)).to_have_count(0, timeout=30_000)
    page.reload()  # the page as it is now (not a click: the upload replaced the list)
    assert_accessible(page, "the dossier with its papers")
    _fits(page, "the dossier page")

    # submit
    c.click(page.locator("#actions").get_by_role("button", name="Nộp hồ sơ", exact=True),
            "submit")
    expect(page.locator("main")).to_contain_text("Đã nộp")
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED
    keep_screenshot(page, f"filing-submitted-{viewport['width']}")

    print(f"\nfiling journey: {c.count} clicks for a dossier of {PAPERS} papers:")
    for n, why in enumerate(c.log, start=1):
        print(f"  {n:2d}. {why}")
    assert c.count < MAX_CLICKS, c.log
