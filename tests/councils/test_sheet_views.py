"""The council member pages: my sessions, the agenda, the scoresheet (autosave with htmx,
whole-form save without JavaScript, submit), independence and refusals."""

import re
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone, translation

from councils import services as council_services
from councils.models import Recusal
from scoring.models import Criterion, Option, ScoreEntry, Scoresheet, SheetState
from tests import factories

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true", **EN}


@pytest.fixture
def board(cantho, criteria, make_user):
    """A district council (chair, An, Bình) scoring one fish-sauce dossier (148 set 09,
    32 criteria), and a member of another council with their own session (the outsider)."""
    chair = make_user("hd.chutich", first_name="Chủ tịch")
    an = make_user("hd.an", first_name="An")
    binh = make_user("hd.binh", first_name="Bình")
    outsider = make_user("hd.khac", first_name="Người ngoài")
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    dossier = factories.dossier(round_, state="in_evaluation", product_name="Nước mắm Cái Răng")
    council = factories.council(cantho["ninhkieu"], [chair, an, binh])
    session = factories.session(council, round_, [dossier])
    other_round = factories.evaluation_round(cantho["phongdien"])
    other_dossier = factories.dossier(other_round, state="in_evaluation",
                                      product_name="Bánh tét Phong Điền")
    other_council = factories.council(cantho["phongdien"], [outsider], name="Hội đồng khác")
    other_session = factories.session(other_council, other_round, [other_dossier])
    members = {m.user.username: m for m in council.members.select_related("user")}
    return {"session": session, "dossier": dossier, "council": council, "chair": chair,
            "an": an, "binh": binh, "outsider": outsider, "members": members,
            "other_session": other_session, "other_dossier": other_dossier}


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def sheet_url(board, name="councils:sheet"):
    return reverse(name, args=(board["session"].pk, board["dossier"].pk))


def options_by_criterion(criteria_set):
    found = {}
    for option in Option.objects.filter(criteria_set=criteria_set).order_by("order"):
        found.setdefault(option.criterion_id, []).append(option)
    return found


def best(options):
    return max(options, key=lambda o: o.points)


def fmt(value):
    with translation.override("en"):
        return floatformat(value, "-2")


def autosave(client, board, criterion_id, option_id, version, note=None):
    data = {"criterion": criterion_id, f"c-{criterion_id}": option_id or "",
            "version": version}
    if note is not None:
        data[f"n-{criterion_id}"] = note
    return client.post(sheet_url(board, "councils:sheet-autosave"), data, **HTMX)


def open_page(client, board, user):
    login(client, user)
    response = client.get(sheet_url(board), **EN)
    assert response.status_code == 200, response.content[:500]
    return response, Scoresheet.objects.get(member__user=user, dossier=board["dossier"])


def whole_form(sheet, choices, *, notes=None, version=None, action="save"):
    data = {"version": sheet.version if version is None else version, "action": action}
    for criterion_id, option in choices.items():
        data[f"c-{criterion_id}"] = option.pk
    for criterion_id, note in (notes or {}).items():
        data[f"n-{criterion_id}"] = note
    return data


def radio_tags(html):
    return re.findall(r'<input type="radio"[^>]*>', html)


# --- the page ---------------------------------------------------------------------------------


def test_sheet_page_shows_every_criterion_and_option_of_the_set(client, board):
    response, sheet = open_page(client, board, board["an"])
    html = response.content.decode()
    criteria = list(Criterion.objects.filter(criteria_set=sheet.criteria_set))
    options = Option.objects.filter(criteria_set=sheet.criteria_set)
    assert len(criteria) == 32
    assert html.count('<fieldset class="criterion"') == len(criteria)
    assert len(radio_tags(html)) == options.count()
    for criterion in criteria:
        assert f'id="crit-{criterion.pk}"' in html
        assert f'<span class="pos">{criterion.position}</span>' in html
    for option in options:
        assert (f'<input type="radio" name="c-{option.criterion_id}" id="o-{option.pk}" '
                f'value="{option.pk}">') in html
        assert f'<label for="o-{option.pk}">' in html
    # an empty sheet: nothing checked, totals 0, 0 of 32 answered, next unanswered = first
    assert " checked" not in html
    assert 'id="total-all">0<' in html
    assert "0 of 32 criteria answered" in html
    first = min(criteria, key=lambda c: c.order)
    assert f'href="#crit-{first.pk}" id="next-unanswered"' in html
    assert 'id="sheet-version" value="1"' in html
    assert "Nước mắm Cái Răng" in html
    assert sheet.entries.count() == 32


