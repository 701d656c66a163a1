"""Statistics of the department (docs/statistics.md): the figures of the dashboard
(``/stats/``), its API (``/api/v1/stats/``) and their downloads, each one SQL aggregate over
the querysets the user may see (``dossiers.queries``), so the number of queries does not
grow with the number of rows.

CONTRACT

    StatsScope(user, *, date_from=None, date_to=None, area=None, today=None)
        # the visible ratings / dossiers / revocations, narrowed by the filters
    FIGURES[key].compute(scope) -> Table          # one figure: its rows of numbers
    dashboard(scope) -> list[Table]               # every figure, in the page's order
    bar_chart(table) -> dict                      # the SVG geometry of a horizontal bar chart
    StatsFilterForm(data, ratings=…).filters()    # the period and area, checked
    cached(user, name, compute, *parts)           # compute() cached per scope and data
                                                  # version (docs/statistics.md, "Cache")

A :class:`Table` has a key, a title, column headers and rows ``(label, n1, n2, …)``; the
first number of a row is the one the chart draws. Each figure is defined once here and read
by the page, the CSV/Excel download and the API alike.

Filters: ``date_from``/``date_to`` (inclusive) limit the **decision date** of the ratings
counted by the rating figures and the **decision date** of the revocations (default: this
year); the figures of the current rounds and of the coming expiries are about now and do
not take the period. ``area`` is a unit inside the user's area (a province, a pre-2025
district or a commune); it narrows every figure to the producers (dossiers: their unit)
inside it, as scoping reads an area (``AdministrativeUnit.objects.within``).
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ocop.accounts.queries import area_signature, is_admin
from ocop.regions.models import AdministrativeUnit, Level
from ocop.versioned_cache import VersionedCache

from .models import (
    ACTIVE_RATING_STATES,
    RECOGNISED_STARS,
    DossierState,
    ProducerType,
    Rating,
    RevocationGround,
    RevocationState,
)
from .queries import (
    INTAKE_ROLES,
    dossiers_visible_to,
    ratings_visible_to,
    revocations_visible_to,
)
from .ratings import CHOICE_ERRORS, ValidFiltersMixin, _unit_label, area_choices

#: The horizons of the "expiring" figure, in days (cumulative: within 30, 90, 180 days).
EXPIRY_HORIZONS = (30, 90, 180)


@dataclass
class Table:
    """One figure: ``rows`` are ``(label, number, …)`` tuples under ``columns``;
    ``links`` (optional, one per row): the ratings register's filters that list exactly the
    rows counted (only where the register can: the expiries)."""

    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    links: list = field(default_factory=list)
    note: str = ""

    @property
    def total(self):
        return sum(row[1] for row in self.rows)


# --- the scope --------------------------------------------------------------------------------


class StatsScope:
    """What the user may count, narrowed by the dashboard's filters. Nothing is read until
    a figure is computed (the querysets are lazy and used as subqueries)."""

    def __init__(self, user, *, date_from=None, date_to=None, area=None, today=None,
                 ratings=None):
        self.user = user
        # the visible querysets, built once: building one reads the user's area
        self._visible_ratings = ratings if ratings is not None else ratings_visible_to(user)
        self._visible_dossiers = None
        self._visible_revocations = None
        self.today = today or timezone.localdate()
        self.date_from = date_from
        self.date_to = date_to
        self.area = area
        self._area_units = (AdministrativeUnit.objects.within([area]) if area is not None
                            else None)

    # every rating of the area, whatever its date (expiries, current state)
    def ratings_all(self):
        ratings = self._visible_ratings
        if self._area_units is not None:
            ratings = ratings.filter(product__producer__unit__in=self._area_units)
        return ratings

    def ratings(self):
        """The area's ratings whose decision date lies in the period."""
        ratings = self.ratings_all()
        if self.date_from:
            ratings = ratings.filter(decision_date__gte=self.date_from)
        if self.date_to:
            ratings = ratings.filter(decision_date__lte=self.date_to)
        return ratings

    def active(self):
        """Ratings in force now (valid, or due for re-evaluation) recognised in the period."""
        return self.ratings().filter(state__in=ACTIVE_RATING_STATES)

    def dossiers(self):
        if self._visible_dossiers is None:
            self._visible_dossiers = dossiers_visible_to(self.user)
        dossiers = self._visible_dossiers
        if self._area_units is not None:
            dossiers = dossiers.filter(unit__in=self._area_units)
        return dossiers

    def revocations_period(self):
        """(first day, last day) of the revocations counted: the filter's period, else the
        current calendar year."""
        if self.date_from or self.date_to:
            return self.date_from, self.date_to
        return datetime.date(self.today.year, 1, 1), datetime.date(self.today.year, 12, 31)

    def revocations(self):
        """Issued revocations of the area decided in :meth:`revocations_period`."""
        if self._visible_revocations is None:
            self._visible_revocations = revocations_visible_to(self.user)
        revocations = self._visible_revocations.filter(state=RevocationState.ISSUED)
        if self._area_units is not None:
            revocations = revocations.filter(
                rating__product__producer__unit__in=self._area_units)
        first, last = self.revocations_period()
        if first:
            revocations = revocations.filter(decision__date__gte=first)
        if last:
            revocations = revocations.filter(decision__date__lte=last)
        return revocations


