"""The scoresheet and the criteria pages as a council member reads them (issue 13, item 11):
data-provenance notes (errata, data warnings, source file) for administrators only, the
numbering read once, the stale-save message shown once, the agenda usable on a phone, the
running totals in view and the part header's "(maximum …)" readable."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from ocop.accounts.models import Role
from scoring.models import CriteriaSet, Criterion, Option, Scoresheet
from tests.councils import build

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true", **EN}
ROOT = Path(__file__).resolve().parents[2]


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


@pytest.fixture
def world(cantho, criteria, make_user):
    """A provincial council scoring a 26/2026 set 01 dossier, whose criteria file carries the
    erratum E26-01 (criterion 2.4 and two options): members m0 (chair) and m1; m1 is also a
    system administrator."""
    world = build(cantho, make_user, n_members=2, regime="26/2026", admin_level="province",
                  unit="province", set_no=1)
    admin_member = world.users[1]
    admin_member.is_superuser = True
    admin_member.save(update_fields=["is_superuser"])
    return world


def sheet_url(world):
    return reverse("councils:sheet", args=(world.session.pk, world.dossier.pk))


def errata_of(criteria_set):
    return ([c for c in Criterion.objects.filter(criteria_set=criteria_set) if c.erratum]
            + [o for o in Option.objects.filter(criteria_set=criteria_set) if o.erratum])


# --- provenance -------------------------------------------------------------------------------


def test_member_sheet_shows_the_official_text_without_errata(client, world):
    login(client, world.users[0])
    html = client.get(sheet_url(world), **EN).content.decode()
    cs = world.dossier.criteria_set
    corrected = errata_of(cs)
    assert len(corrected) >= 3  # the data carries provenance notes …
    assert 'class="erratum"' not in html  # … which a member does not see
    assert "E26-01" not in html and "Erratum" not in html
    assert 'class="data-warning"' not in html
    for item in corrected:  # the corrected official text is there
        title = getattr(item, "title", None) or item.label
        assert escape(title) in html


def test_admin_member_sheet_shows_the_errata_folded(client, world):
    login(client, world.users[1])
    html = client.get(sheet_url(world), **EN).content.decode()
    assert html.count('<details class="erratum" data-erratum="E26-01"><summary>') == len(
        errata_of(world.dossier.criteria_set))


def test_sheet_cache_keeps_member_and_admin_versions_apart(client, world):
    """The cached tree HTML is kept per audience: an administrator's visit first does not
    leak the errata into a member's page afterwards."""
    login(client, world.users[1])
    assert 'class="erratum"' in client.get(sheet_url(world), **EN).content.decode()
    login(client, world.users[0])
    assert 'class="erratum"' not in client.get(sheet_url(world), **EN).content.decode()


def test_outsider_cannot_open_the_sheet(client, world, make_user):
    outsider = make_user("hd.ngoai")
    login(client, outsider)
    assert client.get(sheet_url(world), **EN).status_code == 404
    assert not Scoresheet.objects.filter(member__user=outsider).exists()


@pytest.fixture
def set_01(criteria):
    return CriteriaSet.objects.get(regime__slug="26/2026", set_no=1)


def test_criteria_page_hides_provenance_from_a_member_and_colleague(client, world, set_01,
                                                                    cantho, make_user):
    officer = make_user("canbo.khac", Role.LOCAL_OFFICER, cantho["phongdien"])
    for user in (world.users[0], world.staff, officer):
        login(client, user)
        html = client.get(reverse("scoring:criteria-set", args=(set_01.pk,)),
                          **EN).content.decode()
        assert 'class="erratum"' not in html, user
        assert "E26-01" not in html
        assert "Source file" not in html
        assert 'class="extra-row"><td></td><td colspan="3"></td>' not in html  # no empty rows
        assert escape(errata_of(set_01)[0].title) in html


def test_criteria_page_shows_provenance_to_an_administrator(client, set_01, cantho,
                                                           make_user):
    admin = make_user("quantri", Role.ADMIN, cantho["province"])
    login(client, admin)
    html = client.get(reverse("scoring:criteria-set", args=(set_01.pk,)), **EN).content.decode()
    assert '<div class="erratum" role="note" data-erratum="E26-01">' in html
    if set_01.source_file:
        assert "Source file" in html


# --- numbering, conflict message, agenda ------------------------------------------------------


def test_criterion_numbering_reads_once(client, world):
    login(client, world.users[0])
    html = client.get(sheet_url(world), **EN).content.decode()
    criteria = list(Criterion.objects.filter(criteria_set=world.dossier.criteria_set))
    for criterion in criteria:
        assert f'<span class="pos">{criterion.position}</span> {escape(criterion.title)}' in html
    assert '<span class="code">' not in html
    legends = re.findall(r"<legend>(.*?)</legend>", html, re.S)
    assert len(legends) == len(criteria)
    for legend in legends:  # e.g. never "A.1.1 1.1"
        assert not re.search(r"[A-Z]\.\d+\.\d+</span> \d+\.\d+ ", legend), legend


def test_stale_save_message_shows_once_in_the_htmx_answer(client, world):
    login(client, world.users[0])
    client.get(sheet_url(world), **EN)
    sheet = Scoresheet.objects.get(member__user=world.users[0], dossier=world.dossier)
    criterion = Criterion.objects.filter(criteria_set=sheet.criteria_set).order_by("order")[0]
    first, second = Option.objects.filter(criterion=criterion).order_by("order")[:2]
    url = reverse("councils:sheet-autosave", args=(world.session.pk, world.dossier.pk))

    def save(option):
        return client.post(url, {"criterion": criterion.pk, f"c-{criterion.pk}": option.pk,
                                 "version": 1}, **HTMX)

    assert save(first).status_code == 200
    response = save(second)  # another tab, still at version 1

    assert response.status_code == 409
    html = response.content.decode()
    assert html.count("changed elsewhere (another tab or device)") == 1
    assert html.count('role="alert"') == 1
    assert "Not saved: see the message above the scoresheet." in html
    assert sheet.entries.get(criterion=criterion).option_id == first.pk


def test_agenda_stacks_on_a_phone_with_the_scoresheet_column_labelled(client, world):
    login(client, world.users[0])
    html = client.get(reverse("councils:member-agenda", args=(world.session.pk,)),
                      **EN).content.decode()
    assert '<table class="agenda stack-on-phone" id="agenda">' in html
    assert '<td class="my-sheet" data-label="My scoresheet">' in html
    assert sheet_url(world) in html
    assert html.count("data-label=") == 6


# --- the stylesheet ---------------------------------------------------------------------------


def _luminance(hex_colour):
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_part_header_maximum_is_white_on_the_brand_colour():
    css = (ROOT / "static/css/scoresheet.css").read_text()
    rule = re.search(r"\.sheet-part > h2 \.max \{([^}]*)\}", css).group(1)
    assert "color: #fff" in rule and "opacity" not in rule
    brand = re.search(r"--brand: (#[0-9a-f]{6})", (ROOT / "static/css/ocop.css").read_text())
    ratio = (_luminance("#ffffff") + 0.05) / (_luminance(brand.group(1)) + 0.05)
    assert ratio >= 4.5


def test_running_totals_stay_in_view_on_narrow_screens():
    css = (ROOT / "static/css/scoresheet.css").read_text()
    narrow = css.split("@media (max-width: 60rem)", 1)[1].split("\n}\n", 1)[0]
    assert ".sheet-layout { display: flex; flex-direction: column;" in narrow
    assert re.search(r"\.sheet-totals \{ position: sticky;[^}]*bottom: 0;", narrow)
