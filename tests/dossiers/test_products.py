"""Products and producers (issue #13, items 4 and 12): the product form offers only the
published criteria sets of the round's regime, grouped by product group, and refuses a set
of another regime at the product step; producers and products are edited and deleted
(while unused) through the services, audited; the dossier form preselects the only open
round and its empty choices read "— choose … —".

Users: the Ninh Kiều officer (owner), a Ninh Kiều council member without an intake role
(colleague: same area, other role), department staff of Cần Thơ (may act in the whole
province) and the Phong Điền officer (outsider, whose own producer exists).
"""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers import rules, services
from dossiers.models import Dossier, Producer, Product
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring.models import CriteriaSet, Regime
from tests import factories
from tests.dossiers import producer_data
from tests.i18n import vi

# 148 district rounds: the tests run on 10/06/2024, a day 148 was in force
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]


def field_errors(html, field_id):
    match = re.search(rf'<ul class="field-error" id="{field_id}_errors"[^>]*>(.*?)</ul>',
                      html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def select_html(html, name):
    match = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert match, f"no select {name}"
    return match.group(0)


@pytest.fixture
def world(cantho, criteria, make_user):
    from scoring.loader import DATA_DIR, load_criteria_files

    load_criteria_files([DATA_DIR / "148" / "10-gia-vi-khac-muoi-hanh-toi-tieu.yaml",
                         DATA_DIR / "148" / "14-ruou-trang.yaml"])
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    colleague = make_user("thanhvien.nk")
    factories.council(cantho["ninhkieu"], [colleague])
    return {
        **cantho,
        "round_nk": factories.evaluation_round(cantho["ninhkieu"]),
        "round_pd": factories.evaluation_round(cantho["phongdien"]),
        "officer": officer,
        "colleague": colleague,
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
        "producer": factories.producer(cantho["ninhkieu"], name="Hợp tác xã Mắm Cái"),
        "foreign": factories.producer(cantho["phongdien"], name="Hợp tác xã Phong Điền"),
    }


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def get(client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
    return response, response.content.decode()


def post(client, url, data=None):
    response = client.post(url, data or {}, HTTP_ACCEPT_LANGUAGE="vi")
    return response, response.content.decode()


def set_of(regime_slug, set_no):
    return factories.criteria_set(regime_slug, set_no)


def product(world, name="Mắm cá linh", set_no=9):
    return services.create_product(world["officer"], producer=world["producer"], name=name,
                                   criteria_set=set_of("148", set_no))


def producer_post(world, **extra):
    producer = world["producer"]
    data = {"type": producer.type, "name": producer.name,
            "registration_no": producer.registration_no,
            "representative_name": producer.representative_name,
            "representative_gender": producer.representative_gender,
            "representative_ethnicity": producer.representative_ethnicity,
            "address": producer.address, "unit": producer.unit_id, "phone": "", "email": ""}
    data.update(extra)
    return data


# --- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["delete_producer", "delete_product", "update_producer",
                                    "update_product"])
def test_rules_edit_and_delete_are_for_the_area_like_creating(world, action):
    nk = world["ninhkieu"]
    assert rules.check_unit(world["officer"], action, nk) is None
    assert rules.check_unit(world["staff"], action, nk) is None
    assert rules.check_unit(world["outsider"], action, nk).code == "area"
    assert rules.check_unit(world["colleague"], action, nk).code == "role"


# --- the product form: the round's regime, by product group --------------------------------------


def test_product_form_offers_the_sets_of_the_only_round_grouped_by_product_group(client, world):
    response, html = get(login(client, world["officer"]), "/dossiers/products/new/")

    select = select_html(html, "criteria_set")
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [label for label, _body in groups] == ["Gia vị", "Đồ uống có cồn"]
    assert re.findall(r'<option value="(\d+)"', groups[0][1]) == [
        str(set_of("148", 9).pk), str(set_of("148", 10).pk)]
    assert re.findall(r'<option value="(\d+)"', groups[1][1]) == [str(set_of("148", 14).pk)]
    # never a set of another regime
    assert f'value="{set_of("26/2026", 1).pk}"' not in select
    assert f'<option value="" selected>{vi("— choose a criteria set —")}</option>' in select
    # the round goes along to the dossier step
    assert f'<input type="hidden" name="round" value="{world["round_nk"].pk}">' in html


