"""Demo councils for ``manage.py seed_demo`` (a step of ``ocop.demo.STEPS``, after
``seed_dossiers``).

What it creates, all through ``councils.services`` and ``scoring.services`` (so that every
change has its audit event and the dossiers move on through their workflow):

* Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều (148, district), 7 members
  (``hd.ninhkieu.1`` chair, ``.2`` vice-chair, ``.3``…``.7`` members), set up by the
  district officer ``canbo.ninhkieu``; one CLOSED session on the Ninh Kiều round 1/2026
  (held a week before seeding): the round's accepted and pre-assessed demo dossiers on the
  agenda, every member scored, ``hd.ninhkieu.6`` recused from one product, both items
  closed (results recorded, dossiers forwarded / recognised) and the minutes queued (built
  at once when Celery is eager).
* Hội đồng đánh giá, phân hạng sản phẩm OCOP thành phố Cần Thơ (26/2026, province), 9
  members (``hd.cantho.1`` chair, ``.2`` vice-chair, others members), set up by the
  department (``sonn.cantho``); one OPEN session on the province round 2/2026 with one
  more pre-assessed dossier (filed here through ``dossiers.services``, so that the dossier
  demo's own pre-assessed one stays available) on the agenda: ``.2`` and ``.3`` have
  submitted their sheets, ``.4``…``.8`` have partly filled drafts, the chair and ``.9``
  have not started.

The councils have no secretary (the demo accounts are the members only). All accounts use
the demo password. Idempotent: a council is keyed on its establishing decision number and
an existing council is skipped with its sessions.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from dossiers.demo import Story, _clock, _Teller, _working_day
from dossiers.models import DossierState, EvaluationRound, Gender, ProducerType
from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level
from scoring import services as scoring
from scoring.models import Criterion, Option

from . import services
from .models import Council, MemberRole

YEAR = 2026

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

#: Closed session: each member's target total per agenda item (in agenda order); None:
#: recused from that product.
CLOSED_TARGETS = [
    (76, 78, 72, 81, 75, 74, 79),
    (63, 66, 58, 64, 61, None, 65),
]
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


def seed_ninh_kieu(ctx):
    if Council.objects.filter(decision_number=NINH_KIEU_DECISION).exists():
        return None
    officer = User.objects.get(username="canbo.ninhkieu")
    district = AdministrativeUnit.objects.legacy().get(level=Level.DISTRICT, code="916")
    users = _member_users("hd.ninhkieu", NINH_KIEU_MEMBERS)
    round_ = EvaluationRound.objects.get(unit=district, level__admin_level="district",
                                         year=YEAR, number=1)
    dossiers = _agenda_dossiers(round_, services.AGENDA_STATES)[:3]
    today = timezone.localdate()
    held = _working_day(today - datetime.timedelta(days=9))
    if held >= today:
        held = today - datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(held, datetime.time(7, 30)))
    with _clock(start):
        council = services.create_council(officer, data={
            "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều",
            "level": "district", "unit": district, "decision_number": NINH_KIEU_DECISION,
            "decision_date": datetime.date(YEAR, 3, 16),
            "decision_signer": "Chủ tịch Ủy ban nhân dân quận Ninh Kiều",
            "term_start": datetime.date(YEAR, 3, 16), "term_end": datetime.date(YEAR + 1, 3, 15),
        }, members=_members(users, NINH_KIEU_MEMBERS))
        if not dossiers:
            return council
        session = services.create_session(
            officer, council=council, round=round_, date=held,
            place="Hội trường Ủy ban nhân dân quận Ninh Kiều, số 2 đường Hòa Bình")
        session = services.set_agenda(officer, session, dossiers)
        session = services.open_scoring(officer, session)
        members = list(council.members.order_by("order"))
        for dossier, targets in zip(dossiers, CLOSED_TARGETS, strict=False):
            for index, (member, target) in enumerate(zip(members, targets, strict=True)):
                if target is None:
                    services.declare_recusal(member.user, session, member=member,
                                             dossier=dossier, reason=RECUSAL_REASON)
                    continue
                _fill(session, dossier, member,
                      choices(dossier.criteria_set, target, rotate=index * 5))
        # a third product (if any) is scored by everyone at about 70
        for dossier in dossiers[len(CLOSED_TARGETS):]:
            for index, member in enumerate(members):
                _fill(session, dossier, member,
                      choices(dossier.criteria_set, 68 + index, rotate=index * 3))
        session = services.start_meeting(officer, session, present=members)
        chair = members[0].user
        for dossier in dossiers:
            services.close_item(chair, session, dossier)
        services.close_session(chair, session)
    return council


#: The product of the open session: a pre-assessed 26/2026 dossier of its own (the dossier
#: demo's pre-assessed one stays pre-assessed, for a user to put on an agenda).
OPEN_STORY = Story(
    "1801406706", ProducerType.COOPERATIVE, "Hợp tác xã Nông nghiệp Tân Thới",
    "Huỳnh Thị Kim Phượng", Gender.FEMALE, "Kinh", "Xã Phong Điền",
    "Mứt khóm sấy dẻo Phong Điền", 7, "pre_assessed_26", 28, "Ấp Tân Long A")


def _open_session_dossiers(round_):
    """The open session's dossier, filed and pre-assessed by the department through
    ``dossiers.services`` (as the dossier demo tells its stories)."""
    staff = User.objects.get(username="sonn.cantho")
    unit = AdministrativeUnit.objects.current().get(province=round_.unit,
                                                    name=OPEN_STORY.unit)
    teller = _Teller(staff, round_, {unit.name: unit}, timezone.localdate(), 9)
    teller.tell(0, OPEN_STORY)
    return list(round_.dossiers.filter(
        product__producer__registration_no=OPEN_STORY.registration_no,
        state=DossierState.PRE_ASSESSED))


def seed_can_tho(ctx):
    if Council.objects.filter(decision_number=CAN_THO_DECISION).exists():
        return None
    staff = User.objects.get(username="sonn.cantho")
    province = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    users = _member_users("hd.cantho", CAN_THO_MEMBERS)
    council = services.create_council(staff, data={
        "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP thành phố Cần Thơ",
        "level": "province", "unit": province, "decision_number": CAN_THO_DECISION,
        "decision_date": datetime.date(YEAR, 2, 10),
        "decision_signer": "Chủ tịch Ủy ban nhân dân thành phố Cần Thơ",
        "term_start": datetime.date(YEAR, 2, 10), "term_end": datetime.date(YEAR + 1, 2, 9),
    }, members=_members(users, CAN_THO_MEMBERS))
    round_ = EvaluationRound.objects.get(unit=province, level__admin_level="province",
                                         year=YEAR, number=2)
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
