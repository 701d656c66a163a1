"""The self-assessment (Mẫu 02) autosaved per criterion with its running total (issue 13,
item 6): the owner officer's choice or note is saved at once and answers the total, the
progress and the self-assessed star; everyone else is refused as ``dossiers.rules`` says
(outsider 404, a council member who reads the dossier 403, a submitted dossier 409, an
answer that is not the criterion's 422, a criterion of another set 404), each with its
Vietnamese message and nothing changed. The whole-form "Save" (no JavaScript) is tested in
``test_views.py``."""

import re
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from dossiers import rules, services
from dossiers.models import DossierState, SelfAssessmentEntry
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring.models import Criterion, Option
from tests import factories
from tests.dossiers import PDF_BYTES
from tests.i18n import vi

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "vi"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def vi_number(value):
    with translation.override("vi"):
        return floatformat(value, "-2")


@pytest.fixture
def area(cantho, criteria, make_user):
    round_nk = factories.evaluation_round(cantho["ninhkieu"])
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    producer = factories.producer(cantho["ninhkieu"], name="Hợp tác xã Bưởi Năm Roi")
    product = services.create_product(officer, producer=producer, name="Bưởi Năm Roi",
                                      criteria_set=factories.criteria_set("148", 9))
    dossier = services.create_dossier(officer, round=round_nk, product=product)
    criteria = list(Criterion.objects.filter(criteria_set=dossier.criteria_set)
                    .select_related("section__part").order_by("order"))
    return {
        "units": cantho, "round": round_nk, "officer": officer, "dossier": dossier,
        "criteria": criteria,
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
    }


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def item_url(dossier, criterion):
    return reverse("dossiers:self-assessment-item", args=[dossier.pk, getattr(
        criterion, "pk", criterion)])


def autosave(client, dossier, criterion, **data):
    response = client.post(item_url(dossier, criterion), data, **HTMX)
    return response, response.content.decode()


def best(criterion):
    return criterion.options.order_by("-points", "order").first()


def entries(dossier):
    return {e.criterion_id: e for e in SelfAssessmentEntry.objects.filter(dossier=dossier)}


def total_of(html, code=None):
    match = re.search(rf'id="sa-total{"-" + code if code else ""}">([^<]*)<', html)
    return match.group(1) if match else None


def progress(html):
    return re.search(r'id="sa-progress">([^<]*)<', html).group(1)


# --- the owner autosaves -----------------------------------------------------------------------


def test_owner_autosaves_a_choice_and_gets_the_running_total(client, area):
    dossier, (first, second, *_rest) = area["dossier"], area["criteria"]
    c = login(client, area["officer"])
    option_a, option_b = best(first), best(second)

    response, html = autosave(c, dossier, first, **{f"c{first.pk}": option_a.pk})

    assert response.status_code == 200
    assert entries(dossier)[first.pk].option_id == option_a.pk
    assert vi("Saved.") in html
    assert 'id="save-status" hx-swap-oob="innerHTML"' in html
    assert 'id="sa-summary" class="sa-summary" hx-swap-oob="true"' in html
    assert total_of(html) == vi_number(option_a.points)
    assert total_of(html, first.section.part.code) == vi_number(option_a.points)
    count = len(area["criteria"])
    assert progress(html) == vi("%(answered)s of %(total)s criteria answered",
                                answered=1, total=count)

    _r, html = autosave(c, dossier, second, **{f"c{second.pk}": option_b.pk,
                                                f"note{second.pk}": "Có sổ ghi chép"})

    assert total_of(html) == vi_number(option_a.points + option_b.points)
    assert progress(html) == vi("%(answered)s of %(total)s criteria answered",
                                answered=2, total=count)
    assert entries(dossier)[second.pk].note == "Có sổ ghi chép"
    # the star this total would give, labelled as the producer's own
    stars = int(re.search(r'data-stars="(\d)"', html).group(1))
    assert stars == 1
    with translation.override("vi"):
        label = ngettext("%(stars)s star, self-assessed (provisional)",
                         "%(stars)s stars, self-assessed (provisional)", 1) % {"stars": 1}
    assert label in html