def test_product_form_without_a_round_offers_the_regime_in_force_today(client, world):
    from dossiers.models import EvaluationRound

    EvaluationRound.objects.update(is_open=False)
    c = login(client, world["staff"])
    _r, html_148 = get(c, "/dossiers/products/new/")
    # 01/09/2026: 148 (as amended by 1489) ended on 21/07/2026, 26/2026 alone is in force
    with time_machine.travel(datetime.datetime(2026, 9, 1, 9, tzinfo=ZoneInfo(
            "Asia/Ho_Chi_Minh"))):
        _r, html_26 = get(login(c, world["staff"]), "/dossiers/products/new/")

    assert f'value="{set_of("148", 9).pk}"' in select_html(html_148, "criteria_set")
    assert f'value="{set_of("26/2026", 1).pk}"' not in select_html(html_148, "criteria_set")
    assert 'name="round"' not in html_148
    select_26 = select_html(html_26, "criteria_set")
    assert f'value="{set_of("26/2026", 1).pk}"' in select_26
    assert f'value="{set_of("148", 9).pk}"' not in select_26


def test_a_set_of_another_regime_is_refused_at_the_product_step(client, world):
    foreign_set = set_of("26/2026", 1)
    regime = Regime.objects.get(slug="148")

    response, html = post(login(client, world["officer"]), "/dossiers/products/new/", {
        "producer": world["producer"].pk, "name": "Mắm cá linh",
        "criteria_set": foreign_set.pk, "round": world["round_nk"].pk})

    assert response.status_code == 200
    assert field_errors(html, "id_criteria_set") == [vi(
        "This criteria set is not one of %(regime)s, the regime of the evaluation round: "
        "choose a set of %(regime)s.", regime=regime.code)]
    assert 'value="Mắm cá linh"' in html
    assert not Product.objects.exists()


def test_the_service_refuses_a_set_of_another_regime_too(world):
    with pytest.raises(services.DossierError) as refused:
        services.create_product(world["officer"], producer=world["producer"], name="Mắm",
                                criteria_set=set_of("26/2026", 1),
                                regime=world["round_nk"].regime)
    assert refused.value.code == "invalid" and "criteria_set" in refused.value.fields
    assert not Product.objects.exists()


def test_a_new_product_leads_to_the_dossier_form_with_its_round(client, world):
    response = login(client, world["officer"]).post("/dossiers/products/new/", {
        "producer": world["producer"].pk, "name": "  Mắm   cá linh ",
        "criteria_set": set_of("148", 10).pk, "round": world["round_nk"].pk})

    made = Product.objects.get()
    assert (made.name, made.criteria_set) == ("Mắm cá linh", set_of("148", 10))
    assert response["Location"] == (
        f"/dossiers/new/?product={made.pk}&round={world['round_nk'].pk}")
    _r, html = get(client, response["Location"])
    assert f'<option value="{world["round_nk"].pk}" selected>' in html
    assert f'<option value="{made.pk}" selected>' in html


# --- the dossier form: preselected round, empty labels --------------------------------------------


def test_dossier_form_preselects_the_only_open_round_and_reads_choose(client, world):
    _r, html = get(login(client, world["officer"]), "/dossiers/new/")

    rounds = select_html(html, "round")
    assert f'<option value="{world["round_nk"].pk}" selected>' in rounds
    assert "---------" not in html
    assert vi("— choose a round —") in rounds
    assert f'<option value="" selected>{vi("— choose a product —")}</option>' in select_html(
        html, "product")
    assert vi("— none (first evaluation) —") in select_html(html, "current_rating")
    # the link to a new product keeps the round
    assert f'/dossiers/products/new/?round={world["round_nk"].pk}' in html


