"""The register import pages (docs/register-import.md): department staff upload, read the
dry run, confirm, download the error file and the template; others are refused."""

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dossiers.models import ImportState, Rating, RegisterImport
from ocop.accounts.models import Role
from tests.dossiers.test_register_import import BAD, GOOD, csv_file

pytestmark = pytest.mark.usefixtures("criteria")


@pytest.fixture
def staff(cantho, make_user):
    return make_user("sonn.test", Role.DEPARTMENT_STAFF, cantho["province"])


def upload(client, rows, capture):
    with capture(execute=True):
        return client.post(reverse("imports:list"), {"file": csv_file(rows)})


def test_upload_check_confirm_and_download(client, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    page = client.get(reverse("ratings:list"))
    assert reverse("imports:list") in page.content.decode()  # reached from the register
    response = upload(client, GOOD + BAD, django_capture_on_commit_callbacks)
    register_import = RegisterImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[register_import.pk])
    report = client.get(response["Location"]).content.decode()
    assert "Bưởi Năm Roi" in report and "Sao bảy" in report
    assert reverse("imports:confirm", args=[register_import.pk]) in report
    assert not Rating.objects.exists()

    errors = client.get(reverse("imports:errors", args=[register_import.pk]))
    sheet = load_workbook(__import__("io").BytesIO(b"".join(errors.streaming_content)))
    assert sheet.worksheets[0].max_row == 1 + len(BAD)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[register_import.pk]))
    register_import.refresh_from_db()
    assert register_import.state == ImportState.DONE
    assert Rating.objects.count() == len(GOOD)
    refused = client.get(reverse("imports:detail", args=[register_import.pk]),
                         {"outcome": "refused"}).content.decode()
    assert "Sao bảy" in refused and "Bưởi Năm Roi</a>" not in refused


def test_status_part_polls_and_refreshes_when_done(client, staff,
                                                   django_capture_on_commit_callbacks):
    client.force_login(staff)
    upload(client, GOOD, django_capture_on_commit_callbacks)
    register_import = RegisterImport.objects.get()
    RegisterImport.objects.filter(pk=register_import.pk).update(state=ImportState.RUNNING,
                                                                rows_done=1)
    url = reverse("imports:detail", args=[register_import.pk])
    part = client.get(url, {"part": "status"}, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in part.content.decode()
    assert "HX-Refresh" not in part
    RegisterImport.objects.filter(pk=register_import.pk).update(state=ImportState.DONE)
    part = client.get(url, {"part": "status"}, HTTP_HX_REQUEST="true")
    assert part["HX-Refresh"] == "true"


def test_wrong_columns_are_said_and_nothing_kept(client, staff):
    client.force_login(staff)
    response = client.post(reverse("imports:list"),
                           {"file": csv_file([], headers=["Tên sản phẩm", "Chủ thể", "TT"])})
    assert response.status_code == 400
    assert "Hạng sao" in response.content.decode()
    assert not RegisterImport.objects.exists()


def test_template_download(client, staff):
    client.force_login(staff)
    response = client.get(reverse("imports:template"))
    sheet = load_workbook(__import__("io").BytesIO(b"".join(response.streaming_content)))
    header = [c.value for c in sheet.worksheets[0][2]]
    assert "Số quyết định" in header and "Hạng sao" in header


def test_officers_are_refused_and_other_provinces_see_404(client, staff, cantho, make_user,
                                                         django_capture_on_commit_callbacks):
    client.force_login(staff)
    upload(client, GOOD, django_capture_on_commit_callbacks)
    register_import = RegisterImport.objects.get()
    officer = make_user("canbo.test", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    client.force_login(officer)
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.post(reverse("imports:confirm", args=[register_import.pk])).status_code == 403
    from ocop.regions.models import AdministrativeUnit

    elsewhere = AdministrativeUnit.objects.create(level="province", code="99",
                                                  name="Tỉnh Thử Nghiệm")
    other = make_user("sonn.khac", Role.DEPARTMENT_STAFF, elsewhere)
    client.force_login(other)
    assert client.get(reverse("imports:detail", args=[register_import.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[register_import.pk])).status_code == 404
    register_import.refresh_from_db()
    assert register_import.state == ImportState.CHECKED