# --- shared expressions -----------------------------------------------------------------------


def criteria_expression(path):
    """The criteria set's ``path`` (e.g. ``set_no``, ``group__name``) of the set the rating
    was scored with: its dossier's, else its product's (``ratings.with_criteria_set``)."""
    return Coalesce(f"source_dossier__criteria_set__{path}", f"product__criteria_set__{path}")


def corrected_q():
    """A rating whose decision corrects an earlier decision on the same dossier (the
    replaced rating had the same source dossier): not a new recognition. One hashed
    subquery (the few corrected ratings), not a probe per row."""
    corrections = Rating.objects.filter(
        replaces__source_dossier_id=F("source_dossier_id")).values("pk")
    return Q(pk__in=corrections)


def previous_stars():
    """The stars of the product's latest rating decided before this one (None: the
    product's first rating). Corrections are left out of the recognitions counted, so the
    rating a correction replaced never stands before its own correction."""
    earlier = (Rating.objects.filter(product_id=OuterRef("product_id"))
               .filter(Q(decision_date__lt=OuterRef("decision_date"))
                       | Q(decision_date=OuterRef("decision_date"), pk__lt=OuterRef("pk")))
               .order_by("-decision_date", "-pk").values("stars")[:1])
    return Subquery(earlier, output_field=IntegerField())


def stars_counts(prefix=""):
    """``{"s3": Count(… stars=3), …}`` for ``aggregate``/``annotate``."""
    return {f"s{n}": Count("pk", filter=Q(**{f"{prefix}stars": n})) for n in RECOGNISED_STARS}


def star_columns():
    return [f"{n}★" for n in RECOGNISED_STARS]


# --- the figures --------------------------------------------------------------------------------


def by_stars(scope):
    """Products holding a rating in force (valid or due), by stars."""
    counts = scope.active().aggregate(**stars_counts())
    table = Table("stars", _("Rated products in force, by stars"), [_("Stars"), _("Products")])
    for n in RECOGNISED_STARS:
        table.rows.append((f"{n}★", counts[f"s{n}"]))
    return table


def current_units(unit_ids):
    """{unit id: (current unit id, label)} for ``unit_ids`` (one query): a current unit is
    itself; a pre-2025 unit maps to its current successor (the lowest code when it was
    split), else stays itself, labelled "(before 2025)"."""
    units = (AdministrativeUnit.objects.filter(pk__in=unit_ids)
             .annotate(successor=Subquery(
                 AdministrativeUnit.successors.through.objects
                 .filter(from_administrativeunit_id=OuterRef("pk"),
                         to_administrativeunit__valid_to__isnull=True)
                 .order_by("to_administrativeunit__code")
                 .values("to_administrativeunit_id")[:1]),
                 successor_name=Subquery(
                 AdministrativeUnit.successors.through.objects
                 .filter(from_administrativeunit_id=OuterRef("pk"),
                         to_administrativeunit__valid_to__isnull=True)
                 .order_by("to_administrativeunit__code")
                 .values("to_administrativeunit__name")[:1]))
             .values_list("pk", "name", "valid_to", "successor", "successor_name"))
    found = {}
    for pk, name, valid_to, successor, successor_name in units:
        if valid_to is None:
            found[pk] = (pk, name)
        elif successor is not None:
            found[pk] = (successor, successor_name)
        else:
            found[pk] = (pk, _("%(name)s (before 2025)") % {"name": name})
    return found