def test_dossier_form_preselects_nothing_among_two_rounds(client, world):
    _r, html = get(login(client, world["staff"]), "/dossiers/new/")

    rounds = select_html(html, "round")
    assert f'value="{world["round_nk"].pk}"' in rounds
    assert f'value="{world["round_pd"].pk}"' in rounds
    assert rounds.count(" selected>") == 1 and '<option value="" selected>' in rounds


def test_producer_form_reads_choose(client, world):
    _r, html = get(login(client, world["officer"]), "/dossiers/producers/new/")

    assert "---------" not in html
    assert vi("— choose a type —") in select_html(html, "type")
    assert vi("— choose —") in select_html(html, "representative_gender")


# --- duplicates --------------------------------------------------------------------------------


def test_a_producer_registered_again_points_to_the_existing_one(client, world):
    existing = world["producer"]
    number = existing.registration_no
    spaced = f"{number[:4]} {number[4:]}"

    response, html = post(login(client, world["officer"]), "/dossiers/producers/new/",
                          producer_post(world, name="HTX Mắm Cái (lần 2)",
                                        registration_no=spaced))

    assert response.status_code == 200
    assert field_errors(html, "id_registration_no") == [vi(
        "“%(name)s” is already registered with this number: use it rather than "
        "registering the producer again.", name=existing.name)]
    assert f'href="/dossiers/products/new/?producer={existing.pk}"' in html
    assert f'href="/dossiers/producers/{existing.pk}/edit/"' in html
    assert Producer.objects.filter(registration_no=number).count() == 1


# --- editing -----------------------------------------------------------------------------------


def test_owner_edits_a_producer_audited(client, world):
    producer = world["producer"]
    c = login(client, world["officer"])
    _r, page = get(c, f"/dossiers/producers/{producer.pk}/edit/")

    response = c.post(f"/dossiers/producers/{producer.pk}/edit/",
                      producer_post(world, name="Hợp tác xã  Mắm Cái Ninh Kiều",
                                    phone="0292 3812 345"))

    assert 'value="Hợp tác xã Mắm Cái"' in page
    assert response.status_code == 302 and response["Location"] == "/dossiers/producers/"
    producer.refresh_from_db()
    assert producer.name == "Hợp tác xã Mắm Cái Ninh Kiều"
    assert producer.phone == "0292 3812 345"
    event = AuditEvent.objects.get(action="producer.updated")
    assert event.actor == world["officer"]
    assert event.before["name"] == "Hợp tác xã Mắm Cái"
    assert event.after["name"] == "Hợp tác xã Mắm Cái Ninh Kiều"


def test_department_staff_may_edit_a_producer_of_the_province(client, world):
    producer = world["producer"]
    response = login(client, world["staff"]).post(
        f"/dossiers/producers/{producer.pk}/edit/", producer_post(world, address="Ấp 9"))

    assert response.status_code == 302
    producer.refresh_from_db()
    assert producer.address == "Ấp 9"


@pytest.mark.parametrize("who", ["colleague", "outsider"])
def test_others_get_404_on_edit_and_delete_and_nothing_changes(client, world, who):
    producer = world["producer"]
    made = product(world)
    c = login(client, world[who])
    events = AuditEvent.objects.count()

    answers = [
        c.get(f"/dossiers/producers/{producer.pk}/edit/").status_code,
        c.post(f"/dossiers/producers/{producer.pk}/edit/",
               producer_post(world, name="Đổi tên")).status_code,
        c.post(f"/dossiers/producers/{producer.pk}/delete/").status_code,
        c.get(f"/dossiers/products/{made.pk}/edit/").status_code,
        c.post(f"/dossiers/products/{made.pk}/edit/", {"name": "Đổi tên"}).status_code,
        c.post(f"/dossiers/products/{made.pk}/delete/").status_code,
    ]

    assert answers == [404] * 6
    producer.refresh_from_db()
    made.refresh_from_db()
    assert producer.name == "Hợp tác xã Mắm Cái" and made.name == "Mắm cá linh"
    assert AuditEvent.objects.count() == events


