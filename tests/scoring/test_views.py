"""Staff pages of regimes and criteria sets (scoring/views.py, scoring/queries.py)."""

import re

import pytest
import yaml
from django.utils.html import escape

from scoring.loader import DATA_DIR, new_version
from scoring.models import CriteriaSet, Criterion, Option, Part, Section
from scoring.queries import TREE_QUERIES, criteria_tree

pytestmark = pytest.mark.django_db

UNRESOLVED_148 = {7, 11, 12, 13}
#: the user with their role assignments (ocop.accounts.backends; the session comes from the
#: cache), the set, the tree (one query per level), the set's other versions.
TREE_PAGE_QUERIES = 1 + 1 + TREE_QUERIES + 1


@pytest.fixture(autouse=True)
def _criteria(loaded_criteria):
    """All 52 shipped files, loaded once for the module."""


@pytest.fixture
def staff(client, django_user_model):
    """A logged-in user with no role at all: browsing needs none (no password hashing)."""
    client.force_login(django_user_model.objects.create(username="browse.staff"))
    return client


def get(client, url):
    """The page in English (the labels asserted below are the English source strings)."""
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def the_set(slug, set_no):
    return CriteriaSet.objects.select_related("regime").get(regime__slug=slug, set_no=set_no)


def read_yaml(folder, set_no):
    path = next((DATA_DIR / folder).glob(f"{set_no:02d}-*.yaml"))
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def regime_section(html, slug):
    """The HTML of one regime's panel on the index page."""
    pattern = rf'<section class="panel regime"[^>]*data-regime="{re.escape(slug)}">(.*?)</section>'
    match = re.search(pattern, html, re.S)
    assert match, f"no section for regime {slug}"
    return match.group(1)


def set_rows(section_html):
    """{set number: row HTML} of the criteria-set rows in a regime panel."""
    rows = re.findall(r'<tr class="criteria-set[^"]*" data-set-no="(\d+)"[^>]*>(.*?)</tr>',
                      section_html, re.S)
    return {int(no): row for no, row in rows}


def row_html(html, css_class, attr, value):
    pattern = rf'<tr class="{css_class}"[^>]*{attr}="{re.escape(str(value))}"[^>]*>(.*?)</tr>'
    match = re.search(pattern, html, re.S)
    assert match, (css_class, attr, value)
    return match.group(1)


def points(value):
    return f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"


