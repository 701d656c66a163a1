"""Helpers shared by the council tests: a council with its session, and sheets with known
choices (so that every expected number can be computed by hand in the test)."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from councils.models import CouncilMember, MemberRole
from ocop.accounts.models import Role
from scoring import services as scoring
from scoring.models import Criterion, Option, ScoreEntry, Scoresheet, SheetState
from tests import factories

CENT = Decimal("0.01")


@dataclass
class World:
    council: object
    session: object
    round: object
    dossiers: list
    users: list  # the scoring members' users, the chair first
    members: list  # their CouncilMember rows, same order
    secretary: object = None  # CouncilMember
    staff: object = None  # department staff of the province (manages the council)
    extra: dict = field(default_factory=dict)

    @property
    def chair(self):
        return self.members[0]

    @property
    def dossier(self):
        return self.dossiers[0]


def build(cantho, make_user, *, n_members=3, regime="148", admin_level="district",
          unit="ninhkieu", set_no=9, n_dossiers=1, session_state="open",
          dossier_state="in_evaluation", secretary=True, prefix="m", **council_extra):
    """A council of ``n_members`` scoring members (the first is the chair) plus a secretary,
    one session of a round with ``n_dossiers`` dossiers on its agenda."""
    area = cantho[unit]
    round_ = factories.evaluation_round(area, regime_slug=regime, admin_level=admin_level)
    dossiers = [factories.dossier(round_, set_no=set_no, state=dossier_state)
                for _ in range(n_dossiers)]
    users = [make_user(f"{prefix}{i}", full_name=f"Thành viên {prefix.upper()}{i}")
             for i in range(n_members)]
    council = factories.council(area, users, level=admin_level, **council_extra)
    members = list(council.members.order_by("order"))
    sec = None
    if secretary:
        sec_user = make_user(f"{prefix}-thuky", full_name=f"Thư ký {prefix.upper()}")
        sec = CouncilMember.objects.create(council=council, user=sec_user,
                                           role=MemberRole.SECRETARY, order=99)
    session = factories.session(council, round_, dossiers, state=session_state)
    staff = make_user(f"{prefix}-staff", Role.DEPARTMENT_STAFF, cantho["province"])
    return World(council, session, round_, dossiers, users, members, sec, staff)


# --- choices ---------------------------------------------------------------------------------


def criteria_of(criteria_set):
    return list(Criterion.objects.filter(criteria_set=criteria_set)
                .select_related("section__part").order_by("order"))


def options_of(criteria_set):
    """{criterion id: its options by points ascending}."""
    options = {}
    for option in Option.objects.filter(criteria_set=criteria_set).order_by("points", "order"):
        options.setdefault(option.criterion_id, []).append(option)
    return options


def floor_option(criterion, options, stars):
    """The lowest option that satisfies every star mark of the criterion up to ``stars``."""
    need = max([o.points for o in options if o.min_star is not None and o.min_star <= stars],
               default=None)
    for option in options:
        if need is not None and option.points < need:
            continue
        if criterion.min_star is not None and criterion.min_star <= stars and option.points <= 0:
            continue
        return option
    raise AssertionError(f"no option of {criterion} meets {stars} stars")


def pick(criteria_set, target, *, stars=3, reverse=False, below=()):
    """{criterion id: Option} totalling exactly ``target`` points whose choices meet every
    minimum-star mark up to ``stars`` (except the criteria codes in ``below``, which get
    their lowest option). Raising starts from the first criterion (the last with
    ``reverse``), so two members with the same target can differ per part."""
    criteria = criteria_of(criteria_set)
    options = options_of(criteria_set)
    chosen = {}
    for criterion in criteria:
        if criterion.code in below:
            chosen[criterion.pk] = options[criterion.pk][0]
        else:
            chosen[criterion.pk] = floor_option(criterion, options[criterion.pk], stars)
    total = sum(o.points for o in chosen.values())
    if total > target:
        raise AssertionError(f"floor {total} above target {target}")
    order = list(reversed(criteria)) if reverse else criteria
    for criterion in order:
        if criterion.code in below:
            continue
        for option in options[criterion.pk]:
            step = option.points - chosen[criterion.pk].points
            if step > 0 and total + step <= target:
                total += step
                chosen[criterion.pk] = option
    if total != target:
        raise AssertionError(f"cannot reach {target} exactly (got {total})")
    return chosen


def by_hand(criteria_set, chosen):
    """({"A", "B", "C"} points, total) of one member's choices, summed by hand."""
    parts = {"A": Decimal(0), "B": Decimal(0), "C": Decimal(0)}
    for criterion in criteria_of(criteria_set):
        parts[criterion.section.part.code] += chosen[criterion.pk].points
    return parts, sum(parts.values())


def mean_by_hand(values):
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- sheets ----------------------------------------------------------------------------------


def score(session, dossier, member, chosen, *, submit=True):
    """Fill the member's sheet through the scoring services and submit it."""
    user = member.user
    sheet = scoring.open_sheet(session, dossier, member, user)
    for criterion_id, option in chosen.items():
        sheet = scoring.save_entry(sheet, user, criterion_id=criterion_id,
                                   option_id=option.pk, version=sheet.version)
    if submit:
        sheet = scoring.submit_sheet(sheet, user)
    return sheet


def quick_sheet(session, dossier, member, chosen, *, state=SheetState.SUBMITTED):
    """A sheet written directly (arrange only, for pure reads of results)."""
    sheet = Scoresheet.objects.create(session=session, dossier=dossier, member=member,
                                      criteria_set=dossier.criteria_set, state=state)
    ScoreEntry.objects.bulk_create(
        ScoreEntry(sheet=sheet, criteria_set=dossier.criteria_set, criterion_id=cid,
                   option=option) for cid, option in chosen.items())
    return sheet


def meet(world, present=None, *, user=None):
    """Start the session's meeting through the service (open → meeting), everybody present
    unless ``present`` (CouncilMember rows) says otherwise. Items close only in a meeting."""
    from councils import services

    members = list(world.council.members.all()) if present is None else list(present)
    world.session = services.start_meeting(user or world.staff, world.session,
                                           present=members)
    return world.session