def test_sheet_page_is_keyboard_and_screen_reader_ready(client, board):
    response, _sheet = open_page(client, board, board["an"])
    html = response.content.decode()
    assert 'id="save-status" class="save-status" role="status" aria-live="polite"' in html
    assert html.count("<legend>") == 32
    assert html.count('<label for="n-') == 32  # one labelled note per criterion
    assert 'name="action" value="submit"' in html  # the no-JS form can submit too


def test_sheet_page_nav_marks_my_sessions_once(client, board):
    response, _sheet = open_page(client, board, board["an"])
    nav = response.content.decode().split('<nav class="mainnav"')[1].split("</nav>")[0]
    my_sessions = reverse("councils:my-sessions")
    assert nav.count(f'href="{my_sessions}"') == 1
    assert f'<a href="{my_sessions}" aria-current="page">' in nav


def test_sheet_page_folds_the_errata_of_the_criteria_files(client, cantho, criteria,
                                                          make_user):
    """The criteria files' data-provenance errata (E26-01 on 26/2026 set 01, criterion 2.4
    and its two options) show on the sheet of a member who administers the system as one
    folded line each (members who do not see the official text only:
    tests/councils/test_sheet_phone.py)."""
    from scoring.queries import erratum_id
    from tests.councils import build

    world = build(cantho, make_user, n_members=1, regime="26/2026", admin_level="province",
                  unit="province", set_no=1)
    world.users[0].is_staff = True
    world.users[0].save(update_fields=["is_staff"])
    login(client, world.users[0])
    html = client.get(reverse("councils:sheet", args=(world.session.pk, world.dossier.pk)),
                      **EN).content.decode()
    cs = world.dossier.criteria_set
    corrected = ([c.erratum for c in Criterion.objects.filter(criteria_set=cs) if c.erratum]
                 + [o.erratum for o in Option.objects.filter(criteria_set=cs) if o.erratum])
    assert len(corrected) >= 3
    assert html.count('<details class="erratum" data-erratum="E26-01"><summary>') == sum(
        erratum_id(text) == "E26-01" for text in corrected)
    assert '<div class="erratum"' not in html


def test_autosave_changes_version_totals_and_star(client, board):
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    criterion = Criterion.objects.filter(criteria_set=sheet.criteria_set).select_related(
        "section__part").order_by("order").first()
    option = best(by_criterion[criterion.pk])

    response = autosave(client, board, criterion.pk, option.pk, 1, note="Có GCN ATTP")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="saved"' in html
    assert 'id="sheet-version" value="2" hx-swap-oob="true"' in html
    part = criterion.section.part.code
    assert f'id="total-{part}">{fmt(option.points)}<' in html
    assert f'id="total-all">{fmt(option.points)}<' in html
    assert "1 of 32 criteria answered" in html
    assert f'id="mark-{criterion.pk}" hx-swap-oob="true">Answered<' in html
    assert 'data-stars="1"' in html  # a few points: one star
    entry = ScoreEntry.objects.get(sheet=sheet, criterion=criterion)
    assert (entry.option_id, entry.note) == (option.pk, "Có GCN ATTP")
    assert Scoresheet.objects.get(pk=sheet.pk).version == 2


