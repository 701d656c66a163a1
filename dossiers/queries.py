"""Scoping: every dossier-side model is visible through one ``visible_to(user)``.

An officer sees what lies in the areas of their roles (a district officer: the district and
its communes; a commune officer: the commune); department staff see their whole province,
including the pre-2025 provinces it absorbed; an admin sees everything; anyone else sees
nothing (views answer 404 on objects outside the queryset).
"""

from django.db.models import Q

from ocop.accounts.models import Role
from ocop.accounts.queries import area_units, is_admin, visible_units
from ocop.text import fold

from .deadlines import due_soon_q, overdue_q
from .models import (
    Decision,
    DecisionKind,
    DocumentFile,
    Dossier,
    DossierDocument,
    EvaluationRound,
    Producer,
    Product,
    Rating,
)

INTAKE_ROLES = (Role.LOCAL_OFFICER, Role.DEPARTMENT_STAFF)


def _units(user):
    return visible_units(user, *INTAKE_ROLES)


def producers_visible_to(user):
    if is_admin(user):
        return Producer.objects.all()
    return Producer.objects.filter(unit__in=_units(user))


def products_visible_to(user):
    if is_admin(user):
        return Product.objects.all()
    return Product.objects.filter(producer__unit__in=_units(user))


def rounds_visible_to(user):
    """Rounds of the user's areas, and the rounds of the larger areas that contain them
    (a commune officer files into the province's round)."""
    if is_admin(user):
        return EvaluationRound.objects.all()
    # the areas themselves (not the pre-2025 communes a ward absorbed: their district's
    # rounds are history, not the ward's)
    units = area_units(user, *INTAKE_ROLES)
    return EvaluationRound.objects.filter(unit__in=units) | EvaluationRound.objects.filter(
        unit__in=units.values("province_id")) | EvaluationRound.objects.filter(
        unit__in=units.values("parent_id"))


def filing_q(day):
    """Rounds taking new dossiers on ``day`` (a ``Q`` on rounds): open, intake deadline not
    passed, the round's regime in force and its unit existing that day — the queryset form
    of ``services._check_round_open`` and ``rules.dossier_date_refusal``, which
    ``dossiers.services.create_dossier`` checks (docs/regimes-and-levels.md, "In force at
    the date")."""
    return (Q(is_open=True, intake_deadline__gte=day, regime__effective_from__lte=day)
            & (Q(regime__effective_to__isnull=True) | Q(regime__effective_to__gte=day))
            & (Q(unit__valid_from__isnull=True) | Q(unit__valid_from__lte=day))
            & (Q(unit__valid_to__isnull=True) | Q(unit__valid_to__gte=day)))


def filing_rounds(user, day):
    """The rounds ``user`` may file a new dossier into on ``day`` (visible to them and
    ``filing_q(day)``): the round pickers of the dossier page and the API's ``?open=1``."""
    return rounds_visible_to(user).filter(filing_q(day))


#: Functions ``fn(user)`` → a queryset of the ids of more dossiers the user may read
#: (outside their areas), registered by the apps above this one in their
#: ``AppConfig.ready()`` — e.g. ``councils.readers.agenda_dossier_ids``: the dossiers on
#: the agenda of a council the user sits on.
_readers = []


def register_reader(fn):
    """Let ``fn(user)`` add readable dossiers to ``dossiers_visible_to``. ``fn`` returns a
    lazy queryset of dossier ids (``.values("dossier_id")``), used as a subquery: the
    dossier list runs the same number of queries. Registering twice adds it once."""
    if fn not in _readers:
        _readers.append(fn)
    return fn


def _ways_to_read(user):
    """The conditions under which a (non-admin) user reads a dossier, one per way: the
    areas, then each registered reader. Each is ``any_of`` (ocop/lookups.py): an index
    condition each, combined as a bitmap OR, where ``IN (subquery) OR IN (subquery)``
    scans every dossier."""
    return [Q(unit__any_of=_units(user).order_by().values("pk")),
            *(Q(pk__any_of=reader(user).order_by()) for reader in _readers)]


def dossiers_visible_to(user):
    """The dossiers of the user's areas, plus those the registered readers add (the
    councils: to read, before and during the meeting, those on the agenda of a council the
    user sits on, except the ones they recused themselves from). (What a user may *do* is
    decided by ``dossiers.rules``.)"""
    if is_admin(user):
        return Dossier.objects.all()
    ways = _ways_to_read(user)
    visible = ways[0]
    for way in ways[1:]:
        visible |= way
    return Dossier.objects.filter(visible)


def dossiers_visible_in_parts(user):
    """:func:`dossiers_visible_to` as disjoint querysets — each way of reading minus the
    ways before it — whose counts add up to its count. Counted apart, the areas' part is
    counted from the area index alone (an index-only scan); counted as the OR, every
    matching row is read from the table (0.5 ms against 2.4 ms for a commune's 4,500
    dossiers, the dossier list's count, docs/performance.md)."""
    if is_admin(user):
        return [Dossier.objects.all()]
    parts, before = [], None
    for way in _ways_to_read(user):
        parts.append(Dossier.objects.filter(way if before is None else way & ~before))
        before = way if before is None else before | way
    return parts


