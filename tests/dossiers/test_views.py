"""Officer pages of dossiers: list scoping, filters and search, the dossier page, forms with
their errors, uploads that fail without losing anything, double submits, and the buttons
each user sees.

Three users throughout: the Ninh Kiều officer (owner), the Phong Điền officer (outsider,
whose own data exists too) and the department staff of Cần Thơ (sees both districts).
Messages are asserted in Vietnamese through ``gettext`` under ``translation.override("vi")``
so that the tests stay right when the catalog is completed.
"""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dossiers import services
from dossiers.models import (
    DocumentFile,
    Dossier,
    DossierState,
    Producer,
    RegistrationType,
    SelfAssessmentEntry,
    Transition,
)
from ocop.accounts.models import Role
from scoring.models import Criterion
from tests import factories
from tests.dossiers import PDF_BYTES
from tests.i18n import vi

# 148 district rounds: the tests run on a day 148 was in force (tests/conftest.py)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"

PDF = PDF_BYTES  # a real one-page PDF: uploads are opened by pypdf
#: A Windows program renamed to look like a PDF.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def area(cantho, criteria, make_user):
    return {
        "units": cantho,
        "round_nk": factories.evaluation_round(cantho["ninhkieu"]),
        "round_pd": factories.evaluation_round(cantho["phongdien"]),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"],
                             full_name="Trần Văn Ninh"),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"],
                              full_name="Lê Văn Điền"),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"],
                           full_name="Lê Thị Sở"),
    }


