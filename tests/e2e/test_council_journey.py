"""A council session's journey in the browser (issue "Councils and scoring", Done when).

Arranged in Python on top of the demo rounds: a Ninh Kiều district council (148) of seven
members, a session of the Ninh Kiều round with one accepted product on its agenda, scoring
open and the meeting started with everyone present. Then, each member in their own
browser context: the chair and five members score the product (choices known to the
test), one member declares a conflict of interest, the chair sees the divergence flag on
the tracker, reopens one sheet with a reason, that member re-scores, the chair closes the
product and the session. The recorded result (means, band, capped star, outcome) must
equal a hand computation, and the minutes PDF must print the same numbers.

Selectors are ids, names, URLs and data attributes (see ``test_dossier_journey.py``).
"""

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from councils import minutes, services
from councils.models import ItemResultRecord, SessionState
from dossiers.models import DossierState, EvaluationRound
from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import StarBand
from tests import factories
from tests.councils import by_hand, criteria_of, pick

PASSWORD = "ocop-demo-2026"
CENT = Decimal("0.01")
#: (member index, first total, total after the chair reopened the sheet); index 0 is the
#: chair, index 3 recuses. Spread 80 − 60 = 20 > 10 → flagged; after re-scoring 80 − 70.
PLAN = {0: 75, 1: 72, 2: 78, 4: 60, 5: 80, 6: 74}
RECUSED = 3
REOPENED, RESCORE = 4, 70
REOPEN_REASON = "Chênh lệch lớn so với các thành viên khác; đề nghị xem lại phần B."
RECUSAL_REASON = "Là người thân của chủ cơ sở sản xuất."
NAMES = ["Phạm Minh Tuấn", "Lê Thị Thu Hà", "Nguyễn Hoàng Phúc", "Trần Thị Kim Ngân",
         "Võ Văn Hải", "Đặng Thị Mỹ Duyên", "Huỳnh Quốc Bảo"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CELERY_TASK_ALWAYS_EAGER = True


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{base}/")


def arrange():
    officer = User.objects.get(username="canbo.ninhkieu")
    district = AdministrativeUnit.objects.legacy().get(level=Level.DISTRICT, code="916")
    round_ = EvaluationRound.objects.get(unit=district, level__admin_level="district")
    dossier = factories.dossier(round_, set_no=9, state=DossierState.ACCEPTED,
                                product_name="Nước mắm cá linh Ninh Kiều")
    hashed = make_password(PASSWORD)
    users = [User.objects.create(username=f"tv.nk.{i + 1}", full_name=name,
                                 organisation="Ủy ban nhân dân quận Ninh Kiều",
                                 password=hashed) for i, name in enumerate(NAMES)]
    roles = ["chair", "vice_chair"] + ["member"] * 5
    council = services.create_council(officer, data={
        "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều",
        "level": "district", "unit": district, "decision_number": "77/QĐ-UBND",
        "decision_date": "2026-03-02", "decision_signer": "Chủ tịch UBND quận Ninh Kiều",
    }, members=[{"user": u, "role": r} for u, r in zip(users, roles, strict=True)])
    session = services.create_session(officer, council=council, round=round_,
                                      date=round_.intake_deadline, place="Hội trường UBND")
    services.set_agenda(officer, session, [dossier])
    services.open_scoring(officer, session)
    members = list(council.members.order_by("order"))
    services.start_meeting(officer, session, present=members)
    dossier.refresh_from_db()
    return session, dossier, members


def score_in_browser(page, chosen, previous=None):
    """Check each criterion's planned option (only the changed ones if ``previous``), then
    submit; the autosave runs on each change and the submit waits for it."""
    for criterion_id, option in chosen.items():
        if previous is not None and previous[criterion_id].pk == option.pk:
            continue
        page.locator(f"#o-{option.pk}").check()
    page.locator("#submit-sheet").click()
    expect(page.locator("#sheet-state")).to_have_class(re.compile(r"\bsheet-state-submitted\b"))


def hand_result(session, cs, totals_by_member):
    parts = [p for p, _t in totals_by_member.values()]
    totals = [t for _p, t in totals_by_member.values()]
    n = Decimal(len(totals))

    def mean(values):
        return (sum(values, Decimal(0)) / n).quantize(CENT, rounding=ROUND_HALF_UP)

    means = {code: mean([p[code] for p in parts]) for code in "ABC"}
    total = mean(totals)
    regime = session.round.regime
    band = max(b.stars for b in StarBand.objects.filter(regime=regime, min_score__lte=total))
    level = session.round.level
    if level.forward_from is not None and total >= level.forward_from:
        outcome, outcome_stars = "forward", None
    elif band in level.recognises:  # every member met the 4-star marks: no cap
        outcome, outcome_stars = "recognise", band
    else:
        outcome, outcome_stars = "not_recognise", None
    spread = max(totals) - min(totals)
    return means, total, band, outcome, outcome_stars, spread


def test_members_score_chair_reopens_and_closes(demo_live, browser, browser_context_args):
    base = demo_live.url
    session, dossier, members = arrange()
    cs = dossier.criteria_set
    plan = {i: pick(cs, target, stars=4, reverse=bool(i % 2)) for i, target in PLAN.items()}
    rescore = pick(cs, RESCORE, stars=4, reverse=True)
    assert rescore != plan[REOPENED]
    sheet_url = base + reverse("councils:sheet", args=[session.pk, dossier.pk])
    tracker_url = base + reverse("councils:tracker", args=[session.pk])

    pages = {}
    for index in [*PLAN, RECUSED]:
        context = browser.new_context(**browser_context_args)
        page = context.new_page()
        log_in(page, base, members[index].user.username)
        pages[index] = page

    # the chair and five members score; one member declares a conflict of interest
    for index in PLAN:
        pages[index].goto(sheet_url)
        score_in_browser(pages[index], plan[index])
    recusing = pages[RECUSED]
    recusing.goto(base + reverse("councils:recusal", args=[session.pk, dossier.pk]))
    recusing.locator("[name=reason]").fill(RECUSAL_REASON)
    recusing.locator("form.panel button[type=submit]").click()
    expect(recusing).to_have_url(base + reverse("councils:member-agenda", args=[session.pk]))
    recusing.goto(base + reverse("councils:recusal", args=[session.pk, dossier.pk]))
    expect(recusing.locator("#recusal-recorded")).to_contain_text(RECUSAL_REASON)

    # the chair sees the divergence flag and reopens the lowest sheet with a reason
    chair = pages[0]
    chair.goto(tracker_url)
    item = chair.locator(f"#item-{dossier.pk}")
    expect(item.locator("[data-divergence=flagged]")).to_be_visible()
    expect(item.locator(f"tr[data-member='{members[RECUSED].pk}'] [data-state]")
           ).to_have_attribute("data-state", re.compile("recused"))
    item.locator(f"a[href$='/members/{members[REOPENED].pk}/reopen/']").click()
    chair.locator("[name=reason]").fill(REOPEN_REASON)
    chair.locator("form.panel button[type=submit].primary").click()
    expect(chair).to_have_url(tracker_url)
    expect(item.locator(f"tr[data-member='{members[REOPENED].pk}'] [data-state]")
           ).not_to_have_attribute("data-state", "submitted")

    # the member re-scores (only the changed criteria) and submits again
    member = pages[REOPENED]
    member.goto(sheet_url)
    score_in_browser(member, rescore, previous=plan[REOPENED])

    # the chair closes the product, then the session
    chair.goto(tracker_url)
    expect(item.locator("[data-divergence=ok]")).to_be_visible()
    chair.locator(f"form[action$='/dossiers/{dossier.pk}/close/'] button[type=submit]").click()
    expect(item.locator("[data-field=mean-total]")).to_be_visible()
    close_url = reverse("councils:session-close", args=[session.pk])
    chair.locator(f"form[action='{close_url}'] button[type=submit]").click()
    expect(chair).to_have_url(base + reverse("councils:session-results", args=[session.pk]))

    # the recorded result equals the hand computation
    session.refresh_from_db()
    assert session.state == SessionState.CLOSED
    final = {**plan, REOPENED: rescore}
    by_member = {members[i].pk: by_hand(cs, chosen) for i, chosen in final.items()}
    means, total, band, outcome, outcome_stars, spread = hand_result(session, cs, by_member)
    assert len(criteria_of(cs)) == len(rescore)
    record = ItemResultRecord.objects.get(item__session=session, item__dossier=dossier)
    assert record.members_counted == 6
    assert {m["member"]: Decimal(m["total"]) for m in record.members} == {
        pk: t for pk, (_p, t) in by_member.items()}
    assert (record.mean_a, record.mean_b, record.mean_c) == (means["A"], means["B"], means["C"])
    assert record.mean_total == total == Decimal("74.83")
    assert record.band_stars == band == 4
    assert record.stars == band and record.cap_reasons == []
    assert (record.outcome, record.outcome_stars) == (outcome, outcome_stars) == ("forward",
                                                                                  None)
    assert record.divergence == spread == Decimal("10") and not record.divergence_flagged
    dossier.refresh_from_db()
    assert dossier.state == DossierState.FORWARDED

    # the minutes PDF prints the same numbers
    response = chair.request.get(base + reverse("councils:minutes-download",
                                                args=[session.pk]))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = " ".join("\n".join(p.extract_text() for p in
                              PdfReader(io.BytesIO(response.body())).pages).split())
    for _parts, member_total in by_member.values():
        assert minutes.points(member_total) in text
    for value in (*means.values(), total):
        assert minutes.points(value) in text
    assert f"thuộc hạng {band} sao" in text
    assert f"{record.stars} sao" in text
    assert NAMES[RECUSED] in text and RECUSAL_REASON in text