def decisions_visible_to(user, *, drafts=False):
    """Decisions issued (or drafted) by a People's Committee of the user's areas, and
    decisions recognising a product of their areas (a commune officer reads the province's
    decision on their commune's products; drafts only with the issuer's area).
    ``drafts=True``: the drafts among them alone, read without the second way."""
    if is_admin(user):
        return Decision.objects.filter(state="draft") if drafts else Decision.objects.all()
    units = _units(user).order_by().values("pk")
    if drafts:
        return Decision.objects.filter(state="draft", issuer_unit__any_of=units)
    # the second way is looked for only among the decisions the first does not give: a
    # province's own decisions are not searched item by item; the area's dossiers are read
    # from the ``dossier_unit_state_ids`` index alone (docs/performance.md)
    return Decision.objects.filter(
        Q(issuer_unit__any_of=units)
        | Q(pk__any_of=Decision.objects.exclude(issuer_unit__any_of=units)
            .filter(items__dossier__unit__any_of=units)
            .exclude(state="draft").order_by().values("pk")))


def recognition_decisions_visible_to(user, *, drafts=False):
    """The recognition decisions of :func:`decisions_visible_to` (the decisions pages, API
    and counts); a revocation decision is reached through its revocation
    (docs/ratings-lifecycle.md)."""
    return decisions_visible_to(user, drafts=drafts).filter(kind=DecisionKind.RECOGNITION)


def ratings_visible_to(user):
    """Ratings of the products of the user's areas. The area is ``any_of``
    (ocop/lookups.py): its units are read once, before the ratings, so the register's
    rows walk its order's index (docs/performance.md)."""
    if is_admin(user):
        return Rating.objects.all()
    return Rating.objects.filter(
        product__producer__unit__any_of=_units(user).order_by().values("pk"))


def documents_visible_to(user):
    return DossierDocument.objects.filter(dossier__in=dossiers_visible_to(user))


def files_visible_to(user):
    return DocumentFile.objects.filter(dossier__in=dossiers_visible_to(user))


#: The longest search accepted (pages and API): a name or a number, never a document. The
#: pages' filter form and the API refuse longer ones with a message; :func:`filter_dossiers`
#: also cuts there, so no caller can send the database a 50,000-character pattern.
SEARCH_MAX_LENGTH = 200


def filter_dossiers(queryset, filters, today=None):
    """The dossier list filters of the pages and the API, in one place.

    ``filters`` may hold ``q`` (accent-insensitive: every folded word must occur in
    ``search_text``, which a pg_trgm index serves on PostgreSQL), ``round``, ``state``,
    ``criteria_set``, ``registration_type``, ``overdue`` (True/False) and ``due_soon``
    (True: near their deadline, ``deadlines.due_soon_q``, as the home page's card).
    """
    for word in fold((filters.get("q") or "")[:SEARCH_MAX_LENGTH]).split():
        queryset = queryset.filter(search_text__contains=word)
    for name in ("round", "state", "criteria_set", "registration_type"):
        if filters.get(name) not in (None, ""):
            queryset = queryset.filter(**{name: filters[name]})
    overdue = filters.get("overdue")
    if overdue is True:
        queryset = queryset.filter(overdue_q(today))
    elif overdue is False:
        queryset = queryset.exclude(overdue_q(today))
    if filters.get("due_soon") is True:
        queryset = queryset.filter(due_soon_q(today))
    return queryset


# --- after recognition: inspections and revocation (docs/ratings-lifecycle.md) ---------------


def inspection_plans_visible_to(user):
    """Plans of the user's provinces (an officer reads the plan of their province)."""
    from .models import InspectionPlan

    if is_admin(user):
        return InspectionPlan.objects.all()
    units = _units(user)
    return InspectionPlan.objects.filter(
        Q(unit__in=units) | Q(unit__in=units.values("province_id")))


def inspections_visible_to(user):
    """Inspections of an area inside the user's areas, and inspections that checked a
    product of the user's areas (a commune officer reads the province's inspection of
    their commune's products)."""
    from .models import Inspection, InspectionItem

    if is_admin(user):
        return Inspection.objects.all()
    units = _units(user)
    return Inspection.objects.filter(
        Q(unit__in=units)
        | Q(pk__in=InspectionItem.objects.filter(
            rating__product__producer__unit__in=units).values("inspection_id")))


def revocations_visible_to(user):
    """Revocations of ratings of products of the user's areas. Each revocation's unit is
    looked up through its rating, product and producer (a subquery per revocation: there
    are few), where the join read every rating of the table (docs/performance.md)."""
    from django.db.models import OuterRef, Subquery

    from .models import Revocation

    if is_admin(user):
        return Revocation.objects.all()
    unit = Subquery(Rating.objects.filter(pk=OuterRef("rating_id")).order_by()
                    .values("product__producer__unit")[:1])
    return Revocation.objects.alias(area_unit=unit).filter(
        area_unit__any_of=_units(user).order_by().values("pk"))