def test_owner_corrects_the_name_and_set_of_an_unused_product_audited(client, world):
    made = product(world, set_no=9)
    c = login(client, world["officer"])
    _r, page = get(c, f"/dossiers/products/{made.pk}/edit/")

    response = c.post(f"/dossiers/products/{made.pk}/edit/", {
        "name": "Muối tôm", "criteria_set": set_of("148", 10).pk})

    assert f'<option value="{set_of("148", 9).pk}" selected>' in page
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.criteria_set) == ("Muối tôm", set_of("148", 10))
    event = AuditEvent.objects.get(action="product.updated")
    assert event.before == {"name": "Mắm cá linh", "criteria_set": set_of("148", 9).pk}
    assert event.after == {"name": "Muối tôm", "criteria_set": set_of("148", 10).pk}


def test_a_product_with_a_draft_dossier_keeps_its_set(client, world):
    made = product(world)
    dossier = services.create_dossier(world["officer"], round=world["round_nk"], product=made)
    c = login(client, world["officer"])
    _r, page = get(c, f"/dossiers/products/{made.pk}/edit/")

    response = c.post(f"/dossiers/products/{made.pk}/edit/", {
        "name": "Mắm cá linh Ninh Kiều", "criteria_set": set_of("148", 10).pk})

    assert 'name="criteria_set"' not in page
    assert vi("The criteria set cannot be changed: the product already has a dossier "
              "(withdraw a draft dossier first, then correct the set).") in page
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.name == "Mắm cá linh Ninh Kiều" and made.criteria_set == set_of("148", 9)
    assert Dossier.objects.get(pk=dossier.pk).search_text.startswith("mam ca linh ninh kieu")
    with pytest.raises(services.DossierError) as refused:
        services.update_product(world["officer"], made, name="X",
                                criteria_set=set_of("148", 10))
    assert refused.value.code == "in_use"


def test_a_withdrawn_dossier_does_not_lock_the_set(world):
    made = product(world)
    dossier = services.create_dossier(world["officer"], round=world["round_nk"], product=made)
    services.withdraw(world["officer"], dossier, reason="Chọn nhầm bộ tiêu chí")

    services.update_product(world["officer"], made, name=made.name,
                            criteria_set=set_of("148", 10))

    made.refresh_from_db()
    assert made.criteria_set == set_of("148", 10)
    assert Dossier.objects.get(pk=dossier.pk).criteria_set == set_of("148", 9)


# --- deleting ----------------------------------------------------------------------------------


def test_owner_deletes_an_unused_product_then_its_producer_audited(client, world):
    producer = world["producer"]
    made = product(world)
    c = login(client, world["officer"])
    _r, refused_page = get(c, f"/dossiers/producers/{producer.pk}/delete/")
    early = c.post(f"/dossiers/producers/{producer.pk}/delete/")

    assert vi("This producer cannot be deleted: it has products (delete those that are "
              "unused first).") in refused_page
    assert early.status_code == 302 and Producer.objects.filter(pk=producer.pk).exists()

    _r, confirm = get(c, f"/dossiers/products/{made.pk}/delete/")
    c.post(f"/dossiers/products/{made.pk}/delete/")
    c.post(f"/dossiers/producers/{producer.pk}/delete/")

    assert '<button type="submit" class="danger">' in confirm
    assert not Product.objects.filter(pk=made.pk).exists()
    assert not Producer.objects.filter(pk=producer.pk).exists()
    deleted = AuditEvent.objects.get(action="product.deleted")
    assert deleted.before["name"] == "Mắm cá linh" and deleted.object_id == str(made.pk)
    assert AuditEvent.objects.get(action="producer.deleted").before["registration_no"] == (
        producer.registration_no)