def test_a_note_autosaved_alone_keeps_the_choice_and_the_evidence(client, area):
    from django.core.files.uploadedfile import SimpleUploadedFile

    dossier, first = area["dossier"], area["criteria"][0]
    officer = area["officer"]
    evidence = services.upload_file(officer, dossier, SimpleUploadedFile(
        "hop-dong.pdf", PDF_BYTES, content_type="application/pdf"))
    services.set_self_assessment(officer, dossier, criterion=first, option=best(first),
                                 note="", evidence=evidence)

    response, _html = autosave(login(client, officer), dossier, first,
                               **{f"note{first.pk}": "Hợp đồng với 12 hộ dân",
                                  f"c{first.pk}": best(first).pk})

    assert response.status_code == 200
    entry = entries(dossier)[first.pk]
    assert (entry.option_id, entry.note, entry.evidence_id) == (
        best(first).pk, "Hợp đồng với 12 hộ dân", evidence.pk)


def test_an_unchanged_answer_is_not_saved_again(client, area):
    dossier, first = area["dossier"], area["criteria"][0]
    c = login(client, area["officer"])
    data = {f"c{first.pk}": best(first).pk, f"note{first.pk}": "x"}
    autosave(c, dossier, first, **data)
    events = AuditEvent.objects.filter(action="dossier.self_assessment_set").count()

    response, html = autosave(c, dossier, first, **data)

    assert response.status_code == 200 and vi("Saved.") in html
    assert AuditEvent.objects.filter(action="dossier.self_assessment_set").count() == events


def test_department_staff_of_the_province_may_autosave_as_the_rules_say(client, area):
    dossier, first = area["dossier"], area["criteria"][0]
    assert rules.can(area["staff"], "set_self_assessment", dossier)

    response, _html = autosave(login(client, area["staff"]), dossier, first,
                               **{f"c{first.pk}": best(first).pk})

    assert response.status_code == 200
    assert entries(dossier)[first.pk].option_id == best(first).pk


def test_item_post_runs_in_a_fixed_number_of_queries(client, area,
                                                     django_assert_max_num_queries):
    """Session, user, roles, dossier, criterion + options, area, entry; the service (lock,
    area, criterion, option, upsert, dossier, audit and savepoints); the entries and the star
    bands for the total — however many criteria are answered already."""
    dossier, (first, second, *rest) = area["dossier"], area["criteria"]
    for criterion in rest[:10]:
        services.set_self_assessment(area["officer"], dossier, criterion=criterion,
                                     option=best(criterion), note="đã có")
    c = login(client, area["officer"])
    autosave(c, dossier, first, **{f"c{first.pk}": best(first).pk})  # warm the spec cache
    data = {f"c{second.pk}": best(second).pk, f"note{second.pk}": "ghi chú"}

    with django_assert_max_num_queries(24):
        response, _html = autosave(c, dossier, second, **data)
    assert response.status_code == 200