def test_totals_panel_names_the_minimum_star_requirements_that_hold_the_star_back(
        client, board):
    """The panel (``councils.sheets.totals_html``, on the page and in each autosave's
    answer): the capped star, the band's star, each requirement not met with its link."""
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    # the best option everywhere, except the worst one where a better option is marked
    # for a star level: the band is high, the star is held back by that criterion
    marked = next(pk for pk, options in by_criterion.items()
                  if any(o.min_star for o in options)
                  and min(options, key=lambda o: o.points).min_star is None)
    choices = {pk: best(options) for pk, options in by_criterion.items()}
    choices[marked] = min(by_criterion[marked], key=lambda o: o.points)
    for pk, option in choices.items():
        ScoreEntry.objects.filter(sheet=sheet, criterion_id=pk).update(option=option)
    required = min(o.min_star for o in by_criterion[marked] if o.min_star)
    criterion = Criterion.objects.get(pk=marked)

    page = client.get(sheet_url(board), **EN).content.decode()
    answer = autosave(client, board, marked, choices[marked].pk, 1, note="x").content.decode()

    for html in (page, answer):
        panel = html[html.index('<aside id="sheet-totals"'):html.index("</aside>")]
        assert 'id="cap-reasons"' in panel
        stars = int(re.search(r'data-stars="(\d)"', panel).group(1))
        assert stars < required <= 5
        assert "★" * stars + "☆" * (5 - stars) in panel
        assert "the minimum-star requirements below hold it back" in panel
        item = panel[panel.index(f'<li data-criterion="{marked}"'):]
        item = item[:item.index("</li>")]
        assert f'For {required} stars: <a href="#crit-{marked}">{criterion.position}</a>' in item
        assert f"(this sheet: {fmt(choices[marked].points)})" in item
        assert "32 of 32 criteria answered" in panel and "next-unanswered" not in panel
    assert '<aside id="sheet-totals" class="sheet-totals" aria-labelledby="sheet-totals-h" ' \
           'hx-swap-oob="true">' in answer


def test_stale_autosave_shows_message_and_current_values_and_changes_nothing(client, board):
    _response, sheet = open_page(client, board, board["an"])
    criterion_id, options = next(iter(options_by_criterion(sheet.criteria_set).items()))
    first, second = options[0], options[1]
    assert autosave(client, board, criterion_id, first.pk, 1).status_code == 200  # tab 1

    response = autosave(client, board, criterion_id, second.pk, 1)  # tab 2, still at v1

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#sheet-area"
    html = response.content.decode()
    assert "changed elsewhere (another tab or device)" in html
    assert 'id="sheet-version" value="2"' in html
    assert f'id="o-{first.pk}" value="{first.pk}" checked>' in html  # the DB value
    assert f'id="o-{second.pk}" value="{second.pk}">' in html
    assert 'id="save-status" hx-swap-oob="innerHTML"' in html
    assert ScoreEntry.objects.get(sheet=sheet, criterion_id=criterion_id).option_id == first.pk
    assert Scoresheet.objects.get(pk=sheet.pk).version == 2


def test_autosave_of_a_note_keeps_the_option(client, board):
    _response, sheet = open_page(client, board, board["an"])
    criterion_id, options = next(iter(options_by_criterion(sheet.criteria_set).items()))
    autosave(client, board, criterion_id, options[0].pk, 1)
    response = client.post(sheet_url(board, "councils:sheet-autosave"),
                           {"criterion": criterion_id, "note": "Xem trang 12",
                            "option": options[0].pk, "version": 2}, **HTMX)
    assert response.status_code == 200
    assert 'id="sheet-version" value="3"' in response.content.decode()
    entry = ScoreEntry.objects.get(sheet=sheet, criterion_id=criterion_id)
    assert (entry.option_id, entry.note) == (options[0].pk, "Xem trang 12")


def test_submit_with_unanswered_criteria_lists_them_with_links(client, board):
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    criteria = list(Criterion.objects.filter(criteria_set=sheet.criteria_set).order_by("order"))
    answered = {c.pk: best(by_criterion[c.pk]) for c in criteria[:-3]}

    response = client.post(sheet_url(board), whole_form(sheet, answered, action="submit"), **EN)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Please answer every criterion before submitting" in html
    listed = re.search(r'<ul class="unanswered-list">(.*?)</ul>', html, re.S).group(1)
    for criterion in criteria[-3:]:
        assert f'href="#crit-{criterion.pk}"' in listed
    for criterion in criteria[:-3]:
        assert f'href="#crit-{criterion.pk}"' not in listed
    sheet.refresh_from_db()
    assert sheet.state == SheetState.DRAFT
    assert sheet.entries.filter(option__isnull=False).count() == 29  # the answers were saved