def tiny_copy(slug, set_no):
    """A draft copy of a set cut down to one criterion with its options."""
    copy = new_version(the_set(slug, set_no))
    keep = copy.criteria.order_by("order").first()
    Criterion.objects.filter(criteria_set=copy).exclude(pk=keep.pk).delete()
    Section.objects.filter(criteria_set=copy).exclude(pk=keep.section_id).delete()
    Part.objects.filter(criteria_set=copy).exclude(sections__isnull=False).delete()
    assert copy.criteria.count() == 1 and copy.options.count() == keep.options.count()
    return copy


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/criteria/", "/criteria/{pk}/", "/criteria/{pk}/scoresheet.pdf"])
def test_criteria_pages_anonymous_are_sent_to_login(client, url):
    cs = the_set("26/2026", 1)
    url = url.format(pk=cs.pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"
    assert cs.name not in response.content.decode()


def test_criteria_set_page_unknown_id_is_404(staff):
    missing = CriteriaSet.objects.order_by("-pk").first().pk + 1000
    response = get(staff, f"/criteria/{missing}/")
    assert response.status_code == 404
    assert "criterion-row" not in response.content.decode()


# --- index -----------------------------------------------------------------------------------


def test_criteria_index_lists_all_26_sets_of_26_2026_with_names_and_versions(staff):
    html = get(staff, "/criteria/").content.decode()
    rows = set_rows(regime_section(html, "26/2026"))
    assert sorted(rows) == list(range(1, 27))
    for cs in CriteriaSet.objects.filter(regime__slug="26/2026").select_related("group"):
        row = rows[cs.set_no]
        assert escape(cs.name) in row
        assert f'href="/criteria/{cs.pk}/"' in row
        assert f"v{cs.version}" in row
        assert 'data-status="published"' in row and "Published" in row
    # grouped by product group, sub-group shown per set
    section = regime_section(html, "26/2026")
    assert section.count('class="group-row"') == len(
        {cs.group_id for cs in CriteriaSet.objects.filter(regime__slug="26/2026")})
    assert escape(the_set("26/2026", 1).subgroup.name) in rows[1]


def test_criteria_index_marks_148_drafts_not_scorable_with_reasons(staff):
    section = regime_section(get(staff, "/criteria/").content.decode(), "148")
    rows = set_rows(section)
    assert sorted(rows) == list(range(1, 27))
    drafts = {no for no, row in rows.items() if 'data-status="draft"' in row}
    assert drafts == UNRESOLVED_148
    assert "22 published, 4 not scorable" in section
    for no in UNRESOLVED_148:
        cs = the_set("148", no)
        row = rows[no]
        assert "Draft (not scorable)" in row
        assert cs.unresolved_reasons
        for reason in cs.unresolved_reasons:
            assert escape(reason) in row
    for no in set(rows) - UNRESOLVED_148:
        assert "not scorable" not in rows[no] and 'class="reasons"' not in rows[no]


def test_criteria_index_shows_levels_bands_and_windows_of_each_regime(staff):
    html = get(staff, "/criteria/").content.decode()
    current = regime_section(html, "26/2026")
    assert "Pre-assessment" in current and "Commune" in current
    assert "3★, 4★" in current and "≥ 90 points" in current
    assert "180 to 120 days before expiry" in current
    assert "up to 180 days after expiry" in current
    assert "within 15 working days" in current
    for stars, minimum in ((5, 90), (4, 70), (3, 50), (2, 30), (1, 0)):
        assert f"<td>{stars}★</td><td class=\"num\">≥ {minimum}</td>" in current
    old = regime_section(html, "148")
    assert "District" in old and "≥ 70 points" in old
    assert "30 days before expiry" in old


def test_criteria_index_regime_filter_shows_only_that_regime(staff):
    html = get(staff, "/criteria/?regime=26/2026").content.decode()
    assert re.findall(r'data-regime="([^"]+)"', html) == ["26/2026"]
    assert len(set_rows(regime_section(html, "26/2026"))) == 26


def test_criteria_index_148_1489_alone_lists_the_sets_of_148(staff):
    html = get(staff, "/criteria/?regime=148-1489").content.decode()
    section = regime_section(html, "148-1489")
    assert "scores with the criteria sets of 148/QĐ-TTg" in section
    rows = set_rows(section)
    assert sorted(rows) == list(range(1, 27))
    assert f'href="/criteria/{the_set("148", 7).pk}/"' in rows[7]
    # among all regimes it only points to them
    everything = get(staff, "/criteria/").content.decode()
    assert set_rows(regime_section(everything, "148-1489")) == {}
    assert 'href="?regime=148"' in regime_section(everything, "148-1489")


def test_criteria_index_unknown_regime_says_so_and_shows_all(staff):
    html = get(staff, "/criteria/?regime=999").content.decode()
    assert "There is no regime “999”" in html
    assert set(re.findall(r'data-regime="([^"]+)"', html)) == {"1048", "148", "148-1489",
                                                               "26/2026"}


def test_criteria_index_query_count_same_for_no_set_and_all_sets(staff,
                                                                 django_assert_num_queries):
    # 1048 has no set, 148 has 26; the user with their roles (the session from the cache),
    # regimes + levels + bands, sets
    with django_assert_num_queries(5):
        html = get(staff, "/criteria/?regime=1048").content.decode()
    assert "No criteria set is loaded for this regime." in html
    with django_assert_num_queries(5):
        html = get(staff, "/criteria/?regime=148").content.decode()
    assert len(set_rows(regime_section(html, "148"))) == 26
    with django_assert_num_queries(5):
        get(staff, "/criteria/")


# --- one set ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug,set_no", [("26/2026", 13), ("148", 26), ("26/2026", 23)])
def test_criteria_set_page_shows_every_criterion_and_option_with_points(staff, slug, set_no):
    cs = the_set(slug, set_no)
    html = get(staff, f"/criteria/{cs.pk}/").content.decode()
    criteria = list(cs.criteria.order_by("order"))
    assert html.count('class="criterion-row"') == len(criteria)
    for c in criteria:
        row = row_html(html, "criterion-row", "id", f"criterion-{c.position}")
        assert f"<td>{escape(c.code)}</td>" in row
        assert escape(c.title) in row
        assert f'<td class="num">{points(c.max)}</td>' in row
    options = list(cs.options.all())
    assert html.count('class="option-row"') == len(options)
    for o in options:
        row = row_html(html, "option-row", "data-option", o.pk)
        assert escape(o.label) in row
        assert f'<td class="num">{points(o.points)}</td>' in row
        if o.min_star:
            assert f"{'*' * o.min_star}</span>" in row and f"<td>{o.min_star}★</td>" in row
    for part in cs.parts.all():
        assert escape(part.title) in html
    for section in cs.sections.all():
        assert escape(section.title) in html


def test_criteria_set_page_shows_criterion_groups_as_heading_rows(staff):
    cs = the_set("26/2026", 13)
    html = get(staff, f"/criteria/{cs.pk}/").content.decode()
    groups = list(cs.criterion_groups.all())
    assert [g.code for g in groups] == ["6.1", "6.2"]
    for g in groups:
        heading = f'<tr class="group-row"><td>{g.code}</td><td>{escape(g.title)}</td>'
        assert html.count(heading) == 1
        # the heading comes right before its first sub-criterion
        first = g.criteria.order_by("order").first()
        between = html[html.index(heading):html.index(
            f'<tr class="criterion-row" id="criterion-{first.position}"')]
        assert 'class="criterion-row"' not in between


@pytest.fixture
def administrator(client, django_user_model):
    """The data's provenance (errata) is shown to administrators only."""
    client.force_login(django_user_model.objects.create(username="browse.admin",
                                                        is_staff=True))
    return client


def test_criteria_set_page_shows_each_erratum_next_to_its_element(administrator):
    cs = the_set("26/2026", 4)
    html = get(administrator, f"/criteria/{cs.pk}/").content.decode()
    corrected_options = list(cs.options.exclude(erratum=""))
    corrected_criteria = list(cs.criteria.exclude(erratum=""))
    elements = (corrected_options + corrected_criteria + list(cs.sections.exclude(erratum=""))
                + list(cs.parts.exclude(erratum="")))
    # INDEX.md: set 4 carries errata E26-01, E26-02 and E26-03
    assert {e.erratum[:6] for e in elements} == {"E26-01", "E26-02", "E26-03"}
    for o in corrected_options:
        row = row_html(html, "option-row", "data-option", o.pk)
        assert 'class="erratum"' in row and "Erratum" in row
        assert escape(o.erratum) in row
    for c in corrected_criteria:
        # the note row right after the criterion's own row
        after = html.split(f'id="criterion-{c.position}"', 1)[1].split("</tr>", 1)[1]
        next_row = after.split("</tr>", 1)[0]
        assert 'class="extra-row"' in next_row and escape(c.erratum) in next_row
    assert html.count('<div class="erratum"') == len(elements)


def test_criteria_set_page_shows_disqualification_notes_and_pdf_link(staff):
    cs = the_set("26/2026", 13)
    html = get(staff, f"/criteria/{cs.pk}/").content.decode()
    top = html.split('<table class="tree">', 1)[0]
    assert escape(cs.disqualification) in top
    assert cs.disqualification.startswith("Hồ sơ bị loại khi")
    for note in cs.notes:
        assert escape(note) in top
    assert escape(cs.product_code_format) in top
    assert f'href="/criteria/{cs.pk}/scoresheet.pdf"' in top
    assert "Not scorable" not in html


def test_criteria_set_page_of_draft_says_not_scorable_with_reasons(staff):
    cs = the_set("148", 7)
    html = get(staff, f"/criteria/{cs.pk}/").content.decode()
    top = html.split('<table class="tree">', 1)[0]
    assert "Not scorable" in top and "no product may be scored with it" in top
    assert cs.unresolved_reasons[0].startswith("E148-01")
    assert escape(cs.unresolved_reasons[0]) in top
    assert "Draft (not scorable)" in top


def test_criteria_set_page_query_count_same_for_one_criterion_and_34(
        staff, django_assert_num_queries):
    flowers = the_set("26/2026", 23)
    tiny = tiny_copy("26/2026", 23)
    large = the_set("26/2026", 13)
    assert large.criteria.count() == 34
    with django_assert_num_queries(TREE_PAGE_QUERIES):
        tiny_html = get(staff, f"/criteria/{tiny.pk}/").content.decode()
    with django_assert_num_queries(TREE_PAGE_QUERIES):
        large_html = get(staff, f"/criteria/{large.pk}/").content.decode()
    with django_assert_num_queries(TREE_PAGE_QUERIES):
        get(staff, f"/criteria/{flowers.pk}/")
    assert tiny_html.count('class="criterion-row"') == 1
    assert large_html.count('class="criterion-row"') == 34
    # the copy links its other version and says so
    assert f'href="/criteria/{flowers.pk}/">v1</a>' in tiny_html


# --- criteria_tree ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder,slug,set_no", [("26-2026", "26/2026", 13),
                                                 ("26-2026", "26/2026", 26),
                                                 ("148", "148", 11)])
