"""Inspections after recognition (docs/ratings-lifecycle.md, "Inspections"): the rules, the
services (plans and their products due, inspections of a product or an area, findings per
criterion, conclusions, files), the pages and the API, for the owner (department staff of
Cần Thơ), a colleague (a commune officer of the same area) and an outsider (staff of
another province whose own data exists)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation

from dossiers import inspections, rules
from dossiers.demo import tiny_pdf
from dossiers.models import (
    Inspection,
    InspectionConclusion,
    InspectionFile,
    InspectionFinding,
    InspectionKind,
    InspectionPlan,
    InspectionState,
    Producer,
    Rating,
    RatingState,
)
from dossiers.services import DossierError
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import Criterion
from tests import factories
from tests.dossiers.recognition import issued, province_round, recognised

pytestmark = pytest.mark.django_db

#: The recognition decision of the world's ratings, and the day its results were recorded.
DECIDED = datetime.date(2026, 11, 2)
RECORDED = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)


def build_world(cantho, make_user):
    """Two Cần Thơ ratings (4★ fish sauce in commune 0, 3★ rice paper in commune 1) of
    decision 01/QĐ-UBND of 02/11/2026, their department staff (owner), a commune-0 officer
    (colleague), and another province with its staff (outsider), its rating and its
    inspection."""
    communes = list(AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code")[:2])
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    colleague = make_user("canbo.xa", Role.LOCAL_OFFICER, communes[0], email="xa@example.vn")
    round_ = province_round(cantho)
    fish = recognised(round_, stars=4, unit=communes[0], product_name="Nước mắm Cá Cơm",
                      at=RECORDED)
    cake = recognised(round_, stars=3, score="62.00", unit=communes[1],
                      product_name="Bánh tráng Thuận Hưng", at=RECORDED)
    issued(staff, [fish, cake], number=1, date=DECIDED)
    Producer.objects.filter(products__pk=fish.product_id).update(email="htx@example.vn")

    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    other_commune = AdministrativeUnit.objects.create(
        level=Level.COMMUNE, code="99901", name="Xã Bên Kia", parent=other, province=other)
    outsider = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)
    foreign = recognised(factories.evaluation_round(other, "26/2026", "province"), stars=4,
                         unit=other_commune, product_name="Nước mắm Tỉnh Khác", at=RECORDED)
    issued(outsider, [foreign], number=1, date=DECIDED)
    ratings = {r.product_id: r for r in Rating.objects.all()}
    foreign_rating = ratings[foreign.product_id]
    foreign_inspection = inspections.create_inspection(
        outsider, kind=InspectionKind.AD_HOC, rating=foreign_rating, title="Của tỉnh khác")
    return {
        **cantho, "communes": communes, "staff": staff, "colleague": colleague,
        "outsider": outsider, "round": round_,
        "fish": ratings[fish.product_id], "cake": ratings[cake.product_id],
        "foreign": foreign_rating, "foreign_inspection": foreign_inspection,
        "other": other,
    }


@pytest.fixture
def world(cantho, criteria, make_user):
    return build_world(cantho, make_user)


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def get(client, url, **extra):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **extra)
    return response, response.content.decode()


def post(client, url, data, **extra):
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **extra)
    return response, response.content.decode()


def ad_hoc(world, rating="fish"):
    return inspections.create_inspection(world["staff"], kind=InspectionKind.AD_HOC,
                                         rating=world[rating], title="Kiểm tra đột xuất")


def concluded(world, conclusion=InspectionConclusion.NOT_MEETS, day=datetime.date(2026, 11, 20),
              rating="fish"):
    inspection = ad_hoc(world, rating)
    item = inspection.items.get()
    inspections.conclude(world["staff"], inspection, date=day, reference="01/BB-KT",
                         conclusions={item.pk: conclusion})
    return inspection, item


def unchanged(fn, *args, **kwargs):
    """Run ``fn`` expecting a refusal; assert nothing was written; return the error."""
    counts = (Inspection.objects.count(), InspectionPlan.objects.count(),
              InspectionFinding.objects.count(), InspectionFile.objects.count(),
              AuditEvent.objects.count())
    # the messages are asserted in their English source (the catalog translates them)
    with pytest.raises(DossierError) as refused, translation.override("en"):
        fn(*args, **kwargs)
    assert (Inspection.objects.count(), InspectionPlan.objects.count(),
            InspectionFinding.objects.count(), InspectionFile.objects.count(),
            AuditEvent.objects.count()) == counts
    return refused.value


def messages_of(error):
    return " ".join([error.message, *(m for ms in error.fields.values() for m in ms)])


# --- rules -------------------------------------------------------------------------------------


def test_only_department_staff_of_the_area_inspect_and_revoke(world, make_user):
    fish_unit = world["fish"].product.producer.unit
    for action in ("plan_inspections", "inspect", "revoke"):
        assert rules.oversight_refusal(world["staff"], action, fish_unit) is None
        assert rules.oversight_refusal(world["colleague"], action, fish_unit).code == "role"
        assert rules.oversight_refusal(world["outsider"], action, fish_unit).code == "area"
    admin = make_user("quantri", Role.ADMIN, world["province"])
    assert rules.oversight_refusal(admin, "revoke", fish_unit) is None
    assert rules.may_oversee(world["staff"], "revoke")
    assert not rules.may_oversee(world["colleague"], "inspect")


def test_anonymous_is_asked_to_sign_in(world):
    from django.contrib.auth.models import AnonymousUser

    refusal = rules.oversight_refusal(AnonymousUser(), "inspect", world["province"])
    assert refusal.code == "role"


# --- plans -------------------------------------------------------------------------------------


def test_plan_lists_the_products_not_yet_inspected_that_year(world):
    plan = inspections.create_plan(world["staff"], unit=world["province"], year=2026)
    assert plan.title == "Inspection plan 2026 — Thành phố Cần Thơ" or "2026" in plan.title
    assert list(inspections.products_due(plan)) == sorted(
        [world["fish"], world["cake"]], key=lambda r: (r.valid_until, r.product.name, r.pk))
    inspections.create_inspection(world["staff"], kind=InspectionKind.PERIODIC, plan=plan,
                                  rating=world["fish"], planned_on=datetime.date(2026, 12, 1))
    assert list(inspections.products_due(plan)) == [world["cake"]]
    Rating.objects.filter(pk=world["cake"].pk).update(state=RatingState.EXPIRED)
    assert list(inspections.products_due(plan)) == []


def test_plan_bad_input_is_refused_and_nothing_changes(world):
    staff = world["staff"]
    error = unchanged(inspections.create_plan, staff, unit=world["communes"][0], year=2026)
    assert "province" in messages_of(error)
    error = unchanged(inspections.create_plan, staff, unit=world["province"], year=1999)
    assert "year" in error.fields
    error = unchanged(inspections.create_plan, staff, unit=world["province_old"], year=2026)
    assert "unit" in error.fields
    error = unchanged(inspections.create_plan, world["outsider"], unit=world["province"],
                      year=2026)
    assert error.code == "area"
    error = unchanged(inspections.create_plan, world["colleague"], unit=world["province"],
                      year=2026)
    assert error.code == "role"
    inspections.create_plan(staff, unit=world["province"], year=2026)
    error = unchanged(inspections.create_plan, staff, unit=world["province"], year=2026)
    assert "already has an inspection plan" in messages_of(error)


# --- inspections -------------------------------------------------------------------------------


def test_an_area_inspection_checks_every_rated_product_of_the_area(world):
    inspection = inspections.create_inspection(
        world["staff"], kind=InspectionKind.AD_HOC, unit=world["province"])
    assert inspection.unit == world["province"]
    assert {i.rating_id for i in inspection.items.all()} == {world["fish"].pk,
                                                             world["cake"].pk}
    one = inspections.create_inspection(world["staff"], kind=InspectionKind.AD_HOC,
                                        unit=world["communes"][1])
    assert [i.rating_id for i in one.items.all()] == [world["cake"].pk]
    assert AuditEvent.objects.filter(action="inspection.created",
                                     object_id=str(one.pk)).exists()


def test_inspection_bad_input_is_refused_and_nothing_changes(world, cantho):
    staff = world["staff"]
    plan = inspections.create_plan(staff, unit=world["province"], year=2026)
    error = unchanged(inspections.create_inspection, staff, kind=InspectionKind.PERIODIC,
                      rating=world["fish"])
    assert "plan" in error.fields
    error = unchanged(inspections.create_inspection, staff, kind=InspectionKind.AD_HOC)
    assert "rating" in error.fields
    error = unchanged(inspections.create_inspection, staff, kind="sometimes",
                      rating=world["fish"])
    assert "kind" in error.fields
    error = unchanged(inspections.create_inspection, staff, kind=InspectionKind.PERIODIC,
                      plan=plan, rating=world["fish"], planned_on=datetime.date(2027, 1, 5))
    assert "planned_on" in error.fields
    error = unchanged(inspections.create_inspection, world["outsider"],
                      kind=InspectionKind.AD_HOC, rating=world["fish"])
    assert error.code == "area"
    error = unchanged(inspections.create_inspection, world["outsider"],
                      kind=InspectionKind.PERIODIC, plan=plan, rating=world["foreign"])
    assert error.code == "area"
    empty = AdministrativeUnit.objects.current().filter(
        province=world["province"], level=Level.COMMUNE).exclude(
        pk__in=[u.pk for u in world["communes"]]).order_by("code").first()
    error = unchanged(inspections.create_inspection, staff, kind=InspectionKind.AD_HOC,
                      unit=empty)
    assert "nothing to inspect" in messages_of(error)
    Rating.objects.filter(pk=world["cake"].pk).update(state=RatingState.REVOKED)
    world["cake"].refresh_from_db()
    error = unchanged(inspections.create_inspection, staff, kind=InspectionKind.AD_HOC,
                      rating=world["cake"])
    assert "Only a valid rating" in messages_of(error)


def test_findings_are_about_the_products_own_criteria(world):
    inspection = ad_hoc(world)
    item = inspection.items.get()
    own = inspections.criteria_of(item)
    assert own and all(c.criteria_set_id == world["fish"].source_dossier.criteria_set_id
                       for c in own)
    foreign = Criterion.objects.exclude(criteria_set_id=own[0].criteria_set_id).first()
    error = unchanged(inspections.record_findings, world["staff"], item,
                      findings=[{"criterion": foreign.pk, "meets": False}])
    assert "not on this product's scoresheet" in messages_of(error)
    error = unchanged(inspections.record_findings, world["staff"], item,
                      findings=[{"criterion": own[0].pk, "meets": "maybe"}])
    assert "findings" in error.fields
    error = unchanged(inspections.record_findings, world["colleague"], item,
                      findings=[{"criterion": own[0].pk, "meets": False}])
    assert error.code == "role"
    saved = inspections.record_findings(world["staff"], item, findings=[
        {"criterion": own[0].pk, "meets": False, "note": "Hết hạn chứng nhận"},
        {"criterion": own[1], "meets": True}])
    assert len(saved) == 2
    inspections.record_findings(world["staff"], item, findings=[
        {"criterion": own[0].pk, "meets": True, "note": "Đã bổ sung"}])
    assert InspectionFinding.objects.get(item=item, criterion=own[0]).meets is True
    assert InspectionFinding.objects.filter(item=item).count() == 2


def test_conclusion_needs_every_product_and_a_date_not_in_the_future(world):
    inspection = inspections.create_inspection(
        world["staff"], kind=InspectionKind.AD_HOC, unit=world["province"])
    fish_item = inspection.items.get(rating=world["fish"])
    cake_item = inspection.items.get(rating=world["cake"])
    staff = world["staff"]
    error = unchanged(inspections.conclude, staff, inspection, date=datetime.date(2026, 11, 20),
                      conclusions={fish_item.pk: "not_meets"})
    assert "Bánh tráng Thuận Hưng" in messages_of(error)
    error = unchanged(inspections.conclude, staff, inspection, date=datetime.date(2099, 1, 1),
                      conclusions={fish_item.pk: "meets", cake_item.pk: "meets"})
    assert "conclusion_date" in error.fields
    error = unchanged(inspections.conclude, staff, inspection, date=datetime.date(2026, 10, 1),
                      conclusions={fish_item.pk: "meets", cake_item.pk: "meets"})
    assert "before the recognition" in messages_of(error)
    error = unchanged(inspections.conclude, staff, inspection, date=datetime.date(2026, 11, 20),
                      conclusions={fish_item.pk: "meets", cake_item.pk: "great"})
    assert "conclusions" in error.fields
    inspections.conclude(staff, inspection, date=datetime.date(2026, 11, 20),
                         conclusions={fish_item.pk: ("not_meets", "Không đạt"),
                                      str(cake_item.pk): "meets"}, reference="05/BB-KT")
    inspection.refresh_from_db()
    assert (inspection.state, inspection.conclusion_date, inspection.conclusion_reference) == (
        InspectionState.CONCLUDED, datetime.date(2026, 11, 20), "05/BB-KT")
    fish_item.refresh_from_db()
    assert (fish_item.conclusion, fish_item.note) == ("not_meets", "Không đạt")
    error = unchanged(inspections.conclude, staff, inspection, date=datetime.date(2026, 11, 21),
                      conclusions={fish_item.pk: "meets", cake_item.pk: "meets"})
    assert error.code == "state"
    own = inspections.criteria_of(fish_item)
    error = unchanged(inspections.record_findings, staff, fish_item,
                      findings=[{"criterion": own[0].pk, "meets": True}])
    assert error.code == "state"


def test_files_are_checked_like_dossier_files(world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    inspection = ad_hoc(world)
    stored = inspections.upload_file(world["staff"], inspection, SimpleUploadedFile(
        "biên bản.pdf", tiny_pdf("Biên bản kiểm tra"), content_type="application/pdf"))
    assert (stored.content_type, stored.original_name) == ("application/pdf", "biên bản.pdf")
    assert stored.file.name.startswith(f"inspections/{inspection.pk}/")
    error = unchanged(inspections.upload_file, world["staff"], inspection, SimpleUploadedFile(
        "virus.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf"))
    assert error.code == "executable"
    error = unchanged(inspections.upload_file, world["outsider"], inspection,
                      SimpleUploadedFile("a.pdf", tiny_pdf("x")))
    assert error.code == "area"


def test_pending_revocations_list_failing_conclusions_with_their_deadline(world):
    _inspection, item = concluded(world)
    concluded(world, InspectionConclusion.MEETS, rating="cake")
    pending = inspections.pending_revocations(world["staff"])
    assert [p.pk for p in pending] == [item.pk]
    # 20/11/2026 + 15 calendar days (26/2026 Điều 8)
    assert pending[0].deadline == datetime.date(2026, 12, 5)
    assert inspections.pending_revocations(world["outsider"]) == []
    assert [p.pk for p in inspections.pending_revocations(world["colleague"])] == [item.pk]


# --- pages -------------------------------------------------------------------------------------


def row_ids(html, prefix="inspection"):
    return {int(pk) for pk in re.findall(rf'<tr id="{prefix}-(\d+)"', html)}


def test_list_shows_each_user_the_inspections_of_their_area(client, world,
                                                           django_assert_num_queries):
    ours = ad_hoc(world)
    area = inspections.create_inspection(world["staff"], kind=InspectionKind.AD_HOC,
                                         unit=world["communes"][1])
    login(client, world["staff"])
    response, html = get(client, reverse("inspections:list"))
    assert response.status_code == 200
    assert row_ids(html) == {ours.pk, area.pk}
    assert "Plan an inspection" in html
    login(client, world["colleague"])
    _response, html = get(client, reverse("inspections:list"))
    assert row_ids(html) == {ours.pk}  # commune 0's product; not commune 1's area
    assert "Plan an inspection" not in html
    login(client, world["outsider"])
    _response, html = get(client, reverse("inspections:list"))
    assert row_ids(html) == {world["foreign_inspection"].pk}
    # filters
    login(client, world["staff"])
    inspections.conclude(world["staff"], ours, date=datetime.date(2026, 11, 20),
                         conclusions={ours.items.get().pk: "meets"})
    _response, html = get(client, reverse("inspections:list") + "?state=concluded")
    assert row_ids(html) == {ours.pk}
    response, html = get(client, reverse("inspections:list") + "?kind=never&year=abc")
    assert response.status_code == 200 and row_ids(html) == {ours.pk, area.pk}
    assert "Enter a year of four digits." in html


def test_list_query_count_does_not_grow(client, world, django_assert_num_queries):
    login(client, world["staff"])
    ad_hoc(world)
    client.get(reverse("inspections:list"))
    with django_assert_num_queries(LIST_QUERIES):
        client.get(reverse("inspections:list"))
    for _n in range(3):
        inspections.create_inspection(world["staff"], kind=InspectionKind.AD_HOC,
                                      unit=world["province"])
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("inspections:list"))
    assert len(row_ids(response.content.decode())) == 4


#: the user with their roles (ocop.accounts.backends; the session from the cache), count,
#: page of inspections (with the area's units in a subquery);
#: the provinces the staff's province absorbed: read by the first visit, then cached
#: (reference data, ocop/versioned_cache.py).
LIST_QUERIES = 3


def test_detail_for_owner_colleague_and_outsider(client, world):
    inspection = ad_hoc(world)
    url = reverse("inspections:detail", args=[inspection.pk])
    login(client, world["staff"])
    response, html = get(client, url)
    assert response.status_code == 200
    assert "Nước mắm Cá Cơm" in html and 'id="conclude"' in html and "findings" in html
    login(client, world["colleague"])
    response, html = get(client, url)
    assert response.status_code == 200
    assert "Nước mắm Cá Cơm" in html and 'id="conclude"' not in html
    login(client, world["outsider"])
    response, _html = get(client, url)
    assert response.status_code == 404
    response, _html = get(client, reverse("inspections:detail",
                                          args=[world["foreign_inspection"].pk]))
    assert response.status_code == 200


def test_create_conclude_and_findings_through_the_pages(client, world):
    login(client, world["staff"])
    url = reverse("inspections:create") + f"?rating={world['fish'].pk}"
    response, html = get(client, url)
    assert response.status_code == 200 and "Nước mắm Cá Cơm" in html
    response, html = post(client, url, {"kind": "periodic", "rating": world["fish"].pk})
    assert response.status_code == 400
    assert "A periodic inspection belongs to the yearly inspection plan" in html
    assert Inspection.objects.filter(created_by=world["staff"]).count() == 0
    response, _html = post(client, url, {"kind": "ad_hoc", "rating": world["fish"].pk,
                                         "planned_on": "2026-11-15"})
    inspection = Inspection.objects.get(created_by=world["staff"])
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:detail", args=[inspection.pk])
    item = inspection.items.get()
    criterion = inspections.criteria_of(item)[0]
    response, _html = post(client, reverse("inspections:findings", args=[
        inspection.pk, item.pk]), {f"i{item.pk}-meets_{criterion.pk}": "no",
                                   f"i{item.pk}-note_{criterion.pk}": "Không đạt"})
    assert response.status_code == 302
    assert InspectionFinding.objects.get(item=item).meets is False
    conclude_url = reverse("inspections:conclude", args=[inspection.pk])
    response, html = post(client, conclude_url, {"conclusion_date": "2099-01-01",
                                                 f"item_{item.pk}": "not_meets"})
    assert response.status_code == 400
    assert "The conclusion cannot be dated in the future." in html
    response, html = post(client, conclude_url, {"conclusion_date": "20/11/2026"})
    assert response.status_code == 400
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.PLANNED
    response, _html = post(client, conclude_url, {"conclusion_date": "20/11/2026",
                                                  f"item_{item.pk}": "not_meets"})
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.CONCLUDED
    _response, html = get(client, reverse("inspections:detail", args=[inspection.pk]))
    assert 'data-conclusion="not_meets"' in html and "05/12/2026" in html
    assert reverse("inspections:revoke", args=[world["fish"].pk]) in html


def test_the_colleague_and_outsider_cannot_create_or_conclude(client, world):
    inspection = ad_hoc(world)
    item = inspection.items.get()
    for who, status in (("colleague", 400), ("outsider", 404)):
        login(client, world[who])
        # the colleague has no inspecting role; the outsider's staff role covers another
        # province, whose rating is not theirs to find
        response, _html = get(client, reverse("inspections:create")
                              + f"?rating={world['fish'].pk}")
        assert response.status_code == 404
        response, _html = post(client, reverse("inspections:conclude", args=[inspection.pk]),
                               {"conclusion_date": "20/11/2026", f"item_{item.pk}": "meets"})
        assert response.status_code == status
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.PLANNED


def test_upload_and_download_a_file_through_the_page(client, world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    inspection = ad_hoc(world)
    login(client, world["staff"])
    url = reverse("inspections:upload", args=[inspection.pk])
    response, html = post(client, url, {"file": SimpleUploadedFile("x.exe", b"MZ" + b"0" * 64)})
    assert response.status_code == 400 and "program or a script" in html
    response, _html = post(client, url, {"file": SimpleUploadedFile(
        "bien-ban.pdf", tiny_pdf("Biên bản"))})
    assert response.status_code == 302
    stored = InspectionFile.objects.get()
    response = client.get(reverse("inspections:file", args=[inspection.pk, stored.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    login(client, world["outsider"])
    assert client.get(reverse("inspections:file", args=[inspection.pk, stored.pk])
                      ).status_code == 404


def test_plan_pages(client, world):
    login(client, world["staff"])
    response, html = post(client, reverse("inspections:plans"),
                          {"unit": world["province"].pk, "year": "2026", "title": ""})
    plan = InspectionPlan.objects.get()
    assert response.status_code == 302
    response, html = post(client, reverse("inspections:plans"),
                          {"unit": world["province"].pk, "year": "2026"})
    assert response.status_code == 400 and "already has an inspection plan" in html
    _response, html = get(client, reverse("inspections:plan", args=[plan.pk]))
    assert row_ids(html, "due") == {world["fish"].pk, world["cake"].pk}
    login(client, world["colleague"])
    response, html = get(client, reverse("inspections:plan", args=[plan.pk]))
    assert response.status_code == 200
    assert row_ids(html, "due") == {world["fish"].pk}
    response, html = get(client, reverse("inspections:plans"))
    assert f'id="plan-{plan.pk}"' in html and 'name="year"' not in html
    login(client, world["outsider"])
    assert client.get(reverse("inspections:plan", args=[plan.pk])).status_code == 404


def test_rating_page_offers_inspect_and_revoke_to_staff_only(client, world):
    url = reverse("ratings:detail", args=[world["fish"].pk])
    login(client, world["staff"])
    _response, html = get(client, url)
    assert reverse("inspections:revoke", args=[world["fish"].pk]) in html
    assert reverse("inspections:create") + f"?rating={world['fish'].pk}" in html
    login(client, world["colleague"])
    _response, html = get(client, url)
    assert reverse("inspections:revoke", args=[world["fish"].pk]) not in html


# --- API ---------------------------------------------------------------------------------------


def test_api_inspections_are_scoped(client, world):
    ours = ad_hoc(world)
    login(client, world["staff"])
    body = client.get("/api/v1/inspections/").json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    assert {r["id"] for r in rows} == {ours.pk}
    assert rows[0]["items"][0]["rating"] == world["fish"].pk
    assert client.get(f"/api/v1/inspections/{world['foreign_inspection'].pk}/"
                      ).status_code == 404
    response = client.get("/api/v1/inspections/?state=done")
    assert response.status_code == 400 and "state" in str(response.json())
    login(client, world["colleague"])
    assert client.get(f"/api/v1/inspections/{ours.pk}/").status_code == 200
    login(client, world["outsider"])
    assert client.get(f"/api/v1/inspections/{ours.pk}/").status_code == 404
    assert client.post("/api/v1/inspections/", {}).status_code in (403, 405)