def test_submit_locks_the_sheet_and_a_later_save_is_refused(client, board):
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    choices = {cid: best(options) for cid, options in by_criterion.items()}

    asked = client.post(sheet_url(board), whole_form(sheet, choices, action="submit"), **EN)

    # first the confirmation: the total, what submitting means; nothing locked yet
    assert asked.status_code == 200
    confirm = asked.content.decode().split('id="confirm-submit"', 1)[1].split("</div>", 1)[0]
    assert "Your total is 100 points" in confirm
    assert 'value="confirm_submit"' in confirm and "you can no longer change it" in confirm
    sheet.refresh_from_db()
    assert sheet.state == SheetState.DRAFT

    response = client.post(sheet_url(board), whole_form(sheet, choices,
                                                        action="confirm_submit"), **EN)

    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.state == SheetState.SUBMITTED
    page = client.get(sheet_url(board), **EN).content.decode()
    radios = radio_tags(page)
    assert radios and all(tag.endswith(" disabled>") for tag in radios)
    assert "You have submitted this scoresheet" in page
    assert 'id="total-all">100<' in page
    assert 'name="action" value="submit"' not in page
    assert "hx-post" not in page.split('id="sheet"', 1)[1]  # no autosave any more
    version = sheet.version
    criterion_id, options = next(iter(by_criterion.items()))
    lowest = min(options, key=lambda o: o.points)

    refused = autosave(client, board, criterion_id, lowest.pk, version)

    assert refused.status_code == 422
    assert "has been submitted and can no longer be changed" in refused.content.decode()
    assert ScoreEntry.objects.get(sheet=sheet, criterion_id=criterion_id).option_id == \
        choices[criterion_id].pk
    assert Scoresheet.objects.get(pk=sheet.pk).version == version


def test_whole_form_save_without_javascript(client, board):
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    choices = {cid: options[0] for cid, options in list(by_criterion.items())[:5]}
    notes = {cid: f"ghi chú {i}" for i, cid in enumerate(choices)}

    response = client.post(sheet_url(board), whole_form(sheet, choices, notes=notes), **EN)

    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.version == 1 + 5  # one save_entry per changed criterion
    saved = {e.criterion_id: (e.option_id, e.note) for e in sheet.entries.all()}
    for cid, option in choices.items():
        assert saved[cid] == (option.pk, notes[cid])
    page = client.get(sheet_url(board), **EN).content.decode()
    assert "Your choices have been saved." in page
    for option in choices.values():
        assert f'id="o-{option.pk}" value="{option.pk}" checked>' in page
    assert "ghi chú 3</textarea>" in page
    # posting the same form again changes nothing (only changed criteria are saved)
    client.post(sheet_url(board), whole_form(sheet, choices, notes=notes), **EN)
    assert Scoresheet.objects.get(pk=sheet.pk).version == sheet.version


def test_whole_form_save_with_a_stale_version_shows_current_values(client, board):
    _response, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    cid, options = next(iter(by_criterion.items()))
    assert autosave(client, board, cid, options[0].pk, 1).status_code == 200

    response = client.post(sheet_url(board), whole_form(sheet, {cid: options[1]}, version=1),
                           **EN)

    assert response.status_code == 409
    html = response.content.decode()
    assert "changed elsewhere" in html
    assert f'id="o-{options[0].pk}" value="{options[0].pk}" checked>' in html
    assert ScoreEntry.objects.get(sheet=sheet, criterion_id=cid).option_id == options[0].pk


def test_whole_form_with_an_option_of_another_criterion_saves_nothing(client, board):
    _response, sheet = open_page(client, board, board["an"])
    (cid1, options1), (cid2, options2) = list(options_by_criterion(sheet.criteria_set)
                                              .items())[:2]
    data = whole_form(sheet, {cid1: options1[0]})
    data[f"c-{cid2}"] = options1[1].pk  # foreign option

    response = client.post(sheet_url(board), data, **EN)

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="err-{cid2}"' in html
    assert "does not belong to this criterion" in html
    assert not sheet.entries.filter(option__isnull=False).exists()


# --- independence and permissions --------------------------------------------------------------