def by_area(scope):
    """Products in force by current commune or ward (a pre-2025 commune counted under its
    successor): grouped by the producer's unit in SQL, the groups of the old communes then
    added to their successor's."""
    rows = list(scope.active().values("product__producer__unit_id")
                .annotate(n=Count("pk"), **stars_counts()).order_by())
    current = current_units([row["product__producer__unit_id"] for row in rows])
    merged = {}
    for row in rows:
        area_id, name = current[row["product__producer__unit_id"]]
        counts = merged.setdefault(area_id, [name, 0, 0, 0, 0])
        counts[1] += row["n"]
        for index, n in enumerate(RECOGNISED_STARS, start=2):
            counts[index] += row[f"s{n}"]
    table = Table("area", _("Rated products in force, by commune or ward (current units)"),
                  [_("Commune / ward"), _("Products"), *star_columns()])
    for counts in sorted(merged.values(), key=lambda counts: (-counts[1], counts[0])):
        table.rows.append(tuple(counts))
    return table


def by_district(scope):
    """Products in force whose producer is registered in a pre-2025 commune, by its former
    district (the 148-era history: the districts that recognised 3★ until 2025)."""
    rows = list(scope.active()
                .filter(product__producer__unit__valid_to__isnull=False,
                        product__producer__unit__parent__level=Level.DISTRICT)
                .values("product__producer__unit__parent_id",
                        "product__producer__unit__parent__name")
                .annotate(n=Count("pk"), **stars_counts())
                .order_by("-n", "product__producer__unit__parent__name"))
    table = Table("district", _("Rated products in force registered before 2025, by former "
                                "district"),
                  [_("District (before 2025)"), _("Products"), *star_columns()])
    for row in rows:
        table.rows.append((row["product__producer__unit__parent__name"], row["n"],
                           *(row[f"s{n}"] for n in RECOGNISED_STARS)))
    return table


def by_group(scope):
    """Products in force by product group (of the criteria set scored with)."""
    rows = list(scope.active().annotate(group=criteria_expression("group__name"))
                .values("group").annotate(n=Count("pk"), **stars_counts())
                .order_by("-n", "group"))
    table = Table("group", _("Rated products in force, by product group"),
                  [_("Product group"), _("Products"), *star_columns()])
    for row in rows:
        table.rows.append((row["group"] or "—", row["n"],
                           *(row[f"s{n}"] for n in RECOGNISED_STARS)))
    return table


def by_criteria_set(scope):
    """Products in force by criteria set number (01–26: the same meaning under 148 and
    26/2026, scoring/data/criteria/INDEX.md)."""
    rows = list(scope.active().annotate(set_no=criteria_expression("set_no"))
                .values("set_no").annotate(n=Count("pk"), **stars_counts())
                .order_by("set_no"))
    names = dict(_set_names([row["set_no"] for row in rows]))
    table = Table("criteria_set", _("Rated products in force, by criteria set"),
                  [_("Criteria set"), _("Products"), *star_columns()])
    for row in rows:
        label = f"{row['set_no']:02d} · {names.get(row['set_no'], '')}".strip(" ·")
        table.rows.append((label, row["n"], *(row[f"s{n}"] for n in RECOGNISED_STARS)))
    return table


def _set_names(numbers):
    """(set number, name) of the newest published set of each number (one query)."""
    from scoring.models import CriteriaSet

    seen = {}
    for set_no, name in (CriteriaSet.objects.filter(set_no__in=numbers)
                         .order_by("set_no", "-regime__effective_from", "-version")
                         .values_list("set_no", "name")):
        seen.setdefault(set_no, name)
    return seen.items()


def by_producer_type(scope):
    """Products in force by the producer's type (cooperative, enterprise, …)."""
    counts = {row["product__producer__type"]: row for row in
              scope.active().values("product__producer__type")
              .annotate(n=Count("pk"), **stars_counts())}
    table = Table("producer_type", _("Rated products in force, by producer type"),
                  [_("Producer type"), _("Products"), *star_columns()])
    for value, label in ProducerType.choices:
        row = counts.get(value, {})
        table.rows.append((str(label), row.get("n", 0),
                           *(row.get(f"s{n}", 0) for n in RECOGNISED_STARS)))
    return table


def by_year(scope):
    """Recognitions by year of the decision, whatever the rating's state since (a
    correcting decision is not counted again)."""
    rows = list(scope.ratings().exclude(corrected_q())
                .annotate(year=ExtractYear("decision_date"))
                .values("year").annotate(n=Count("pk"), **stars_counts()).order_by("year"))
    table = Table("year", _("Products recognised, by year of the decision"),
                  [_("Year"), _("Recognitions"), *star_columns()])
    for row in rows:
        table.rows.append((str(row["year"]), row["n"],
                           *(row[f"s{n}"] for n in RECOGNISED_STARS)))
    return table