def test_without_htmx_the_item_post_redirects_to_the_page(client, area):
    dossier, first = area["dossier"], area["criteria"][0]

    response = login(client, area["officer"]).post(
        item_url(dossier, first), {f"c{first.pk}": best(first).pk}, HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 302
    assert response["Location"] == reverse("dossiers:self-assessment", args=[dossier.pk])
    assert entries(dossier)[first.pk].option_id == best(first).pk


# --- refusals ----------------------------------------------------------------------------------


def test_outsider_gets_404_and_nothing_is_saved(client, area):
    dossier, first = area["dossier"], area["criteria"][0]

    response, html = autosave(login(client, area["outsider"]), dossier, first,
                              **{f"c{first.pk}": best(first).pk})

    assert response.status_code == 404
    assert "Bưởi" not in html
    assert not entries(dossier)


def test_council_member_who_reads_the_dossier_is_refused_with_403(client, area, make_user):
    dossier, first = area["dossier"], area["criteria"][0]
    member = make_user("hd.nk.1")
    council = factories.council(area["units"]["ninhkieu"], [member])
    factories.session(council, area["round"], [dossier])
    c = login(client, member)
    assert c.get(reverse("dossiers:self-assessment", args=[dossier.pk])).status_code == 200

    response, html = autosave(c, dossier, first, **{f"c{first.pk}": best(first).pk})

    assert response.status_code == 403
    assert response["HX-Reswap"] == "innerHTML"
    with translation.override("vi"):
        message = rules.check(member, "set_self_assessment", dossier).message
    assert message in html and 'role="alert"' in html
    assert vi("Not saved: see the message at the criterion.") in html
    assert 'id="sa-summary"' not in html  # nothing changed, nothing to update
    assert not entries(dossier)


def test_a_submitted_dossier_is_refused_with_409(client, area):
    dossier = factories.dossier(area["round"], product_name="Bưởi đã nộp",
                                state=DossierState.SUBMITTED)
    first = Criterion.objects.filter(criteria_set=dossier.criteria_set).order_by("order")[0]

    response, html = autosave(login(client, area["officer"]), dossier, first,
                              **{f"c{first.pk}": best(first).pk})

    assert response.status_code == 409
    with translation.override("vi"):
        message = rules.check(area["officer"], "set_self_assessment", dossier).message
    assert message in html
    assert not entries(dossier)


def test_an_option_of_another_criterion_is_refused_with_422(client, area):
    dossier, (first, second, *_rest) = area["dossier"], area["criteria"]
    c = login(client, area["officer"])

    foreign, foreign_html = autosave(c, dossier, first, **{f"c{first.pk}": best(second).pk})
    garbage, garbage_html = autosave(c, dossier, first, **{f"c{first.pk}": "abc"})
    too_long, long_html = autosave(c, dossier, first, **{f"note{first.pk}": "x" * 2001})

    for response, html in ((foreign, foreign_html), (garbage, garbage_html),
                           (too_long, long_html)):
        assert response.status_code == 422
        assert 'class="field-error" role="alert"' in html
        assert vi("Not saved: see the message at the criterion.") in html
    assert vi("The chosen option does not belong to this criterion.") in foreign_html
    assert vi("The chosen option does not belong to this criterion.") in garbage_html
    assert not entries(dossier)


def test_a_criterion_of_another_set_is_404_with_a_message(client, area):
    dossier = area["dossier"]
    other = Criterion.objects.exclude(criteria_set=dossier.criteria_set).first()
    option = Option.objects.filter(criterion=other).first()

    response, html = autosave(login(client, area["officer"]), dossier, other,
                              **{f"c{other.pk}": option.pk})

    assert response.status_code == 404
    assert vi("This criterion is not part of the dossier's criteria set.") in html
    assert not entries(dossier)


# --- the page ----------------------------------------------------------------------------------


def test_page_shows_the_stored_total_and_autosaves_each_criterion(client, area):
    dossier, (first, second, *_rest) = area["dossier"], area["criteria"]
    officer = area["officer"]
    services.set_self_assessment(officer, dossier, criterion=first, option=best(first))
    services.set_self_assessment(officer, dossier, criterion=second, option=best(second))

    html = login(client, officer).get(reverse("dossiers:self-assessment", args=[dossier.pk]),
                                      HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    assert total_of(html) == vi_number(Decimal(best(first).points + best(second).points))
    assert progress(html) == vi("%(answered)s of %(total)s criteria answered",
                                answered=2, total=len(area["criteria"]))
    assert f'hx-post="{item_url(dossier, first)}"' in html
    assert f'hx-params="c{first.pk},note{first.pk}"' in html
    assert 'id="save-status"' in html and 'aria-live="polite"' in html
    assert "js/selfassessment.js" in html
    # the page says how evidence files are saved
    assert vi("Each choice and note is saved as soon as you make it. Evidence files are "
              "saved when you press “Save the self-assessment”.") in html


def test_read_only_page_shows_the_total_without_autosave(client, area):
    dossier = factories.dossier(area["round"], product_name="Bưởi đã nộp",
                                state=DossierState.SUBMITTED)

    html = login(client, area["officer"]).get(
        reverse("dossiers:self-assessment", args=[dossier.pk]),
        HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    assert 'id="sa-summary"' in html and total_of(html) == "0"
    assert "hx-post=" not in html and "selfassessment.js" not in html