def test_member_does_not_see_another_members_choices_before_submitting(client, board):
    # Bình scores everything at the top, with a note, and submits
    _r, binh_sheet = open_page(client, board, board["binh"])
    by_criterion = options_by_criterion(binh_sheet.criteria_set)
    choices = {cid: best(options) for cid, options in by_criterion.items()}
    notes = {next(iter(choices)): "GHI-CHU-CUA-BINH"}
    client.post(sheet_url(board), whole_form(binh_sheet, choices, notes=notes,
                                             action="confirm_submit"), **EN)
    assert Scoresheet.objects.get(pk=binh_sheet.pk).state == SheetState.SUBMITTED

    response, an_sheet = open_page(client, board, board["an"])

    html = response.content.decode()
    assert "GHI-CHU-CUA-BINH" not in html
    assert "Bình" not in html
    assert 'id="peer-sheets"' not in html
    assert 'id="total-all">0<' in html and " checked" not in html
    api = client.get("/api/v1/scoresheets/", **EN).json()
    assert [s["id"] for s in api["results"]] == [an_sheet.pk]
    assert "GHI-CHU-CUA-BINH" not in str(api)
    assert client.get(f"/api/v1/scoresheets/{binh_sheet.pk}/", **EN).status_code == 404


def test_outsider_gets_404_on_the_pages_and_cannot_touch_a_sheet(client, board):
    _r, an_sheet = open_page(client, board, board["an"])
    cid, options = next(iter(options_by_criterion(an_sheet.criteria_set).items()))
    login(client, board["outsider"])

    assert client.get(sheet_url(board), **EN).status_code == 404
    assert client.get(reverse("councils:member-agenda", args=(board["session"].pk,)),
                      **EN).status_code == 404
    response = autosave(client, board, cid, options[0].pk, 1)
    assert response.status_code == 404
    assert not Scoresheet.objects.filter(member__user=board["outsider"]).exists()
    assert not an_sheet.entries.filter(option__isnull=False).exists()


def test_recused_member_is_refused_and_no_sheet_is_created(client, board):
    member = board["members"]["hd.binh"]
    Recusal.objects.create(session=board["session"], member=member, dossier=board["dossier"],
                           reason="Con của chủ thể", recorded_by=board["binh"])
    login(client, board["binh"])

    response = client.get(sheet_url(board), **EN)

    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="refusal"' in html
    assert "declared a conflict of interest" in html
    assert "Con của chủ thể" in html
    assert not Scoresheet.objects.filter(member=member).exists()


def test_closed_item_refuses_autosave_with_the_service_message(client, board):
    _r, sheet = open_page(client, board, board["an"])
    cid, options = next(iter(options_by_criterion(sheet.criteria_set).items()))
    board["session"].agenda.update(closed_at=timezone.now())

    response = autosave(client, board, cid, options[0].pk, 1)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Scoring of this product has been closed by the chair." in html
    assert all(tag.endswith(" disabled>") for tag in radio_tags(html))
    assert not sheet.entries.filter(option__isnull=False).exists()


def test_secretary_gets_a_clear_refusal_not_a_sheet(client, board, make_user):
    from councils.models import CouncilMember, MemberRole

    secretary = make_user("hd.thuky")
    CouncilMember.objects.create(council=board["council"], user=secretary,
                                 role=MemberRole.SECRETARY)
    login(client, secretary)
    response = client.get(sheet_url(board), **EN)
    assert response.status_code == 403
    assert "secretary do not score" in response.content.decode()
    assert not Scoresheet.objects.filter(member__user=secretary).exists()


# --- my sessions, agenda, recusal form ---------------------------------------------------------


def test_my_sessions_lists_only_the_councils_of_the_user(client, board):
    login(client, board["an"])
    html = client.get(reverse("councils:my-sessions"), **EN).content.decode()
    assert f'data-session="{board["session"].pk}"' in html
    assert board["council"].name in html
    assert f'data-session="{board["other_session"].pk}"' not in html
    assert "Hội đồng khác" not in html


def test_agenda_shows_products_sets_dossier_links_and_my_sheet_status(client, board):
    _r, sheet = open_page(client, board, board["an"])
    cid, options = next(iter(options_by_criterion(sheet.criteria_set).items()))
    autosave(client, board, cid, options[0].pk, 1)

    html = client.get(reverse("councils:member-agenda", args=(board["session"].pk,)),
                      **EN).content.decode()

    assert "Nước mắm Cái Răng" in html
    assert board["dossier"].product.producer.name in html
    assert reverse("dossiers:detail", args=(board["dossier"].pk,)) in html
    assert sheet_url(board) in html
    assert "1 of 32 answered" in html
    assert reverse("councils:recusal", args=(board["session"].pk, board["dossier"].pk)) in html
    assert "Bánh tét Phong Điền" not in html


