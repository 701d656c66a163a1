"""Demo councils for ``manage.py seed_demo`` (a step of ``ocop.demo.STEPS``, after
``seed_dossiers``).

What it creates, all through ``councils.services`` and ``scoring.services`` (so that every
change has its audit event and the dossiers move on through their workflow):

* Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều (148, district), 7 members
  (``hd.ninhkieu.1`` chair, ``.2`` vice-chair, ``.3``…``.7`` members), set up by the
  district officer ``canbo.ninhkieu`` in March 2025; one CLOSED session held on 10/06/2025
  — while 148 and the districts were in force — on the district's round 1/2025 with three
  products filed for it: every member scored, ``hd.ninhkieu.6`` recused from one product;
  one 4★ product is forwarded and arrives in the intake of pre-2025 Cần Thơ's round 2/2025
  (148, province) with its district result; one ~75-point product capped to 3★ by a
  minimum-star mark and one 3★ product are recognised by the district, whose People's
  Committee issued decision 245/QĐ-UBND of 20/06/2025 for them (ratings valid until
  19/06/2028, certificates made at once when Celery is eager); the minutes are queued.
* Hội đồng đánh giá, phân hạng sản phẩm OCOP thành phố Cần Thơ (26/2026, province), 9
  members (``hd.cantho.1`` chair, ``.2`` vice-chair, others members), set up by the
  department (``sonn.cantho``); one CLOSED session on the province round 2/2026, held two
  weeks before seeding, whose two recognised products (4★, 3★) wait for the department's
  decision; and one OPEN session on the same round with one more pre-assessed dossier
  (filed here through ``dossiers.services``, so that the dossier demo's own pre-assessed
  one stays available) on the agenda: ``.2`` and ``.3`` have submitted their sheets,
  ``.4``…``.8`` have partly filled drafts, the chair and ``.9`` have not started.

The councils have no secretary (the demo accounts are the members only). All accounts use
the demo password. Idempotent: a council is keyed on its establishing decision number and
an existing council is skipped with its sessions.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from dossiers.demo import Story, _clock, _round, _Teller, rounds_26, tell_26
from dossiers.models import DossierState, EvaluationRound, Gender, ProducerType
from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level
from scoring import services as scoring
from scoring.models import Criterion, Option

from . import services
from .models import Council, MemberRole

#: (full name, organisation) of ``<prefix>.1``, ``.2``… — the first is the chair, the second the
#: vice-chair.
NINH_KIEU_MEMBERS = [
    ("Phạm Minh Tuấn", "Ủy ban nhân dân quận Ninh Kiều"),
    ("Lê Thị Thu Hà", "Phòng Kinh tế quận Ninh Kiều"),
    ("Nguyễn Hoàng Phúc", "Phòng Tài nguyên và Môi trường quận Ninh Kiều"),
    ("Trần Thị Kim Ngân", "Trung tâm Y tế quận Ninh Kiều"),
    ("Võ Văn Hải", "Hội Nông dân quận Ninh Kiều"),
    ("Đặng Thị Mỹ Duyên", "Phòng Văn hóa và Thông tin quận Ninh Kiều"),
    ("Huỳnh Quốc Bảo", "Phòng Tài chính - Kế hoạch quận Ninh Kiều"),
]
CAN_THO_MEMBERS = [
    ("Nguyễn Thanh Sơn", "Ủy ban nhân dân thành phố Cần Thơ"),
    ("Lê Hoàng Nam", "Sở Nông nghiệp và Môi trường thành phố Cần Thơ"),
    ("Phan Thị Ngọc Diễm", "Sở Công Thương thành phố Cần Thơ"),
    ("Hồ Văn Lâm", "Sở Y tế thành phố Cần Thơ"),
    ("Trịnh Thị Bảo Trân", "Sở Khoa học và Công nghệ thành phố Cần Thơ"),
    ("Dương Minh Khoa", "Sở Văn hóa, Thể thao và Du lịch thành phố Cần Thơ"),
    ("Ngô Thị Thanh Tâm", "Sở Tài chính thành phố Cần Thơ"),
    ("Lý Quốc Vinh", "Liên minh Hợp tác xã thành phố Cần Thơ"),
    ("Châu Thị Hồng Nhung", "Hội Nông dân thành phố Cần Thơ"),
]

NINH_KIEU_DECISION = "1268/QĐ-UBND"
CAN_THO_DECISION = "845/QĐ-UBND"

RECUSAL_REASON = ("Là người thân (em ruột) của người đại diện chủ thể sản xuất; xin không "
                  "tham gia chấm điểm sản phẩm này.")
#: Open session: (member index, target, share of criteria answered, submitted).
OPEN_SHEETS = [
    (1, 68, 1.0, True), (2, 72, 1.0, True),
    (3, 70, 0.8, False), (4, 66, 0.6, False), (5, 74, 0.5, False), (6, 69, 0.35, False),
    (7, 71, 0.2, False),
]


def _member_users(prefix, people):
    """The accounts ``<prefix>.1``… with the demo password, created if missing. The
    password is hashed once for all of them (hashing is deliberately slow)."""
    from ocop.demo import DEMO_PASSWORD

    existing = {u.username: u for u in User.objects.filter(username__startswith=f"{prefix}.")}
    hashed = None
    users = []
    for i, (name, organisation) in enumerate(people, start=1):
        username = f"{prefix}.{i}"
        user = existing.get(username)
        if user is None:
            hashed = hashed or make_password(DEMO_PASSWORD)
            user = User.objects.create(username=username, full_name=name,
                                       organisation=organisation, password=hashed)
        users.append(user)
    return users


def _members(users, people):
    roles = [MemberRole.CHAIR, MemberRole.VICE_CHAIR]
    return [{"user": user, "role": roles[i] if i < len(roles) else MemberRole.MEMBER,
             "organisation": organisation, "order": i}
            for i, (user, (_name, organisation)) in enumerate(zip(users, people, strict=True))]


def choices(criteria_set, target, *, rotate=0, stars=3):
    """{criterion id: option id} totalling about ``target``: every criterion starts at the
    lowest option that meets its minimum-star marks up to ``stars``, then options are raised
    criterion by criterion (starting at ``rotate``) while the total stays ≤ ``target``."""
    criteria = list(Criterion.objects.filter(criteria_set=criteria_set).order_by("order"))
    options = {}
    for option in Option.objects.filter(criteria_set=criteria_set).order_by("points", "order"):
        options.setdefault(option.criterion_id, []).append(option)
    chosen = {}
    for criterion in criteria:
        listed = options.get(criterion.pk, [])
        need = max([o.points for o in listed if o.min_star is not None and o.min_star <= stars],
                   default=None)
        floor = listed[0] if listed else None
        for option in listed:
            if need is not None and option.points < need:
                continue
            if criterion.min_star is not None and criterion.min_star <= stars \
                    and option.points <= 0:
                continue
            floor = option
            break
        if floor is not None:
            chosen[criterion.pk] = floor
    total = sum(o.points for o in chosen.values())
    shift = rotate % max(len(criteria), 1)
    for criterion in criteria[shift:] + criteria[:shift]:
        for option in options.get(criterion.pk, []):
            step = option.points - chosen[criterion.pk].points
            if step > 0 and total + step <= target:
                total += step
                chosen[criterion.pk] = option
    return {pk: option.pk for pk, option in chosen.items()}


def _fill(session, dossier, member, chosen, *, share=1.0, submit=True):
    user = member.user
    sheet = scoring.open_sheet(session, dossier, member, user)
    items = list(chosen.items())
    for criterion_id, option_id in items[:round(len(items) * share)]:
        sheet = scoring.save_entry(sheet, user, criterion_id=criterion_id,
                                   option_id=option_id, version=sheet.version)
    if submit:
        sheet = scoring.submit_sheet(sheet, user)
    return sheet


def _agenda_dossiers(round_, states):
    return list(round_.dossiers.filter(state__in=states).select_related("criteria_set")
                .order_by("product__name"))


#: The 148 era (docs/decisions.md, "Demo"): the district council met, and its People's
#: Committee decided, while 148 and the districts were in force (before 01/07/2025).
HISTORY_ANCHOR = datetime.date(2025, 6, 9)
NINH_KIEU_HELD = datetime.date(2025, 6, 10)
NINH_KIEU_DECIDED = datetime.date(2025, 6, 20)
NINH_KIEU_DECISION_NO = 245
NINH_KIEU_STORIES = [
    Story("1801305621", ProducerType.ENTERPRISE, "Công ty TNHH Thực phẩm Ninh Kiều Xanh",
          "Tạ Minh Quân", Gender.MALE, "Kinh", "Phường An Hòa", "Nước mắm cá linh Ninh Kiều",
          9, "pre_assessed", 60, "Số 33 đường Mậu Thân"),
    Story("1801305622", ProducerType.COOPERATIVE, "Hợp tác xã Mắm Tây Đô",
          "Ngô Thị Kim Loan", Gender.FEMALE, "Kinh", "Phường Xuân Khánh",
          "Mắm tép chưng thịt Tây Đô", 9, "pre_assessed", 58, "Số 7 hẻm 12 đường 30 Tháng 4"),
    Story("1801305623", ProducerType.HOUSEHOLD, "Hộ kinh doanh Nước chấm Bà Sáu",
          "Lê Thị Sáu", Gender.FEMALE, "Kinh", "Phường Hưng Lợi", "Nước chấm me Hưng Lợi", 9,
          "pre_assessed", 56, "Số 15 đường 3 Tháng 2"),
]
#: Member targets per product (agenda order: by product name): a 4★ product forwarded to
#: the province, a ~75-point product capped to 3★ by a minimum-star mark (recognised 3★ by
#: the district, not forwarded), a 3★ product; None: recused.
CLOSED_TARGETS = [
    (76, 78, 72, 81, 75, 74, 79),
    (63, 66, 58, 64, 61, None, 65),
    (76, 74, 77, 73, 75, 78, 74),
]
#: Which of them are scored below a 4★ mark (the cap), by agenda position.
CAPPED = {2}


def _history_rounds(district):
    """Round 1/2025 of the district (148) and round 2/2025 of pre-2025 Cần Thơ (148,
    province), where the district forwards; both end before the districts and the pre-2025
    province did (30/06/2025) and before 148 as written did (05/07/2025)."""
    district_round = _round("148", "district", district, 2025, 1,
                            datetime.date(2025, 5, 15), NINH_KIEU_HELD)
    province_round = _round("148", "province", district.province or district.parent, 2025, 2,
                            datetime.date(2025, 6, 25), datetime.date(2025, 6, 30))
    return district_round, province_round


def capped(criteria_set, target, *, rotate=0):
    """Like :func:`choices` but one criterion with a 4★ mark stays below it, so the product
    cannot be rated above 3★ whatever its score."""
    chosen = choices(criteria_set, target, rotate=rotate, stars=3)
    marked = (Option.objects.filter(criteria_set=criteria_set, min_star=4)
              .order_by("criterion__order").first())
    if marked is not None:
        below = (Option.objects.filter(criterion_id=marked.criterion_id,
                                       points__lt=marked.points)
                 .order_by("-points").first())
        if below is not None:
            chosen[marked.criterion_id] = below.pk
    return chosen


def seed_ninh_kieu(ctx):
    if Council.objects.filter(decision_number=NINH_KIEU_DECISION).exists():
        return None
    officer = User.objects.get(username="canbo.ninhkieu")
    district = AdministrativeUnit.objects.legacy().get(level=Level.DISTRICT, code="916")
    users = _member_users("hd.ninhkieu", NINH_KIEU_MEMBERS)
    round_, _province_round = _history_rounds(district)
    units = {unit.name: unit for unit in district.children.all()}
    teller = _Teller(officer, round_, units, HISTORY_ANCHOR, 13)
    for index, story in enumerate(NINH_KIEU_STORIES):
        teller.tell(index, story)
    dossiers = _agenda_dossiers(round_, services.AGENDA_STATES)[:3]
    held = NINH_KIEU_HELD
    start = timezone.make_aware(datetime.datetime.combine(held - datetime.timedelta(days=7),
                                                          datetime.time(7, 30)))
    with _clock(start):
        council = services.create_council(officer, data={
            "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều",
            "level": "district", "unit": district, "decision_number": NINH_KIEU_DECISION,
            "decision_date": datetime.date(2025, 3, 16),
            "decision_signer": "Chủ tịch Ủy ban nhân dân quận Ninh Kiều",
            "term_start": datetime.date(2025, 3, 16), "term_end": datetime.date(2025, 6, 30),
        }, members=_members(users, NINH_KIEU_MEMBERS))
        if not dossiers:
            return council
        session = services.create_session(
            officer, council=council, round=round_, date=held,
            place="Hội trường Ủy ban nhân dân quận Ninh Kiều, số 2 đường Hòa Bình")
        session = services.set_agenda(officer, session, dossiers)
        session = services.open_scoring(officer, session)
        members = list(council.members.order_by("order"))
        for position, (dossier, targets) in enumerate(zip(dossiers, CLOSED_TARGETS,
                                                          strict=False)):
            pick = capped if position in CAPPED else choices
            for index, (member, target) in enumerate(zip(members, targets, strict=True)):
                if target is None:
                    services.declare_recusal(member.user, session, member=member,
                                             dossier=dossier, reason=RECUSAL_REASON)
                    continue
                _fill(session, dossier, member,
                      pick(dossier.criteria_set, target, rotate=index * 5))
    with _clock(timezone.make_aware(datetime.datetime.combine(held, datetime.time(8, 0)))):
        session = services.start_meeting(officer, session, present=members)
        chair = members[0].user
        for dossier in dossiers:
            services.close_item(chair, session, dossier)
        services.close_session(chair, session)
    _issue_history_decision(officer, round_)
    return council


def _issue_history_decision(officer, round_):
    """The district's recognition decision of 20/06/2025 for the session's 3★ results."""
    from dossiers import decisions

    results = list(decisions.pending_results(officer).filter(round=round_))
    if not results:
        return None
    moment = timezone.make_aware(datetime.datetime.combine(NINH_KIEU_DECIDED,
                                                           datetime.time(9, 0)))
    with _clock(moment):
        draft = decisions.draft_decision(officer, results)
        decisions.update_draft(officer, draft, data={
            "recipients": "Như Điều 3\nỦy ban nhân dân thành phố Cần Thơ (để b/c)\n"
                          "Sở Nông nghiệp và Phát triển nông thôn thành phố Cần Thơ\n"
                          "Lưu: VT, KT"})
        return decisions.issue_decision(officer, draft, number=NINH_KIEU_DECISION_NO,
                                        date=NINH_KIEU_DECIDED, signer_name="Nguyễn Thành Trung")


#: The product of the open session: a pre-assessed 26/2026 dossier of its own (the dossier
#: demo's pre-assessed one stays pre-assessed, for a user to put on an agenda).
OPEN_STORY = Story(
    "1801406706", ProducerType.COOPERATIVE, "Hợp tác xã Nông nghiệp Tân Thới",
    "Huỳnh Thị Kim Phượng", Gender.FEMALE, "Kinh", "Xã Phong Điền",
    "Mứt khóm sấy dẻo Phong Điền", 7, "pre_assessed_26", 28, "Ấp Tân Long A")


def _anchor(round_):
    """The stories of the current round are dated before its intake closed."""
    return min(timezone.localdate(), round_.intake_deadline)


def _open_session_dossiers(round_):
    """The open session's dossier, filed and pre-assessed by the commune's officer through
    ``dossiers.services`` (as the dossier demo tells its stories)."""
    tell_26(round_, [OPEN_STORY], _anchor(round_), 9)
    return list(round_.dossiers.filter(
        product__producer__registration_no=OPEN_STORY.registration_no,
        state=DossierState.PRE_ASSESSED))


#: The province's closed session (26/2026): two products recognised (4★, 3★) whose
#: decision is left for the department to draft and issue (the decision journey).
CAN_THO_CLOSED_STORIES = [
    Story("1801406711", ProducerType.COOPERATIVE, "Hợp tác xã Nông nghiệp Mỹ Khánh",
          "Võ Thị Thu Trang", Gender.FEMALE, "Kinh", "Xã Phong Điền",
          "Chuối sấy dẻo Mỹ Khánh", 7, "pre_assessed_26", 48, "Ấp Mỹ Ái"),
    Story("1801406712", ProducerType.ENTERPRISE, "Công ty TNHH Trà Tây Đô",
          "Phan Quốc Việt", Gender.MALE, "Kinh", "Phường Ninh Kiều", "Trà mãng cầu Tây Đô",
          7, "pre_assessed_26", 46, "Số 22 đường Nguyễn Trãi"),
]
CAN_THO_CLOSED_TARGETS = [(82, 80, 84, 79, 81, 83, 80, 82, 78),
                          (64, 62, 66, 61, 63, 65, 60, 64, 62)]


def _seed_can_tho_closed(staff, council, round_):
    """A session of the province council held about two weeks before seeding, closed."""
    today = timezone.localdate()
    dossiers = tell_26(round_, CAN_THO_CLOSED_STORIES, _anchor(round_), 10)
    if not dossiers:
        return None
    held = today - datetime.timedelta(days=14)
    while held.weekday() >= 5:
        held -= datetime.timedelta(days=1)
    with _clock(timezone.make_aware(datetime.datetime.combine(
            held - datetime.timedelta(days=5), datetime.time(8, 0)))):
        session = services.create_session(
            staff, council=council, round=round_, date=held,
            place="Phòng họp Sở Nông nghiệp và Môi trường, số 6 đường Ngô Hữu Hạnh")
        session = services.set_agenda(staff, session, dossiers)
        session = services.open_scoring(staff, session)
        members = list(council.members.order_by("order"))
        ordered = list(session.agenda.select_related("dossier__criteria_set")
                       .order_by("order", "id"))
        for item, targets in zip(ordered, CAN_THO_CLOSED_TARGETS, strict=False):
            stars = 4 if min(targets) >= 70 else 3
            for index, (member, target) in enumerate(zip(members, targets, strict=True)):
                _fill(session, item.dossier, member,
                      choices(item.dossier.criteria_set, target, rotate=index * 3,
                              stars=stars))
    with _clock(timezone.make_aware(datetime.datetime.combine(held, datetime.time(8, 0)))):
        session = services.start_meeting(staff, session, present=members)
        chair = members[0].user
        for item in ordered:
            services.close_item(chair, session, item.dossier)
        return services.close_session(chair, session)


def seed_can_tho(ctx):
    if Council.objects.filter(decision_number=CAN_THO_DECISION).exists():
        return None
    staff = User.objects.get(username="sonn.cantho")
    province = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    users = _member_users("hd.cantho", CAN_THO_MEMBERS)
    council = services.create_council(staff, data={
        "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP thành phố Cần Thơ",
        "level": "province", "unit": province, "decision_number": CAN_THO_DECISION,
        "decision_date": datetime.date(2026, 2, 10),
        "decision_signer": "Chủ tịch Ủy ban nhân dân thành phố Cần Thơ",
        "term_start": datetime.date(2026, 2, 10), "term_end": datetime.date(2027, 2, 9),
    }, members=_members(users, CAN_THO_MEMBERS))
    # The 26/2026 round whose sessions are held now (dossiers.demo.rounds_26).
    year, number, _receive, _finish = rounds_26(timezone.localdate())["current"]
    round_ = EvaluationRound.objects.get(unit=province, level__admin_level="province",
                                         regime__slug="26/2026", year=year, number=number)
    _seed_can_tho_closed(staff, council, round_)
    dossiers = _open_session_dossiers(round_)
    session = services.create_session(
        staff, council=council, round=round_,
        date=timezone.localdate() + datetime.timedelta(days=7),
        place="Phòng họp Sở Nông nghiệp và Môi trường, số 6 đường Ngô Hữu Hạnh")
    session = services.set_agenda(staff, session, dossiers)
    session = services.open_scoring(staff, session)
    members = list(council.members.order_by("order"))
    dossier = dossiers[0]
    for index, target, share, submit in OPEN_SHEETS:
        _fill(session, dossier, members[index],
              choices(dossier.criteria_set, target, rotate=index * 4),
              share=share, submit=submit)
    return council


def seed_councils(ctx):
    """The demo councils and their sessions (see the module docstring). Idempotent."""
    ctx["councils"] = [c for c in (seed_ninh_kieu(ctx), seed_can_tho(ctx)) if c]
    return ctx["councils"]