def dossiers_by_state(scope):
    """Dossiers of the open rounds (the current rounds), by state."""
    rows = {row["state"]: row["n"] for row in
            scope.dossiers().filter(round__is_open=True).values("state")
            .annotate(n=Count("pk")).order_by()}
    table = Table("dossier_state", _("Dossiers of the current rounds, by state"),
                  [_("State"), _("Dossiers")])
    for value, label in DossierState.choices:
        table.rows.append((str(label), rows.get(value, 0)))
    return table


def expiring(scope):
    """Ratings in force whose validity ends within 30, 90 and 180 days (cumulative; a
    rating past its date that the daily job has not marked yet is included, as in the
    register's filter)."""
    today = scope.today
    counts = scope.ratings_all().filter(state__in=ACTIVE_RATING_STATES).aggregate(**{
        f"d{days}": Count("pk", filter=Q(valid_until__lte=today + datetime.timedelta(days)))
        for days in EXPIRY_HORIZONS})
    table = Table("expiring", _("Ratings whose validity ends soon"),
                  [_("Within"), _("Ratings")])
    for days in EXPIRY_HORIZONS:
        table.rows.append((_("%(days)s days") % {"days": days}, counts[f"d{days}"]))
        table.links.append({"expiring_within": days})
    return table


def revocations(scope):
    """Issued revocations decided in the period (default: this year), by ground."""
    counts = {row["ground"]: row["n"] for row in
              scope.revocations().values("ground").annotate(n=Count("pk")).order_by()}
    first, last = scope.revocations_period()
    table = Table("revocations", _("Ratings revoked, by ground"), [_("Ground"), _("Ratings")])
    table.note = _period_label(first, last)
    for value, label in RevocationGround.choices:
        table.rows.append((str(label), counts.get(value, 0)))
    return table


def _period_label(first, last):
    day = "%d/%m/%Y"
    if first and last:
        return _("Decided from %(first)s to %(last)s") % {"first": first.strftime(day),
                                                          "last": last.strftime(day)}
    if first:
        return _("Decided from %(first)s") % {"first": first.strftime(day)}
    return _("Decided until %(last)s") % {"last": last.strftime(day)}


@dataclass(frozen=True)
class Figure:
    key: str
    compute: object
    #: what the number counts: "active" ratings, "ratings", "dossiers", "revocations"
    counts: str
    label: object = ""


#: Every figure of the dashboard, in the page's order.
FIGURES = {f.key: f for f in (
    Figure("stars", by_stars, "active", gettext_lazy("By stars")),
    Figure("area", by_area, "active", gettext_lazy("By commune or ward")),
    Figure("district", by_district, "active", gettext_lazy("By former district")),
    Figure("group", by_group, "active", gettext_lazy("By product group")),
    Figure("criteria_set", by_criteria_set, "active", gettext_lazy("By criteria set")),
    Figure("producer_type", by_producer_type, "active", gettext_lazy("By producer type")),
    Figure("year", by_year, "ratings", gettext_lazy("By year of recognition")),
    Figure("dossier_state", dossiers_by_state, "dossiers",
           gettext_lazy("Dossiers of the current rounds")),
    Figure("expiring", expiring, "active", gettext_lazy("Expiring")),
    Figure("revocations", revocations, "revocations", gettext_lazy("Revocations")),
)}


def dashboard(scope):
    """Every figure of :data:`FIGURES` for ``scope``, in order."""
    return [figure.compute(scope) for figure in FIGURES.values()]


def total_active(tables):
    """The number of products in force (the sum of the stars figure)."""
    for table in tables:
        if table.key == "stars":
            return table.total
    return 0


# --- charts -----------------------------------------------------------------------------------

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 230
BAR_AREA = 300
CHART_WIDTH = LABEL_WIDTH + BAR_AREA + 60