def test_recusal_form_records_the_recusal_through_the_service(client, board):
    from councils import services

    if not hasattr(services, "declare_recusal"):
        pytest.skip("councils.services.declare_recusal is not implemented yet")
    login(client, board["binh"])
    url = reverse("councils:recusal", args=(board["session"].pk, board["dossier"].pk))
    form = client.get(url, **EN).content.decode()
    assert 'name="reason"' in form and 'name="member"' not in form

    empty = client.post(url, {"reason": "  "}, **EN)
    assert empty.status_code == 422
    assert not Recusal.objects.exists()

    response = client.post(url, {"reason": "Vợ tôi là giám đốc hợp tác xã"}, **EN)

    assert response.status_code == 302
    recusal = Recusal.objects.get()
    assert (recusal.member.user, recusal.reason) == (board["binh"], "Vợ tôi là giám đốc hợp tác xã")
    page = client.get(sheet_url(board), **EN)
    assert page.status_code == 403 and "Vợ tôi là giám đốc" in page.content.decode()


def test_points_are_decimal_exact_in_totals(client, board):
    """Totals come from scoring.services.summarise: the sum of the chosen options."""
    _r, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    choices = {cid: best(options) for cid, options in list(by_criterion.items())[:7]}
    client.post(sheet_url(board), whole_form(sheet, choices), **EN)
    html = client.get(sheet_url(board), **EN).content.decode()
    total = sum((o.points for o in choices.values()), Decimal(0))
    assert f'id="total-all">{fmt(total)}<' in html


def test_other_members_totals_appear_only_after_own_submission(client, board):
    """peer_visibility "after_submit": Bình's total shows on An's page once An has
    submitted An's own sheet, never before."""
    board["council"].peer_visibility = "after_submit"
    board["council"].save()
    _r, binh_sheet = open_page(client, board, board["binh"])
    by_criterion = options_by_criterion(binh_sheet.criteria_set)
    top = {cid: best(options) for cid, options in by_criterion.items()}
    client.post(sheet_url(board), whole_form(binh_sheet, top, action="confirm_submit"), **EN)

    response, an_sheet = open_page(client, board, board["an"])
    assert 'id="peer-sheets"' not in response.content.decode()
    low = {cid: min(options, key=lambda o: o.points) for cid, options in by_criterion.items()}
    client.post(sheet_url(board), whole_form(an_sheet, low, action="confirm_submit"), **EN)

    html = client.get(sheet_url(board), **EN).content.decode()
    peers = html.split('id="peer-sheets"', 1)[1]
    assert "Bình" in peers
    assert ">100<" in peers


def test_secretary_records_a_recusal_for_a_member(client, board, make_user):
    from councils.models import CouncilMember, MemberRole

    secretary = make_user("hd.thuky2", first_name="Thư ký")
    CouncilMember.objects.create(council=board["council"], user=secretary,
                                 role=MemberRole.SECRETARY)
    login(client, secretary)
    url = reverse("councils:recusal", args=(board["session"].pk, board["dossier"].pk))
    form = client.get(url, **EN).content.decode()
    binh = board["members"]["hd.binh"]
    assert 'name="member"' in form and f'value="{binh.pk}"' in form

    response = client.post(url, {"member": binh.pk, "reason": "Anh ruột của giám đốc"}, **EN)

    assert response.status_code == 302
    recusal = Recusal.objects.get()
    assert (recusal.member, recusal.recorded_by) == (binh, secretary)
    login(client, board["binh"])
    assert client.get(sheet_url(board), **EN).status_code == 403


def test_reopened_sheet_shows_the_reason_the_chair_gave(client, board):
    _r, sheet = open_page(client, board, board["an"])
    by_criterion = options_by_criterion(sheet.criteria_set)
    choices = {cid: best(options) for cid, options in by_criterion.items()}
    client.post(sheet_url(board), whole_form(sheet, choices, action="confirm_submit"), **EN)
    reason = "Chênh lệch lớn ở phần B, đề nghị xem lại tiêu chí 2.a"
    council_services.reopen_sheet(board["chair"], Scoresheet.objects.get(pk=sheet.pk), reason)

    html = client.get(sheet_url(board), **EN).content.decode()

    notice = html.split('id="reopen-reason"', 1)[1].split("</div>", 1)[0]
    assert reason in notice and "reopened for re-scoring" in notice
    assert 'name="action" value="submit"' in html  # the member can submit again
