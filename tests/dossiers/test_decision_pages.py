"""The decision pages (dossiers.decision_views): owner (department staff), colleague
(a commune officer of the province), outsider (staff of another province, with data of
their own)."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from dossiers import decisions, forwarding
from dossiers.models import Decision, DecisionState, DossierState, JobStatus, Rating
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers.recognition import issued, province_round, recognised


@pytest.fixture
def world(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    officer = make_user("canbo.xa", Role.LOCAL_OFFICER, commune)
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    outsider = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)
    other_round = factories.evaluation_round(other, "26/2026", "province")
    foreign = recognised(other_round, product_name="Sản phẩm tỉnh khác")
    round_ = province_round(cantho)
    a = recognised(round_, stars=4, score="80.25", unit=commune, product_name="Bánh pía A")
    b = recognised(round_, stars=3, score="61.00", unit=commune, product_name="Mứt B")
    return {"staff": staff, "officer": officer, "outsider": outsider, "round": round_,
            "a": a, "b": b, "foreign": foreign, "commune": commune}


def login(client, user):
    client.force_login(user)
    return client


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pending_lists_own_results_grouped_and_drafts_a_decision(client, world):
    login(client, world["staff"])
    page = client.get(reverse("decisions:pending")).content.decode()
    assert "Bánh pía A" in page and "Mứt B" in page
    assert "Sản phẩm tỉnh khác" not in page
    response = client.post(reverse("decisions:pending"),
                           {"dossier": [world["a"].pk, world["b"].pk]})
    draft = Decision.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "decisions:detail", args=[draft.pk])
    assert set(draft.items.values_list("dossier_id", flat=True)) == {world["a"].pk,
                                                                   world["b"].pk}
    detail = client.get(response["Location"]).content.decode()
    assert "Bánh pía A" in detail and f'action="/decisions/{draft.pk}/issue/"' in detail


def test_pending_refuses_a_foreign_or_mixed_selection_with_a_message(client, world):
    login(client, world["staff"])
    response = client.post(reverse("decisions:pending"), {"dossier": [world["foreign"].pk]})
    assert response.status_code == 400
    assert not Decision.objects.exists()
    assert "Bánh pía A" in response.content.decode()  # the list is shown again


def test_draft_preview_is_watermarked_and_issue_creates_ratings(
        client, world, django_capture_on_commit_callbacks):
    login(client, world["staff"])
    draft = decisions.draft_decision(world["staff"], [world["a"], world["b"]])
    preview = client.get(reverse("decisions:preview", args=[draft.pk]))
    assert preview["Content-Type"] == "application/pdf"
    assert "DỰ THẢO" in pdf_text(preview.content)
    form = client.get(reverse("decisions:detail", args=[draft.pk])).context["issue_form"]
    assert form.initial["number"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("decisions:issue", args=[draft.pk]), {
            "number": "12", "date": timezone.localdate().strftime("%d/%m/%Y"),
            "signer_name": "Trần Việt Trường", "signature_form": "kt"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.reference, draft.job_status) == (
        DecisionState.ISSUED, "12/QĐ-UBND", JobStatus.DONE)
    assert draft.signature_authority == "KT. CHỦ TỊCH"
    assert Rating.objects.filter(decision=draft).count() == 2
    issued_pdf = client.get(reverse("decisions:pdf", args=[draft.pk]))
    body = b"".join(issued_pdf.streaming_content)
    assert body.startswith(b"%PDF") and "DỰ THẢO" not in pdf_text(body)
    bundle = b"".join(client.get(reverse("decisions:bundle", args=[draft.pk]))
                      .streaming_content)
    import zipfile
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert len(names) == 3 and sum(n.startswith("giay-chung-nhan/") for n in names) == 2
    page = client.get(reverse("decisions:detail", args=[draft.pk])).content.decode()
    assert reverse("decisions:bundle", args=[draft.pk]) in page


def test_issue_with_a_used_number_keeps_the_input_and_says_why(client, world):
    login(client, world["staff"])
    issued(world["staff"], [world["a"]], number=5)
    draft = decisions.draft_decision(world["staff"], [world["b"]])
    response = client.post(reverse("decisions:issue", args=[draft.pk]), {
        "number": "5", "date": timezone.localdate().strftime("%d/%m/%Y"),
        "signer_name": "Tên người ký", "signature_form": "tm"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "05/QĐ-UBND" in page and 'value="Tên người ký"' in page
    draft.refresh_from_db()
    assert draft.state == DecisionState.DRAFT


def test_edit_texts_of_a_draft_and_not_of_an_issued_decision(client, world):
    login(client, world["staff"])
    draft = decisions.draft_decision(world["staff"], [world["a"]])
    data = {name: getattr(draft, name) for name in decisions.DRAFT_FIELDS}
    data["subject"] = "Về việc công nhận sản phẩm OCOP thành phố Cần Thơ năm 2026 (đợt 2)"
    response = client.post(reverse("decisions:edit", args=[draft.pk]), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.subject.endswith("(đợt 2)")
    data["recipients"] = ""
    response = client.post(reverse("decisions:edit", args=[draft.pk]), data)
    assert response.status_code == 400 and draft.recipients
    done = issued(world["staff"], [world["b"]], number=9)
    response = client.get(reverse("decisions:edit", args=[done.pk]))
    assert response.status_code == 302


def test_correction_and_delete_draft(client, world):
    login(client, world["staff"])
    done = issued(world["staff"], [world["a"]], number=1)
    response = client.post(reverse("decisions:correct", args=[done.pk]))
    correction = Decision.objects.get(replaces=done)
    assert response["Location"] == reverse("decisions:detail", args=[correction.pk])
    client.post(reverse("decisions:delete", args=[correction.pk]))
    assert not Decision.objects.filter(pk=correction.pk).exists()
    assert Decision.objects.get(pk=done.pk).state == DecisionState.ISSUED


def test_colleague_reads_issued_decisions_of_their_commune_but_cannot_act(client, world):
    done = issued(world["staff"], [world["a"]], number=1)
    draft = decisions.draft_decision(world["staff"], [world["b"]])
    login(client, world["officer"])
    assert client.get(reverse("decisions:detail", args=[done.pk])).status_code == 200
    assert client.get(reverse("decisions:detail", args=[draft.pk])).status_code == 404
    page = client.get(reverse("decisions:detail", args=[done.pk])).content.decode()
    assert f"decisions/{done.pk}/correct/" not in page
    response = client.post(reverse("decisions:correct", args=[done.pk]))
    assert not Decision.objects.filter(replaces=done).exists()
    assert response.status_code == 302


def test_outsider_gets_404_on_every_page_of_a_foreign_decision(client, world):
    done = issued(world["staff"], [world["a"]], number=1)
    draft = decisions.draft_decision(world["staff"], [world["b"]])
    login(client, world["outsider"])
    for name, pk in (("detail", done.pk), ("pdf", done.pk), ("bundle", done.pk),
                     ("progress", done.pk), ("preview", draft.pk), ("edit", draft.pk)):
        assert client.get(reverse(f"decisions:{name}", args=[pk])).status_code == 404, name
    for name in ("issue", "correct", "delete", "retry"):
        assert client.post(reverse(f"decisions:{name}", args=[draft.pk])).status_code == 404
    listing = client.get(reverse("decisions:list")).content.decode()
    assert done.reference not in listing
    assert Decision.objects.get(pk=draft.pk).state == DecisionState.DRAFT


def test_anonymous_and_council_only_users_are_kept_out(client, world, make_user):
    done = issued(world["staff"], [world["a"]], number=1)
    response = client.get(reverse("decisions:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    login(client, make_user("hd.member"))
    for url in (reverse("decisions:list"), reverse("decisions:detail", args=[done.pk])):
        response = client.get(url)
        assert response.status_code == 404
        assert done.reference not in response.content.decode()


def test_list_query_count_does_not_grow(client, world, django_assert_num_queries):
    login(client, world["staff"])
    issued(world["staff"], [world["a"]], number=1)
    client.get(reverse("decisions:list"))
    # the user with their roles (ocop.accounts.backends; the session from the cache), and
    # one statement for the page of issued decisions, their count, the results waiting,
    # the forwarded dossiers and the drafts (dossiers/decision_rows.py); the absorbed
    # provinces: cached
    with django_assert_num_queries(2) as one:
        client.get(reverse("decisions:list"))
    for i, stars in enumerate((3, 4, 3), start=2):
        issued(world["staff"], [recognised(world["round"], stars=stars,
                                           unit=world["commune"])], number=i)
    decisions.draft_decision(world["staff"], [world["b"]])
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(reverse("decisions:list")).content.decode()
    assert "04/QĐ-UBND" in page


# --- forwarded dossiers and the Ministry's result ------------------------------------------------


def test_forwarded_page_and_ministry_result_form(client, world, cantho):
    dossier = factories.dossier(world["round"], world["commune"], set_no=1,
                                state=DossierState.IN_EVALUATION)
    from dossiers import services
    dossier = services.record_result(world["staff"], dossier, outcome="forward",
                                     result={"total": "91.00", "stars": 5}, via_council=True)
    login(client, world["staff"])
    page = client.get(reverse("decisions:forwarded")).content.decode()
    assert reverse("decisions:central-result", args=[dossier.pk]) in page
    url = reverse("decisions:central-result", args=[dossier.pk])
    bad = client.post(url, {"score": "95", "stars": "5", "decision_number": "",
                            "decision_date": "01/12/2026"})
    assert bad.status_code == 400 and 'value="95"' in bad.content.decode()
    done = client.post(url, {"score": "93,5", "stars": "5",
                             "decision_number": "1500/QĐ-BNNMT",
                             "decision_date": "20/11/2026"})
    assert done.status_code == 302
    rating = Rating.objects.get(product=dossier.product)
    assert (rating.stars, rating.decision_number) == (5, "1500/QĐ-BNNMT")
    login(client, world["officer"])
    assert client.get(url).status_code == 404  # a commune officer does not record it


@pytest.mark.usefixtures("era_148")  # a 148 district forwards to a 148 province round
def test_receive_forwarded_through_the_page(client, world, cantho, make_user):
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    ward = cantho["ninhkieu"].children.order_by("code").first()
    source = factories.dossier(district_round, ward, state=DossierState.IN_EVALUATION)
    from dossiers import services
    source = services.record_result(officer, source, outcome="forward",
                                    result={"total": "80.00", "stars": 4}, via_council=True)
    target = factories.evaluation_round(cantho["province_old"], "148", "province")
    login(client, world["staff"])
    page = client.get(reverse("decisions:forwarded")).content.decode()
    assert source.product.name in page
    response = client.post(reverse("decisions:receive", args=[source.pk]),
                           {f"d{source.pk}-round": target.pk})
    arrived = forwarding.Dossier.objects.get(forwarded_from=source)
    assert response["Location"] == reverse("dossiers:detail", args=[arrived.pk])
    assert arrived.round == target


def test_decision_dated_after_the_issuer_ceased_to_exist_is_refused(world, cantho, make_user):
    officer = make_user("canbo.nk2", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district",
                                                year=2025)
    ward = cantho["ninhkieu"].children.order_by("code").first()
    old = recognised(district_round, stars=3, score="60", unit=ward,
                     at=timezone.make_aware(datetime.datetime(2025, 6, 1, 9)))
    draft = decisions.draft_decision(officer, [old])
    from dossiers.services import DossierError
    with pytest.raises(DossierError) as refused:
        decisions.issue_decision(officer, draft, number=1, date=timezone.localdate(),
                                 signer_name="A")
    assert "Ninh Kiều" in refused.value.fields["date"][0]
    done = decisions.issue_decision(officer, draft, number=1,
                                    date=datetime.date(2025, 6, 20), signer_name="A")
    assert done.issuer_name == cantho["ninhkieu"].name.upper()


@pytest.mark.usefixtures("era_148")  # a 148 district forwards to 148 province rounds
def test_forwarded_page_query_count_does_not_grow(client, world, cantho, make_user,
                                                  django_assert_num_queries):
    from dossiers import services

    officer = make_user("canbo.nk3", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    ward = cantho["ninhkieu"].children.order_by("code").first()
    factories.evaluation_round(cantho["province_old"], "148", "province")

    def forward_one():
        source = factories.dossier(district_round, ward, state=DossierState.IN_EVALUATION)
        services.record_result(officer, source, outcome="forward",
                               result={"total": "80.00", "stars": 4}, via_council=True)
        return source

    # two open province rounds: no automatic arrival, every dossier waits
    factories.evaluation_round(cantho["province_old"], "148", "province")
    first = forward_one()
    login(client, world["staff"])
    client.get(reverse("decisions:forwarded"))
    # the absorbed provinces of each scope the page reads (three): cached
    with django_assert_num_queries(7) as one:
        page = client.get(reverse("decisions:forwarded")).content.decode()
    assert page.count(f'name="d{first.pk}-round"') == 1
    more = [forward_one() for _ in range(4)]
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(reverse("decisions:forwarded")).content.decode()
    assert all(f'name="d{d.pk}-round"' in page for d in more)