def bar_chart(table, *, max_rows=20):
    """The geometry of a horizontal bar chart of ``table``'s first number column, for
    ``templates/dossiers/stats/_bar_chart.html`` (an inline SVG; the table beneath carries
    the same numbers as text). Only the first ``max_rows`` rows are drawn (the table shows
    them all)."""
    rows = table.rows[:max_rows]
    largest = max((row[1] for row in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        label, value = str(row[0]), row[1]
        y = index * (BAR_HEIGHT + BAR_GAP)
        width = round(BAR_AREA * value / largest, 1)
        bars.append({
            "label": label if len(label) <= 34 else label[:33] + "…",
            "full_label": label, "value": value, "y": y,
            "text_y": y + BAR_HEIGHT * 0.7, "width": width,
            "value_x": LABEL_WIDTH + width + 6,
        })
    return {
        "bars": bars,
        "height": max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP),
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
        "truncated": len(table.rows) > len(rows),
        "empty": not any(bar["value"] for bar in bars),
    }


# --- helpers for the pages and the API ----------------------------------------------------------


def table_lines(table):
    """``[(row, register query or "")]``: each row with the ratings register's filters
    that list the ratings it counts (``Table.links``), for the page's tables."""
    links = table.links or [None] * len(table.rows)
    return [(row, urlencode(link) if link else "") for row, link in zip(table.rows, links,
                                                                         strict=True)]


def table_as_dict(table):
    """A figure as plain data (API, JSON)."""
    return {"key": table.key, "title": table.title, "columns": [str(c) for c in table.columns],
            "rows": [[str(row[0]), *row[1:]] for row in table.rows], "note": table.note}


# --- the filter form ------------------------------------------------------------------------------


class StatsFilterForm(ValidFiltersMixin, forms.Form):
    """GET filters of the dashboard: the period (decision dates, both days included) and an
    area among the units of the user's ratings (``ratings.area_choices``: a foreign or
    made-up unit is an invalid choice, reported and ignored)."""

    date_from = forms.DateField(
        label=gettext_lazy("Decided from"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": gettext_lazy("Enter a date as dd/mm/yyyy.")})
    date_to = forms.DateField(
        label=gettext_lazy("Decided until"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": gettext_lazy("Enter a date as dd/mm/yyyy.")})
    area = forms.TypedChoiceField(label=gettext_lazy("area"), required=False, coerce=int,
                                  empty_value=None, error_messages=CHOICE_ERRORS)

    def __init__(self, *args, ratings=None, areas=None, **kwargs):
        """``areas``: the units to offer (``area_units(ratings)``), else read from
        ``ratings``."""
        super().__init__(*args, **kwargs)
        if areas is None:
            areas = area_units(ratings)
        self.areas = {unit.pk: unit for unit in areas}
        self.fields["area"].choices = [("", gettext_lazy("All my area")),
                                       *((unit.pk, _unit_label(unit)) for unit in areas)]

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", _("The end of the period is before its start."))
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not (MIN_YEAR <= day.year <= MAX_YEAR):
                self.add_error(name, _("Enter a date between %(first)s and %(last)s.") % {
                    "first": MIN_YEAR, "last": MAX_YEAR})
        return data



#: The years a period may name (a typo such as 20266 is refused, not sent to the database).
MIN_YEAR, MAX_YEAR = 2000, 2100


def scope_for(user, filters, today=None, ratings=None):
    """The :class:`StatsScope` of ``user`` with the form's (or the API's) filters;
    ``ratings``: ``ratings_visible_to(user)`` when the caller has it already."""
    return StatsScope(user, date_from=filters.get("date_from"),
                      date_to=filters.get("date_to"), area=filters.get("area"), today=today,
                      ratings=ratings)


def area_units(ratings):
    """The units the area filter offers (``ratings.area_choices``: one or two queries)."""
    return area_choices(ratings)[0]


# --- cache ----------------------------------------------------------------------------------------
#
# The figures of a scope are cached for ``STATS_CACHE_SECONDS`` (default 120) under a key made
# of the user's area (their roles' units, or "admin"), the filters, the day, the language and
# the data version. The version changes after the commit of every save or delete of a row the
# figures count (ratings, dossiers, revocations, decisions, producers, products, rounds), so
# a change made through the pages or the API shows at once; the bulk writers without
# signals (the register import, the nightly expiry job) bump the version themselves.

def cache_seconds():
    return int(getattr(settings, "STATS_CACHE_SECONDS", 120))


#: The figures' cache (``ocop.versioned_cache``), bumped by every save or delete of a row
#: the figures count.
statistics = VersionedCache("stats", cache_seconds)


def scope_signature(user):
    """What decides the rows a user counts: "admin", or their officer and staff roles'
    units; and the councils they sit on add readable dossiers (``register_reader``) —
    their user id is part of the key for that."""
    if is_admin(user):
        return "admin"
    return f"{user.pk}:{area_signature(user, *INTAKE_ROLES)}"


def cached(user, name, compute, *parts):
    """``compute()`` for ``user``'s scope and ``parts``, cached at the data version (see
    above)."""
    return statistics.get(compute, scope_signature(user), name, *parts)


def _connect():
    from .models import (
        Decision,
        Dossier,
        EvaluationRound,
        Producer,
        Product,
        Revocation,
    )

    statistics.watch(Rating, Dossier, Revocation, Decision, Producer, Product,
                     EvaluationRound)


_connect()
