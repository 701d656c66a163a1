"""The commune assessment report (Mẫu 03) printed as PDF from the dossier page."""

import io

import pytest
from pypdf import PdfReader

from dossiers.models import AssessmentVerdict, PreAssessment
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories

pytestmark = pytest.mark.django_db


def pdf_text(response):
    return " ".join((page.extract_text() or "") for page in
                    PdfReader(io.BytesIO(b"".join(response.streaming_content
                                                  if response.streaming else
                                                  [response.content]))).pages)


@pytest.fixture
def assessed(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().get(level=Level.COMMUNE,
                                                       name="Xã Phong Điền")
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    dossier = factories.dossier(round_, commune, set_no=1, state="pre_assessed",
                                product_name="Bưởi Năm Roi Phong Điền")
    PreAssessment.objects.create(
        dossier=dossier, assessed_by=staff,
        raw_materials="Bưởi trồng tại xã", raw_materials_verdict=AssessmentVerdict.MET,
        labour="12 lao động địa phương", labour_verdict=AssessmentVerdict.MET,
        idea_origin="Ý tưởng của hợp tác xã", idea_origin_verdict=AssessmentVerdict.MET,
        local_identity="Đặc sản Phong Điền", local_identity_verdict=AssessmentVerdict.MET,
        conclusion="Đủ điều kiện chuyển cấp tỉnh đánh giá.")
    return {"staff": staff, "dossier": dossier}


def test_mau_03_pdf_holds_the_four_items_and_conclusion(client, assessed):
    client.force_login(assessed["staff"])
    response = client.get(f"/dossiers/{assessed['dossier'].pk}/pre-assessment.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response).split())
    for expected in ("ỦY BAN NHÂN DÂN", "XÃ PHONG ĐIỀN", "BÁO CÁO", "Bưởi Năm Roi Phong Điền",
                     "Nguồn nguyên liệu tại địa phương", "Sử dụng lao động tại địa phương",
                     "Nguồn gốc ý tưởng sản phẩm", "Tính đặc trưng, bản sắc địa phương",
                     "Đủ điều kiện chuyển cấp tỉnh đánh giá."):
        assert expected in text


def test_mau_03_pdf_is_404_for_other_areas_and_before_assessment(client, assessed, cantho,
                                                                 make_user):
    outsider = make_user("pd", Role.LOCAL_OFFICER, cantho["phongdien"])
    client.force_login(outsider)
    assert client.get(
        f"/dossiers/{assessed['dossier'].pk}/pre-assessment.pdf").status_code == 404
    PreAssessment.objects.all().delete()
    client.force_login(assessed["staff"])
    assert client.get(
        f"/dossiers/{assessed['dossier'].pk}/pre-assessment.pdf").status_code == 404