def test_criteria_tree_matches_the_yaml_file(folder, slug, set_no):
    doc = read_yaml(folder, set_no)
    tree = criteria_tree(the_set(slug, set_no))
    assert [p["code"] for p in tree["parts"]] == [p["code"] for p in doc["parts"]]
    count = 0
    for part, ypart in zip(tree["parts"], doc["parts"], strict=True):
        assert part["title"] == ypart["title"] and part["max"] == ypart["max"]
        for section, ysection in zip(part["sections"], ypart["sections"], strict=True):
            assert (section["code"], section["title"]) == (str(ysection["code"]),
                                                           ysection["title"])
            assert [(g["code"], g["title"]) for g in section["criterion_groups"]] == [
                (g["code"], g["title"]) for g in ysection.get("criterion_groups") or []]
            for c, yc in zip(section["criteria"], ysection["criteria"], strict=True):
                count += 1
                assert (c["code"], c["title"], c["max"]) == (str(yc["code"]), yc["title"],
                                                             yc["max"])
                assert c["group"] == yc.get("group")
                assert c["min_star"] == yc.get("min_star")
                assert c["erratum"] == (yc.get("erratum") or "")
                assert [(o["label"], o["points"], o["min_star"], o["case"] or None)
                        for o in c["options"]] == [
                    (o["label"], o["points"], o.get("min_star"), o.get("case"))
                    for o in yc["options"]]
                assert [o["stars"] for o in c["options"]] == [
                    "*" * (o.get("min_star") or 0) for o in yc["options"]]
                if yc.get("cases"):
                    assert [b["case"]["code"] for b in c["case_blocks"]] == [
                        k["code"] for k in yc["cases"]]
                    assert sum(len(b["options"]) for b in c["case_blocks"]) == len(
                        yc["options"])
            # blocks hold the same criteria in the same order
            assert [c["id"] for b in section["blocks"] for c in b["criteria"]] == [
                c["id"] for c in section["criteria"]]
    assert tree["criteria_count"] == count


def test_criteria_tree_runs_one_query_per_level_whatever_the_size(django_assert_num_queries):
    tiny = tiny_copy("148", 25)
    with django_assert_num_queries(TREE_QUERIES):
        small = criteria_tree(tiny)
    coffee = the_set("148", 13)
    with django_assert_num_queries(TREE_QUERIES):
        large = criteria_tree(coffee)
    assert (small["criteria_count"], large["criteria_count"]) == (1, 34)
    assert large["options_count"] == Option.objects.filter(criteria_set=coffee).count()