def test_a_product_with_a_dossier_is_not_deleted(client, world):
    made = product(world)
    services.create_dossier(world["officer"], round=world["round_nk"], product=made)
    c = login(client, world["officer"])
    events = AuditEvent.objects.count()

    _r, page = get(c, f"/dossiers/products/{made.pk}/delete/")
    response = c.post(f"/dossiers/products/{made.pk}/delete/", follow=True,
                      HTTP_ACCEPT_LANGUAGE="vi")

    reason = vi("This product cannot be deleted: it has a dossier, which keeps it on record.")
    assert reason in page and 'class="danger"' not in page
    assert reason in response.content.decode()
    assert Product.objects.filter(pk=made.pk).exists()
    assert AuditEvent.objects.count() == events


# --- the list of producers and products -----------------------------------------------------------


def test_producer_list_shows_the_area_only_with_constant_queries(client, world,
                                                                  django_assert_num_queries):
    """Two queries whatever the number of producers and products: the user with their
    roles, and one statement with the page's producers, their areas and products (and
    their count when it is not kept yet, dossiers/producer_rows.py)."""
    product(world)
    c = login(client, world["officer"])
    c.get("/dossiers/producers/")  # warm the session and role caches

    with CaptureQueriesContext(connection) as few:
        _r, html = get(c, "/dossiers/producers/")
    assert len(few.captured_queries) == 2
    for i in range(3):
        extra = services.create_producer(world["officer"],
                                         data=producer_data(world["ninhkieu"]))
        services.create_product(world["officer"], producer=extra, name=f"Trà {i}",
                                criteria_set=set_of("148", 14))
    with django_assert_num_queries(len(few.captured_queries)):
        _r, more = get(c, "/dossiers/producers/")

    assert "Hợp tác xã Mắm Cái" in html and "Mắm cá linh" in html
    assert f'href="/dossiers/producers/{world["producer"].pk}/edit/"' in html
    assert "Hợp tác xã Phong Điền" not in html
    assert more.count('id="producer-') == 4


def test_criteria_set_choices_are_published_only(world):
    from dossiers.forms import ProductForm

    draft = set_of("148", 10)
    CriteriaSet.objects.filter(pk=draft.pk).update(status="retired")
    form = ProductForm(user=world["officer"], regime=world["round_nk"].regime)

    offered = [value for _group, options in form.fields["criteria_set"].choices[1:]
               for value, _label in options]
    assert draft.pk not in offered and set_of("148", 9).pk in offered


def test_renaming_a_product_of_an_earlier_regime_keeps_its_set(client, world):
    made = services.create_product(world["officer"], producer=world["producer"],
                                   name="Rau sạch", criteria_set=set_of("26/2026", 1))
    c = login(client, world["officer"])
    _r, page = get(c, f"/dossiers/products/{made.pk}/edit/")

    response = c.post(f"/dossiers/products/{made.pk}/edit/",
                      {"name": "Rau sạch Ninh Kiều", "criteria_set": ""})

    assert vi("— keep the current set —") in select_html(page, "criteria_set")
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.criteria_set) == ("Rau sạch Ninh Kiều", set_of("26/2026", 1))


def test_bad_input_on_the_product_pages_is_a_message_never_a_500(client, world):
    made = product(world)
    c = login(client, world["officer"])

    bad_round, _html = get(c, "/dossiers/products/new/?round=abc")
    bad_set, html = post(c, f"/dossiers/products/{made.pk}/edit/",
                         {"name": "  ", "criteria_set": "99999999999999999999"})
    gone = c.get("/dossiers/products/99999999/edit/")

    assert bad_round.status_code == 200
    assert bad_set.status_code == 200
    assert field_errors(html, "id_name") == [vi("This field is required.")]
    assert field_errors(html, "id_criteria_set")
    assert gone.status_code == 404
    made.refresh_from_db()
    assert made.name == "Mắm cá linh"