def client_for(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def get(client, url, **extra):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi", **extra)
    return response, response.content.decode()


def post(client, url, data=None, **extra):
    response = client.post(url, data or {}, HTTP_ACCEPT_LANGUAGE="vi", **extra)
    return response, response.content.decode()


def ninhkieu_dossier(area, name="Bưởi Năm Roi", producer_name="Hợp tác xã Bưởi Năm Roi"):
    """A Ninh Kiều dossier made through the services (checklist lines included)."""
    officer = area["officer"]
    producer = factories.producer(area["units"]["ninhkieu"], name=producer_name)
    product = services.create_product(officer, producer=producer, name=name,
                                      criteria_set=factories.criteria_set("148", 9))
    return services.create_dossier(officer, round=area["round_nk"], product=product)


def phongdien_dossier(area):
    return factories.dossier(area["round_pd"], product_name="Khoai lang Phong Điền")


def pdf(name="giay-dang-ky.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def documents(dossier):
    return list(dossier.documents.select_related("item").order_by("item__order"))


def row(html, document_pk):
    """The HTML of one checklist line of the dossier page."""
    start = html.index(f'id="doc-{document_pk}"')
    end = html.find('<li class="doc ', start)
    return html[start:end if end != -1 else html.index("</ol>", start)]


def field_errors(html, field_id):
    """The error texts shown next to the field ``field_id``."""
    match = re.search(rf'<ul class="field-error" id="{field_id}_errors"[^>]*>(.*?)</ul>',
                      html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


# --- list: scoping ---------------------------------------------------------------------------


def test_list_officer_sees_only_own_district(client, area):
    mine = ninhkieu_dossier(area)
    phongdien_dossier(area)

    response, html = get(client_for(client, area["officer"]), "/dossiers/")

    assert response.status_code == 200
    assert "Bưởi Năm Roi" in html
    assert f'href="/dossiers/{mine.pk}/"' in html
    assert "Khoai lang Phong Điền" not in html


def test_list_department_staff_sees_both_districts(client, area):
    ninhkieu_dossier(area)
    phongdien_dossier(area)

    _response, html = get(client_for(client, area["staff"]), "/dossiers/")

    assert "Bưởi Năm Roi" in html
    assert "Khoai lang Phong Điền" in html


def test_list_of_user_without_role_is_empty(client, area, make_user):
    ninhkieu_dossier(area)
    nobody = make_user("khach")

    _response, html = get(client_for(client, nobody), "/dossiers/")

    assert "Bưởi" not in html
    assert vi("No dossier in your area yet.") in html
    assert 'href="/dossiers/new/"' not in html


def test_list_requires_login(client, area):
    response = client.get("/dossiers/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- list: search and filters -------------------------------------------------------------------


@pytest.mark.parametrize("query", ["buoi nam roi", "BƯỞI", "Nam Roi", "roi   BUOI"])
def test_search_is_accent_and_case_insensitive(client, area, query):
    ninhkieu_dossier(area)
    ninhkieu_dossier(area, name="Khô cá lóc", producer_name="Hộ kinh doanh Cá Lóc")

    _response, html = get(client_for(client, area["officer"]), "/dossiers/", data={"q": query})

    assert "Bưởi Năm Roi" in html
    assert "Khô cá lóc" not in html


def test_search_finds_the_producer_name(client, area):
    ninhkieu_dossier(area, name="Khô cá lóc", producer_name="Hộ kinh doanh Cá Lóc Đồng")
    ninhkieu_dossier(area)

    _response, html = get(client_for(client, area["officer"]), "/dossiers/",
                          data={"q": "ca loc dong"})

    assert "Khô cá lóc" in html
    assert "Bưởi Năm Roi" not in html


def test_filters_state_round_type_and_criteria_set(client, area):
    units = area["units"]
    other_round = factories.evaluation_round(units["ninhkieu"])
    factories.dossier(area["round_nk"], product_name="Nước mắm đang soạn")
    factories.dossier(area["round_nk"], product_name="Nước mắm đã nộp", state="submitted")
    factories.dossier(other_round, product_name="Nước mắm đợt khác",
                      registration_type=RegistrationType.REEVALUATION)
    c = client_for(client, area["officer"])

    _r, by_state = get(c, "/dossiers/", data={"state": "submitted"})
    _r, by_round = get(c, "/dossiers/", data={"round": other_round.pk})
    _r, by_type = get(c, "/dossiers/", data={"registration_type": "reevaluation"})
    cs = factories.criteria_set("148", 9)
    _r, by_set = get(c, "/dossiers/", data={"criteria_set": cs.pk, "q": "nuoc mam"})

    assert "Nước mắm đã nộp" in by_state
    assert "Nước mắm đang soạn" not in by_state and "Nước mắm đợt khác" not in by_state
    assert "Nước mắm đợt khác" in by_round and "Nước mắm đã nộp" not in by_round
    assert "Nước mắm đợt khác" in by_type and "Nước mắm đang soạn" not in by_type
    assert all(name in by_set for name in
               ("Nước mắm đang soạn", "Nước mắm đã nộp", "Nước mắm đợt khác"))
    # the filter form shows what was chosen
    assert '<option value="submitted" selected>' in by_state


def test_overdue_rows_are_marked_and_filterable(client, area):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    late = factories.dossier(area["round_nk"], product_name="Mật ong trễ hạn",
                             state="submitted", due_date=yesterday)
    factories.dossier(area["round_nk"], product_name="Mật ong đúng hạn", state="submitted",
                      due_date=next_week)
    # a returned dossier is with the producer: never overdue
    factories.dossier(area["round_nk"], product_name="Mật ong trả lại", state="returned",
                      due_date=yesterday)
    c = client_for(client, area["officer"])

    _r, html = get(c, "/dossiers/")
    _r, only_overdue = get(c, "/dossiers/", data={"overdue": "1"})

    row = re.search(rf'<tr id="dossier-{late.pk}" class="overdue">(.*?)</tr>', html, re.S)
    assert row and vi("Overdue") in row.group(1)
    assert yesterday.strftime("%d/%m/%Y") in row.group(1)
    assert html.count('class="overdue"') == 1
    assert "Mật ong trễ hạn" in only_overdue
    assert "Mật ong đúng hạn" not in only_overdue
    assert "Mật ong trả lại" not in only_overdue


def test_unusable_filter_is_reported_and_ignored(client, area):
    ninhkieu_dossier(area)

    response, html = get(client_for(client, area["officer"]), "/dossiers/",
                         data={"round": "abc", "state": "nonsense"})

    assert response.status_code == 200
    assert "Bưởi Năm Roi" in html
    assert vi("Some filters could not be used and were ignored:") in html


def test_foreign_round_is_not_a_filter_choice(client, area):
    ninhkieu_dossier(area)
    phongdien_dossier(area)

    _r, html = get(client_for(client, area["officer"]), "/dossiers/",
                   data={"round": area["round_pd"].pk})

    rounds = re.search(r'<select name="round".*?</select>', html, re.S).group(0)
    assert f'<option value="{area["round_nk"].pk}"' in rounds
    assert f'<option value="{area["round_pd"].pk}"' not in rounds
    assert "Phong Điền" not in rounds
    assert "Khoai lang Phong Điền" not in html


def test_htmx_filter_answers_the_results_only(client, area):
    ninhkieu_dossier(area)

    _r, html = get(client_for(client, area["officer"]), "/dossiers/", data={"q": "buoi"},
                   HTTP_HX_REQUEST="true")

    assert "<html" not in html
    assert "Bưởi Năm Roi" in html
    assert '<table class="dossiers">' in html


def test_list_paginates_fifty_per_page(client, area):
    for i in range(51):
        factories.dossier(area["round_nk"], product_name=f"Trà số {i:02d}")
    c = client_for(client, area["officer"])

    _r, first = get(c, "/dossiers/", data={"q": "tra"})
    _r, second = get(c, "/dossiers/", data={"q": "tra", "page": 2})

    assert first.count('<tr id="dossier-') == 50
    assert second.count('<tr id="dossier-') == 1
    assert 'href="?q=tra&amp;page=2"' in first


# --- scoping of every page and action -----------------------------------------------------------


def test_outsider_gets_404_on_every_page_download_and_action(client, area):
    dossier = ninhkieu_dossier(area)
    line = documents(dossier)[0]
    stored = services.upload_file(area["officer"], dossier, pdf(), document=line)
    phongdien_dossier(area)
    c = client_for(client, area["outsider"])
    base = f"/dossiers/{dossier.pk}"

    pages = [f"{base}/", f"{base}/registration/", f"{base}/self-assessment/",
             f"{base}/return/", f"{base}/pre-assessment/", f"{base}/withdraw/",
             f"/dossiers/files/{stored.pk}/"]
    posts = [f"{base}/submit/", f"{base}/accept/", f"{base}/resubmit/",
             f"{base}/start_evaluation/", f"{base}/return/", f"{base}/withdraw/",
             f"{base}/pre-assessment/", f"{base}/registration/", f"{base}/samples/",
             f"{base}/self-assessment/", f"{base}/documents/{line.pk}/upload/",
             f"{base}/documents/{line.pk}/review/", f"{base}/files/{stored.pk}/remove/"]
    for url in pages:
        response, html = get(c, url)
        assert response.status_code == 404, url
        assert "Bưởi" not in html and "%PDF" not in html, url
        assert vi("Page not found") in html, url
    for url in posts:
        response, html = post(c, url, {"reason": "x", "file": pdf(), "samples_count": 5,
                                       "samples_received_on": "2024-06-01"})
        assert response.status_code == 404, url
        assert "Bưởi" not in html, url

    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT
    assert dossier.samples_count is None
    assert list(dossier.files.values_list("pk", flat=True)) == [stored.pk]
    assert not dossier.transitions.exclude(to_state=DossierState.DRAFT).exists()


def test_department_staff_opens_a_ninhkieu_dossier_and_its_file(client, area):
    dossier = ninhkieu_dossier(area)
    stored = services.upload_file(area["officer"], dossier, pdf("Giấy phép.pdf"),
                                  document=documents(dossier)[0])
    c = client_for(client, area["staff"])

    page, html = get(c, f"/dossiers/{dossier.pk}/")
    download = c.get(f"/dossiers/files/{stored.pk}/")

    assert page.status_code == 200 and "Bưởi Năm Roi" in html
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


# --- dossier page ---------------------------------------------------------------------------


def test_dossier_page_shows_checklist_files_and_timeline(client, area):
    dossier = ninhkieu_dossier(area)
    lines = documents(dossier)
    services.upload_file(area["officer"], dossier, pdf("Giấy đăng ký kinh doanh.pdf"),
                         document=lines[0])

    _r, html = get(client_for(client, area["officer"]), f"/dossiers/{dossier.pk}/")

    for line in lines:
        assert f'id="doc-{line.pk}"' in html
        assert line.item.title in html
    assert "Giấy đăng ký kinh doanh.pdf" in html
    assert "/media/" not in html
    timeline = html[html.index('id="timeline"'):]
    assert vi("Draft") in timeline and "Trần Văn Ninh" in timeline


def test_download_streams_the_file_with_its_original_name(client, area):
    dossier = ninhkieu_dossier(area)
    stored = services.upload_file(area["officer"], dossier, pdf("Giấy phép kinh doanh.pdf"),
                                  document=documents(dossier)[0])

    response = client_for(client, area["officer"]).get(f"/dossiers/files/{stored.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''Gi%E1%BA%A5y%20ph%C3%A9p%20kinh%20doanh.pdf" in disposition
    assert "/media/" not in disposition and stored.stored_name not in disposition


def test_upload_attaches_the_file_and_redirects_to_its_line(client, area):
    dossier = ninhkieu_dossier(area)
    line = documents(dossier)[2]
    c = client_for(client, area["officer"])

    response = c.post(f"/dossiers/{dossier.pk}/documents/{line.pk}/upload/",
                      {f"doc{line.pk}-file": pdf("Chứng nhận ATTP.pdf")})
    _r, html = get(c, f"/dossiers/{dossier.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/dossiers/{dossier.pk}/#doc-{line.pk}"
    assert line.files.get().original_name == "Chứng nhận ATTP.pdf"
    assert "Chứng nhận ATTP.pdf" in row(html, line.pk)


def test_renamed_executable_is_refused_and_nothing_else_changes(client, area):
    dossier = ninhkieu_dossier(area)
    first, second = documents(dossier)[:2]
    c = client_for(client, area["officer"])
    c.post(f"/dossiers/{dossier.pk}/documents/{first.pk}/upload/",
           {f"doc{first.pk}-file": pdf("Phiếu đăng ký.pdf")})

    response, html = post(c, f"/dossiers/{dossier.pk}/documents/{second.pk}/upload/",
                          {f"doc{second.pk}-file": pdf("bao-cao.pdf", EXE)})

    assert response.status_code == 200
    refusal = vi("The file “%(name)s” is a program or a script, not a document, and was "
                 "refused. Only PDF, JPEG, PNG, DOCX and XLSX files are accepted.",
                 name="bao-cao.pdf")
    assert refusal in row(html, second.pk)
    # the file already attached to the other line is still listed, nothing new was stored
    assert "Phiếu đăng ký.pdf" in html
    assert DocumentFile.objects.filter(dossier=dossier).count() == 1
    assert not second.files.exists()


def test_renamed_executable_through_htmx_answers_the_line_with_the_error(client, area):
    dossier = ninhkieu_dossier(area)
    line = documents(dossier)[1]

    _r, html = post(client_for(client, area["officer"]),
                    f"/dossiers/{dossier.pk}/documents/{line.pk}/upload/",
                    {f"doc{line.pk}-file": pdf("setup.pdf", EXE)}, HTTP_HX_REQUEST="true")

    assert html.lstrip().startswith('<li class="doc doc-state-')
    assert f'id="doc-{line.pk}"' in html
    assert "setup.pdf" in html and 'class="field-error"' in html
    assert not line.files.exists()


def test_samples_form_error_keeps_the_typed_values(client, area):
    dossier = ninhkieu_dossier(area)
    c = client_for(client, area["officer"])

    response, html = post(c, f"/dossiers/{dossier.pk}/samples/",
                          {"samples_count": "5", "samples_received_on": "31/02/2024"})
    ok = c.post(f"/dossiers/{dossier.pk}/samples/",
                {"samples_count": "5", "samples_received_on": "02/06/2024"})

    assert response.status_code == 200
    assert field_errors(html, "id_samples_received_on") == [vi("Enter a valid date.")]
    assert 'name="samples_count" value="5"' in html
    assert ok.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.samples_count, dossier.samples_received_on) == (
        5, datetime.date(2024, 6, 2))


# --- creating ------------------------------------------------------------------------------------


def test_create_dossier_errors_are_shown_next_to_the_field_in_vietnamese(client, area):
    producer = factories.producer(area["units"]["ninhkieu"], name="Hợp tác xã Mắm Cái")
    product = services.create_product(area["officer"], producer=producer, name="Mắm cá linh",
                                      criteria_set=factories.criteria_set("148", 9))
    c = client_for(client, area["officer"])

    response, html = post(c, "/dossiers/new/", {
        "round": area["round_nk"].pk, "product": product.pk, "registration_type": "first",
        "production_address": "", "workers": "mười hai",
        "markets": "Chợ Cái Răng, siêu thị Co.opmart",
    })

    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert field_errors(html, "id_production_address") == [vi("This field is required.")]
    assert field_errors(html, "id_workers") == [vi("Enter a whole number.")]
    # the user's input is kept
    assert "Chợ Cái Răng, siêu thị Co.opmart</textarea>" in html
    assert f'<option value="{product.pk}" selected>' in html
    assert not Dossier.objects.exists()


def test_create_dossier_then_page_shows_registration_and_checklist(client, area):
    producer = factories.producer(area["units"]["ninhkieu"], name="Hợp tác xã Mắm Cái")
    product = services.create_product(area["officer"], producer=producer, name="Mắm cá linh",
                                      criteria_set=factories.criteria_set("148", 9))
    c = client_for(client, area["officer"])

    response = c.post("/dossiers/new/", {
        "round": area["round_nk"].pk, "product": product.pk, "registration_type": "first",
        "production_address": "Ấp Mỹ Ái, phường An Bình", "workers": "12",
        "annual_capacity": "20 tấn/năm",
    })
    dossier = Dossier.objects.get()
    _r, html = get(c, response["Location"])

    assert response["Location"] == f"/dossiers/{dossier.pk}/"
    assert dossier.registration["production_address"] == "Ấp Mỹ Ái, phường An Bình"
    assert dossier.registration["workers"] == 12
    assert "20 tấn/năm" in html and "Ấp Mỹ Ái, phường An Bình" in html
    assert "Phiếu đăng ký sản phẩm (Mẫu 01)" in html


def test_create_dossier_refuses_a_foreign_product(client, area):
    foreign = phongdien_dossier(area).product

    response, html = post(client_for(client, area["officer"]), "/dossiers/new/", {
        "round": area["round_nk"].pk, "product": foreign.pk, "registration_type": "first",
        "production_address": "Ấp 1"})

    assert response.status_code == 200
    assert field_errors(html, "id_product") == [vi(
        "Select a valid choice. That choice is not one of the available choices.")]
    assert "Khoai lang Phong Điền" not in html
    assert Dossier.objects.count() == 1


def test_create_producer_normalises_the_number_and_reports_a_bad_one(client, area):
    c = client_for(client, area["officer"])
    data = {"type": "cooperative", "name": "Hợp tác xã  Bưởi   Phong Điền",
            "registration_no": "18 0123 45", "representative_name": "Nguyễn Văn Bé",
            "representative_gender": "male", "representative_ethnicity": "Kinh",
            "address": "Ấp Thới Bình", "unit": area["units"]["ninhkieu"].pk}

    bad, html = post(c, "/dossiers/producers/new/", data)
    good = c.post("/dossiers/producers/new/", {**data, "registration_no": "1801 234.567"})

    assert bad.status_code == 200
    errors = field_errors(html, "id_registration_no")
    assert len(errors) == 1 and "“18012345”" in errors[0]
    assert 'value="Ấp Thới Bình"' in html
    assert good.status_code == 302
    producer = Producer.objects.get()
    assert producer.registration_no == "1801234567"
    assert producer.name == "Hợp tác xã Bưởi Phong Điền"
    assert good["Location"] == f"/dossiers/products/new/?producer={producer.pk}"


def test_officer_cannot_create_a_producer_outside_the_area(client, area):
    c = client_for(client, area["officer"])

    response, html = post(c, "/dossiers/producers/new/", {
        "type": "cooperative", "name": "HTX lạ", "registration_no": "1801234567",
        "representative_name": "A", "representative_gender": "male",
        "representative_ethnicity": "Kinh", "address": "Ấp 1",
        "unit": area["units"]["phongdien"].pk})

    assert response.status_code == 200
    assert field_errors(html, "id_unit")
    assert f'<option value="{area["units"]["phongdien"].pk}"' not in html


# --- self-assessment (Mẫu 02) --------------------------------------------------------------


def test_self_assessment_saves_choices_and_a_refused_evidence_loses_nothing(client, area):
    dossier = ninhkieu_dossier(area)
    first, second = Criterion.objects.filter(criteria_set=dossier.criteria_set).order_by(
        "order")[:2]
    option_a = first.options.order_by("order").last()
    option_b = second.options.order_by("order").first()
    c = client_for(client, area["officer"])

    response, html = post(c, f"/dossiers/{dossier.pk}/self-assessment/", {
        f"c{first.pk}": option_a.pk, f"note{first.pk}": "Có hợp đồng với 12 hộ dân",
        f"evidence{first.pk}": pdf("hop-dong.pdf", EXE),
        f"c{second.pk}": option_b.pk, f"evidence{second.pk}": pdf("bien-ban.pdf"),
    })

    assert response.status_code == 400
    entries = {e.criterion_id: e for e in SelfAssessmentEntry.objects.filter(dossier=dossier)}
    assert entries[first.pk].option_id == option_a.pk
    assert entries[first.pk].note == "Có hợp đồng với 12 hộ dân"
    assert entries[first.pk].evidence is None
    assert entries[second.pk].evidence.original_name == "bien-ban.pdf"
    # the page shows the choices and the note again, the refusal next to the file
    assert re.search(rf'value="{option_a.pk}" id="[^"]+" checked', html)
    assert 'value="Có hợp đồng với 12 hộ dân"' in html
    block = html[html.index(f'id="criterion-{first.pk}"'):]
    block = block[:block.index("</fieldset>")]
    assert "hop-dong.pdf" in block and vi("Choose the file again.") in block
    assert "bien-ban.pdf" in html


def test_self_assessment_page_of_a_submitted_dossier_is_read_only(client, area):
    dossier = factories.dossier(area["round_nk"], product_name="Bưởi đã nộp",
                                state="submitted")

    _r, html = get(client_for(client, area["officer"]), f"/dossiers/{dossier.pk}/self-assessment/")

    assert vi("You cannot change the self-assessment of this dossier now.") in html
    assert 'type="file"' not in html
    assert vi("Save the self-assessment") not in html


# --- workflow ---------------------------------------------------------------------------------


def complete(dossier, user):
    """Everything ``submit`` asks for: a file on each required line and the samples."""
    for line in documents(dossier):
        if line.item.code != "samples" and line.item.required:
            services.upload_file(user, dossier, pdf(f"{line.item.code}.pdf"), document=line)
    services.update_dossier(user, dossier, samples_count=5,
                            samples_received_on=datetime.date(2024, 6, 1))
    dossier.refresh_from_db()
    return dossier


def test_double_submit_makes_one_transition(client, area):
    dossier = complete(ninhkieu_dossier(area), area["officer"])
    c = client_for(client, area["officer"])

    first = c.post(f"/dossiers/{dossier.pk}/submit/")
    second, html = post(c, f"/dossiers/{dossier.pk}/submit/", follow=True)

    assert first.status_code == 302
    assert Transition.objects.filter(dossier=dossier,
                                     to_state=DossierState.SUBMITTED).count() == 1
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED
    assert vi("This dossier has already been submitted; it was not submitted again.") in html


def test_refused_submit_shows_the_service_message(client, area):
    dossier = ninhkieu_dossier(area)

    response, html = post(client_for(client, area["officer"]),
                          f"/dossiers/{dossier.pk}/submit/", follow=True)

    assert response.redirect_chain[-1][0] == f"/dossiers/{dossier.pk}/"
    assert 'class="msg error"' in html
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT


def test_submit_button_disables_itself_on_the_client(client, area):
    dossier = ninhkieu_dossier(area)

    _r, html = get(client_for(client, area["officer"]), f"/dossiers/{dossier.pk}/")

    assert f'action="/dossiers/{dossier.pk}/submit/"' in html
    assert "form.dataset.sent" in html and "b.disabled = true" in html


def test_buttons_follow_the_allowed_actions(client, area, make_user):
    draft = ninhkieu_dossier(area)
    submitted = factories.dossier(area["round_nk"], product_name="Bưởi đã nộp",
                                  state="submitted")
    # a 26/2026 provincial round: nobody starts the evaluation from the page (the council
    # does, when the dossier is put on a session's agenda), not even the province's staff
    province_round = factories.evaluation_round(area["units"]["province"], "26/2026",
                                                admin_level="province")
    pre_assessed = factories.dossier(province_round, area["units"]["ninhkieu"], set_no=1,
                                     product_name="Rau đã đánh giá", state="pre_assessed")
    officer = client_for(client, area["officer"])

    _r, on_draft = get(officer, f"/dossiers/{draft.pk}/")
    _r, on_submitted = get(officer, f"/dossiers/{submitted.pk}/")
    _r, officer_pre = get(officer, f"/dossiers/{pre_assessed.pk}/")
    staff = client_for(client, area["staff"])
    _r, staff_pre = get(staff, f"/dossiers/{pre_assessed.pk}/")
    outsider = client_for(client, area["outsider"])
    outsider_page = outsider.get(f"/dossiers/{pre_assessed.pk}/")

    def has(html, dossier, action):
        return f'action="/dossiers/{dossier.pk}/{action}/"' in html

    assert has(on_draft, draft, "submit")
    assert not has(on_draft, draft, "accept")
    assert f'href="/dossiers/{draft.pk}/registration/"' in on_draft
    assert 'type="file"' in on_draft
    assert has(on_submitted, submitted, "accept")
    assert f'href="/dossiers/{submitted.pk}/return/"' in on_submitted
    assert not has(on_submitted, submitted, "submit")
    assert 'type="file"' not in on_submitted
    for html in (officer_pre, staff_pre):
        assert not has(html, pre_assessed, "start_evaluation")
        assert not has(html, pre_assessed, "record_result")
        assert vi("Start the evaluation") not in html
        # what they may still do before the evaluation is there
        assert f'href="/dossiers/{pre_assessed.pk}/withdraw/"' in html
    assert outsider_page.status_code == 404


def test_return_for_completion_needs_a_reason_then_shows_it_on_the_line(client, area):
    dossier = complete(ninhkieu_dossier(area), area["officer"])
    services.submit(area["officer"], dossier)
    line = documents(dossier)[3]
    c = client_for(client, area["staff"])

    empty, html = post(c, f"/dossiers/{dossier.pk}/return/", {"note": "Bổ sung"})
    done = c.post(f"/dossiers/{dossier.pk}/return/",
                  {f"reason{line.pk}": "Giấy chứng nhận ATTP đã hết hạn", "note": "Bổ sung"})
    _r, page = get(c, f"/dossiers/{dossier.pk}/")

    assert empty.status_code == 200
    assert vi("Give a reason for at least one checklist item, so that the producer knows "
              "what to complete.") in html
    assert "Bổ sung</textarea>" in html
    assert done.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RETURNED
    assert "Giấy chứng nhận ATTP đã hết hạn" in row(page, line.pk)


def test_pre_assessment_form_has_four_items_under_26_2026_and_a_conclusion_under_148(
        client, area):
    province_round = factories.evaluation_round(area["units"]["province"], "26/2026",
                                                admin_level="province")
    commune_case = factories.dossier(province_round, area["units"]["ninhkieu"], set_no=1,
                                     product_name="Rau muống", state="accepted")
    district_case = factories.dossier(area["round_nk"], product_name="Nước mắm",
                                      state="accepted")
    c = client_for(client, area["officer"])

    _r, form_03 = get(c, f"/dossiers/{commune_case.pk}/pre-assessment/")
    _r, form_148 = get(c, f"/dossiers/{district_case.pk}/pre-assessment/")
    invalid, errors = post(c, f"/dossiers/{commune_case.pk}/pre-assessment/",
                           {"raw_materials": "Rau trồng tại địa phương"})

    assert 'name="raw_materials_verdict"' in form_03 and 'name="local_identity"' in form_03
    assert 'name="conclusion"' in form_148 and 'name="raw_materials"' not in form_148
    assert invalid.status_code == 200
    assert "Rau trồng tại địa phương</textarea>" in errors
    assert field_errors(errors, "id_conclusion") == [vi("This field is required.")]


def test_pre_assessment_is_recorded_and_shown(client, area):
    dossier = factories.dossier(area["round_nk"], product_name="Nước mắm", state="accepted")
    c = client_for(client, area["officer"])

    response = c.post(f"/dossiers/{dossier.pk}/pre-assessment/",
                      {"conclusion": "Đủ điều kiện đưa vào đánh giá cấp huyện"})
    _r, html = get(c, f"/dossiers/{dossier.pk}/")

    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.PRE_ASSESSED
    assert "Đủ điều kiện đưa vào đánh giá cấp huyện" in html


def test_withdraw_needs_a_reason(client, area):
    dossier = ninhkieu_dossier(area)
    c = client_for(client, area["officer"])

    empty, html = post(c, f"/dossiers/{dossier.pk}/withdraw/", {"reason": "  "})
    done = c.post(f"/dossiers/{dossier.pk}/withdraw/", {"reason": "Chủ thể xin rút"})

    assert field_errors(html, "id_reason") == [vi("This field is required.")]
    assert done.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.WITHDRAWN
    assert dossier.transitions.get(to_state=DossierState.WITHDRAWN).reason == "Chủ thể xin rút"


def test_form_page_of_an_unavailable_action_goes_back_with_a_message(client, area):
    dossier = ninhkieu_dossier(area)

    response, html = get(client_for(client, area["officer"]),
                         f"/dossiers/{dossier.pk}/return/", follow=True)

    assert response.redirect_chain[-1][0] == f"/dossiers/{dossier.pk}/"
    assert vi("This action is not available for this dossier now.") in html


def test_document_review_needs_a_reason_to_reject(client, area):
    dossier = complete(ninhkieu_dossier(area), area["officer"])
    services.submit(area["officer"], dossier)
    line = documents(dossier)[4]
    c = client_for(client, area["staff"])
    url = f"/dossiers/{dossier.pk}/documents/{line.pk}/review/"

    refused, html = post(c, url, {f"review{line.pk}-state": "rejected"})
    inline, fragment = post(c, url, {f"review{line.pk}-state": "rejected",
                                     f"review{line.pk}-reason": "Bản chụp bị mờ"},
                            HTTP_HX_REQUEST="true")

    assert refused.status_code == 200
    assert vi("Please give the reason for rejecting this document.") in row(html, line.pk)
    assert "<html" not in fragment
    assert "Bản chụp bị mờ" in fragment and vi("Saved.") in fragment
    line.refresh_from_db()
    assert (line.state, line.reason) == ("rejected", "Bản chụp bị mờ")


def test_form_pages_show_their_fields(client, area):
    dossier = ninhkieu_dossier(area)
    producer = dossier.product.producer
    c = client_for(client, area["officer"])

    _r, new_dossier = get(c, f"/dossiers/new/?product={dossier.product_id}")
    _r, new_producer = get(c, "/dossiers/producers/new/")
    _r, new_product = get(c, f"/dossiers/products/new/?producer={producer.pk}")
    _r, registration = get(c, f"/dossiers/{dossier.pk}/registration/")
    _r, self_assessment = get(c, f"/dossiers/{dossier.pk}/self-assessment/")
    _r, withdraw = get(c, f"/dossiers/{dossier.pk}/withdraw/")

    assert 'name="production_address"' in new_dossier and 'name="round"' in new_dossier
    assert f'<option value="{dossier.product_id}" selected>' in new_dossier
    # the only area of a district officer is preselected
    assert f'<option value="{area["units"]["ninhkieu"].pk}" selected>' in new_producer
    assert "Phong Điền" not in new_producer
    assert f'<option value="{producer.pk}" selected>' in new_product
    assert 'name="markets"' in registration
    assert self_assessment.count('type="radio"') >= 32
    assert self_assessment.count('type="file"') == 32
    assert 'name="reason"' in withdraw


def test_htmx_upload_to_a_returned_line_answers_the_updated_line(client, area):
    dossier = complete(ninhkieu_dossier(area), area["officer"])
    services.submit(area["officer"], dossier)
    line = documents(dossier)[3]
    services.return_for_completion(area["staff"], dossier,
                                   reasons={line.pk: "Giấy chứng nhận đã hết hạn"})

    _r, html = post(client_for(client, area["officer"]),
                    f"/dossiers/{dossier.pk}/documents/{line.pk}/upload/",
                    {f"doc{line.pk}-file": pdf("Giấy chứng nhận mới.pdf")},
                    HTTP_HX_REQUEST="true")

    assert "<html" not in html
    assert "Giấy chứng nhận mới.pdf" in html
    assert f'<span class="doc-submitted">{vi("Submitted")}' in html
    assert "Giấy chứng nhận đã hết hạn" not in html
    assert vi("Saved.") in html


def test_dossier_search_varies_on_htmx_and_a_history_restore_gets_the_full_page(client, area):
    """The search answers a fragment to htmx and the whole page otherwise, under the same
    URL: ``Vary`` names the htmx headers, so that the browser's Back button never shows a
    cached bare fragment; htmx's history restore (sent with ``HX-Request`` too) gets the
    full page."""
    ninhkieu_dossier(area)
    c = client_for(client, area["officer"])
    search = {"q": "buoi nam roi"}

    page, page_html = get(c, "/dossiers/", data=search)
    fragment, fragment_html = get(c, "/dossiers/", data=search, HTTP_HX_REQUEST="true")
    restore, restore_html = get(c, "/dossiers/", data=search, HTTP_HX_REQUEST="true",
                                HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    for response in (page, fragment, restore):
        vary = {h.strip().lower() for h in response.get("Vary", "").split(",")}
        assert {"hx-request", "hx-history-restore-request"} <= vary
    assert "<html" in page_html and 'id="results"' in page_html
    assert "<html" not in fragment_html and 'id="results"' not in fragment_html
    assert "Bưởi Năm Roi" in fragment_html
    assert "<html" in restore_html and 'id="results"' in restore_html
    assert "Bưởi Năm Roi" in restore_html
