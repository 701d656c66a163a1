"""Ratings entering their re-evaluation window, and ratings past their validity, with the
notices that go with them (docs/deadlines.md, "Expiry of ratings"; docs/notifications.md).

:func:`check_rating_expiry` is the one service that moves ratings by the calendar; the
daily beat task ``dossiers.check_rating_expiry`` and the command ``manage.py
check_rating_expiry [--date YYYY-MM-DD]`` run it. By the rules of **the regime in force
on the day** (``scoring.queries.regime_in_force``; data: ``scoring.Regime``), whichever
regime recognised the rating (docs/deadlines.md, "Which regime's rules"):

* **valid → due** once the day reaches ``valid_until`` minus the regime's window: the
  start of the producer's filing window (26/2026: 180 days before expiry) or, without
  one, the issuer's notice (148: 30 days before). A regime with neither has no due state.
* **valid or due → expired** once the day is past ``valid_until``, except under the
  regime's grace (26/2026: at most 180 days after expiry) while a re-evaluation dossier of
  that rating, submitted on or before its expiry, waits for its result.
* The notices quote that regime's window or notice days. ``valid_until`` stays as issued.
* On a day before every regime (before 1048) each rating follows its own regime.

Every rating moved is announced, in the same transaction, to the producer's contact
(``Producer.email``, an outside address; nobody when it is empty) and to the responsible
officers (:func:`responsible_users`), each notification keyed ``rating-<state>:<rating
id>:producer`` / ``…:user:<user id>`` (``ocop.notices``: one row per key).

Set-based on PostgreSQL: **one UPDATE** of all ratings (the day's regime's dates are
parameters; only the fallback joins each rating's ``scoring_regime``) whose WHERE repeats
the state it leaves, ``RETURNING`` what it moved, then **one INSERT … SELECT … ON CONFLICT
(key) DO NOTHING** for the notifications of those rows. So:

* a second run moves and notifies nothing (the WHERE finds nothing left to move);
* two overlapping runs: the second waits on the rows the first has updated and, once the
  first commits, PostgreSQL re-reads its WHERE on the new rows and skips them (a rating
  locked by another transaction is moved once that transaction ends, never skipped for a
  day); the key is a second guard;
* a run that crashes rolls back its moves and its notifications together; the next run
  does both.

Other databases (SQLite in ``make run``) take the ORM path (:func:`_move_orm`), which makes
the same moves and the same notifications row by row; the tests run both on PostgreSQL.
Each run that moved anything writes one audit event with the ratings it moved and the
regime whose rules it applied.
"""

import datetime
import re
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ocop.accounts.models import Role, RoleAssignment
from ocop.audit.services import record
from ocop.notices.models import EmailStatus, Notification
from ocop.notices.services import notify, wake_mailer
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import Regime
from scoring.queries import regime_in_force

from .models import (
    ACTIVE_RATING_STATES,
    Dossier,
    DossierState,
    Producer,
    Product,
    Rating,
    RatingState,
    RegistrationType,
)
from .stats import statistics

#: A re-evaluation dossier in these states is no longer waiting for a result.
FINISHED = (DossierState.RECOGNISED, DossierState.NOT_RECOGNISED, DossierState.WITHDRAWN,
            DossierState.DRAFT)

#: Notification kinds (``Notification.kind``) and the state that sends each.
KIND = {RatingState.DUE: "rating_due", RatingState.EXPIRED: "rating_expired"}


def due_from_days(regime):
    """Days before expiry at which a rating of ``regime`` becomes due, or None."""
    if regime.filing_window_start_days_before is not None:
        return regime.filing_window_start_days_before
    return regime.notify_days_before_expiry


def notification_key(rating_id, state, user_id=None):
    """``rating-due:12:user:7`` / ``rating-expired:12:producer``."""
    who = f"user:{user_id}" if user_id is not None else "producer"
    return f"rating-{state}:{rating_id}:{who}"


# --- the messages (one text, rendered by Python and by PostgreSQL's format()) ---------------

def _texts():
    """The message templates in the active language; every placeholder is one of
    :data:`FIELDS`."""
    facts = _("The OCOP rating of %(product)s (%(producer)s), %(stars)s stars, recognised by "
              "decision %(decision)s of %(decision_date)s, is valid until %(valid_until)s.")
    return {
        "due_subject": _("OCOP rating due for re-evaluation: %(product)s (%(stars)s stars)"),
        "expired_subject": _("OCOP rating expired: %(product)s (%(stars)s stars)"),
        # 26/2026: the producer files within the window
        "due_window": facts + " " + _(
            "File the re-evaluation dossier between %(window_start)s and %(window_end)s; a "
            "late filing is still accepted until the expiry on %(valid_until)s."),
        # 148 (and 1489): the issuer notifies the producer at least N days before expiry
        "due_notice": facts + " " + _(
            "The issuer notifies the producer at least %(notice_days)s days before expiry: "
            "apply for re-evaluation before %(valid_until)s."),
        "expired": _(
            "The OCOP rating of %(product)s (%(producer)s), %(stars)s stars, recognised by "
            "decision %(decision)s of %(decision_date)s, was valid until %(valid_until)s and "
            "has expired. The product needs a new evaluation to be recognised again."),
    }


FIELDS = ("product", "producer", "stars", "decision", "decision_date", "valid_until",
          "window_start", "window_end", "notice_days")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pg_format(template):
    """A ``%(name)s`` template as PostgreSQL ``format()`` wants it: ``%N$s`` by the position
    of ``name`` in :data:`FIELDS`, a literal ``%`` doubled."""
    parts = PLACEHOLDER.split(template)
    return "".join(f"%{FIELDS.index(part) + 1}$s" if odd else part.replace("%", "%%")
                   for odd, part in ((i % 2, p) for i, p in enumerate(parts)))


def _date(day):
    return f"{day:%d/%m/%Y}" if day else ""


def message(rating, regime, product, producer, state):
    """``(subject, body)`` of the notice of ``rating`` entering ``state`` (Python side);
    ``regime`` is the one whose rules apply (the day's, else the rating's own)."""
    texts = _texts()
    window = regime.filing_window_start_days_before is not None
    values = {
        "product": product.name, "producer": producer.name, "stars": str(rating.stars),
        "decision": rating.decision_number, "decision_date": _date(rating.decision_date),
        "valid_until": _date(rating.valid_until),
        "window_start": _date(rating.valid_until - datetime.timedelta(
            days=regime.filing_window_start_days_before)) if window else "",
        "window_end": _date(rating.valid_until - datetime.timedelta(
            days=regime.filing_window_end_days_before or 0)) if window else "",
        "notice_days": str(regime.notify_days_before_expiry or ""),
    }
    if state == RatingState.DUE:
        body = texts["due_window" if window else "due_notice"]
    else:
        body = texts["expired"]
    return texts[f"{state}_subject"] % values, body % values


def _rating_link_parts():
    marker = 987654321
    return reverse("ratings:detail", args=[marker]).split(str(marker))


# --- who is told ------------------------------------------------------------------------------

def responsible_users(unit_ids):
    """For each producer unit id: ``(area_id, [user ids])``. The area is the unit's current
    unit (a pre-2025 commune: its one current successor commune; else the unit itself). The
    users are the active local officers whose assignment is that current unit or a unit
    containing it (parent, province); when there are none, the department staff of the
    province (the current province, or the one that absorbed the unit's pre-2025
    province). A constant number of queries, whatever the number of units."""
    unit_ids = set(unit_ids)
    if not unit_ids:
        return {}
    units = {u.pk: u for u in AdministrativeUnit.objects.filter(pk__in=unit_ids)}
    through = AdministrativeUnit.successors.through
    legacy = {pk for pk, u in units.items() if u.valid_to is not None}
    legacy_provinces = {u.province_id for pk, u in units.items()
                        if pk in legacy and u.province_id}
    successors = defaultdict(list)
    for link in through.objects.filter(
            from_administrativeunit_id__in=legacy | legacy_provinces,
            to_administrativeunit__valid_to__isnull=True).select_related(
            "to_administrativeunit"):
        successors[link.from_administrativeunit_id].append(link.to_administrativeunit)

    def one_successor(pk, level):
        found = [u for u in successors.get(pk, ()) if u.level == level]
        return found[0] if len(found) == 1 else None

    resolved = {}
    for pk, unit in units.items():
        current = unit if pk not in legacy else one_successor(pk, unit.level)
        if current is not None:
            province = current.pk if current.level == Level.PROVINCE else current.province_id
            covering = {current.pk, current.parent_id, current.province_id} - {None}
        else:
            absorbed = one_successor(unit.province_id, Level.PROVINCE)
            province = absorbed.pk if absorbed else None
            covering = set()
        resolved[pk] = ((current or unit).pk, covering, {province, unit.province_id} - {None})
    assignments = defaultdict(set)
    wanted = set().union(*(c | p for _a, c, p in resolved.values()))
    for role, unit_id, user_id in RoleAssignment.objects.filter(
            unit_id__in=wanted, user__is_active=True,
            role__in=(Role.LOCAL_OFFICER, Role.DEPARTMENT_STAFF)).values_list(
            "role", "unit_id", "user_id"):
        assignments[role, unit_id].add(user_id)
    result = {}
    for pk, (area, covering, provinces) in resolved.items():
        users = set().union(*(assignments[Role.LOCAL_OFFICER, u] for u in covering))
        if not users:
            users = set().union(*(assignments[Role.DEPARTMENT_STAFF, p] for p in provinces))
        result[pk] = (area, sorted(users))
    return result


# --- the moves --------------------------------------------------------------------------------

def _waiting_reevaluation():
    """A re-evaluation dossier of the rating, submitted by its expiry, not finished."""
    return Dossier.objects.filter(
        current_rating=OuterRef("pk"), registration_type=RegistrationType.REEVALUATION,
        submitted_at__isnull=False, submitted_at__date__lte=OuterRef("valid_until"),
    ).exclude(state__in=FINISHED)


def _move_orm(day, regime, regimes):
    """The moves row by row (any database): ``[(rating id, new state, producer unit id)]``.
    ``regime``: the regime in force on ``day`` (its rules for every rating), or None: each
    rating by its own regime (``regimes``)."""
    if regime is not None:
        plans = [(Rating.objects.all(), regime)]
    else:
        plans = [(Rating.objects.filter(regime=own), own) for own in regimes]
    moved = []
    for ratings, rules in plans:
        expired = ratings.filter(state__in=ACTIVE_RATING_STATES, valid_until__lt=day)
        if rules.grace_days_after_expiry:
            last_grace_day = day - datetime.timedelta(days=rules.grace_days_after_expiry)
            expired = expired.exclude(Q(valid_until__gte=last_grace_day)
                                      & Exists(_waiting_reevaluation()))
        changes = [(expired, RatingState.EXPIRED)]
        days = due_from_days(rules)
        if days is not None:
            changes.append((ratings.filter(
                state=RatingState.VALID, valid_until__lte=day + datetime.timedelta(days=days)),
                RatingState.DUE))
        for queryset, state in changes:
            rows = list(queryset.select_for_update().values_list(
                "pk", "product__producer__unit_id"))
            Rating.objects.filter(pk__in=[pk for pk, _unit in rows]).update(state=state)
            moved += [(pk, state, unit) for pk, unit in rows]
    return moved


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _move_sql(day, regime):
    """The moves in one UPDATE (PostgreSQL): ``[(rating id, new state, producer unit id)]``.
    The WHERE repeats the states left, so a rerun (or a run that waited on another's
    rows) finds nothing to move. ``regime``: the regime in force on ``day``, whose dates
    are parameters (no join); None: each rating's own regime (joined)."""
    params = {"day": day, "tz": settings.TIME_ZONE, "finished": [str(s) for s in FINISHED],
              "reevaluation": str(RegistrationType.REEVALUATION),
              "valid": str(RatingState.VALID), "due": str(RatingState.DUE),
              "expired": str(RatingState.EXPIRED)}
    if regime is not None:
        source, join = "", ""
        days, grace = due_from_days(regime), regime.grace_days_after_expiry
        # the last valid_until that is due today / the first still in the grace
        due = "%(due_until)s::date" if days is not None else None
        in_grace = "r.valid_until >= %(grace_from)s::date" if grace else None
        params["due_until"] = day + datetime.timedelta(days=days or 0)
        params["grace_from"] = day - datetime.timedelta(days=grace or 0)
    else:
        source, join = f"FROM {_table(Regime)} g", "g.id = r.regime_id AND"
        due = ("%(day)s::date + COALESCE(g.filing_window_start_days_before, "
               "g.notify_days_before_expiry)")
        in_grace = ("COALESCE(g.grace_days_after_expiry, 0) > 0 "
                    "AND r.valid_until >= %(day)s::date - g.grace_days_after_expiry")
    expires = "r.valid_until < %(day)s::date"
    if in_grace:
        # The ratings a re-evaluation waits for, as one uncorrelated (hashed) subquery run
        # once: a correlated EXISTS is costed per rating and steers the planner away from
        # the sequential scan the UPDATE needs.
        expires = f"""({expires} AND NOT ({in_grace} AND r.id IN (
            SELECT d.current_rating_id FROM {_table(Dossier)} d
            JOIN {_table(Rating)} w ON w.id = d.current_rating_id
            WHERE d.registration_type = %(reevaluation)s AND d.submitted_at IS NOT NULL
              AND (d.submitted_at AT TIME ZONE %(tz)s)::date <= w.valid_until
              AND d.state <> ALL(%(finished)s))))"""
    becomes_due = f" OR (r.state = %(valid)s AND r.valid_until <= {due})" if due else ""
    sql = f"""
        UPDATE {_table(Rating)} r
        SET state = CASE WHEN {expires} THEN %(expired)s ELSE %(due)s END
        {source}
        WHERE {join} r.state IN (%(valid)s, %(due)s) AND ({expires}{becomes_due})
        RETURNING r.id, r.state, (
            SELECT o.unit_id FROM {_table(Product)} p JOIN {_table(Producer)} o
            ON o.id = p.producer_id WHERE p.id = r.product_id)"""
    with connection.cursor() as cursor:
        # Over many ratings the estimate passes PostgreSQL's JIT threshold; the
        # compilation (tens of ms) costs more than the scan it would speed up.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the notifications ------------------------------------------------------------------------

def _notify_orm(moved, recipients, regime):
    """One :func:`notify` per recipient of each moved rating, quoting ``regime``'s window
    or notice (None: the rating's own); returns how many were new."""
    ratings = Rating.objects.filter(pk__in=[pk for pk, _s, _u in moved]).select_related(
        "regime", "product__producer")
    by_pk = {rating.pk: rating for rating in ratings}
    users = get_user_model().objects.in_bulk(
        {u for _a, us in recipients.values() for u in us})
    areas = AdministrativeUnit.objects.in_bulk({a for a, _us in recipients.values()})
    start, end = _rating_link_parts()
    created = 0
    for pk, state, unit_id in moved:
        rating = by_pk[pk]
        product, producer = rating.product, rating.product.producer
        subject, body = message(rating, regime or rating.regime, product, producer, state)
        area_id, user_ids = recipients.get(unit_id, (unit_id, []))
        common = {"kind": KIND[state], "subject": subject, "body": body,
                  "link": f"{start}{pk}{end}", "unit": areas.get(area_id), "about": rating}
        if producer.email:
            created += notify(key=notification_key(pk, state), email=producer.email,
                              recipient_name=producer.name, **common) is not None
        for user_id in user_ids:
            created += notify(key=notification_key(pk, state, user_id), user=users[user_id],
                              recipient_name=users[user_id].display_name,
                              **common) is not None
    return created


def _notify_sql(moved, recipients, now, regime):
    """The notifications of the moved ratings in one INSERT … SELECT … ON CONFLICT (key) DO
    NOTHING: the producer's contact (when it has an address) and the responsible users
    (``recipients``, passed as arrays); the window or notice quoted is ``regime``'s
    (parameters), or each rating's own (joined) when None. Returns ``(created,
    with_email)``."""
    texts = {name: _pg_format(text) for name, text in _texts().items()}
    start, end = _rating_link_parts()
    unit_pairs = [(unit, area, user) for unit, (area, users) in recipients.items()
                  for user in (users or [None])]
    if regime is not None:
        window_start, window_end, notice_days = (
            "%(window_start)s::int", "%(window_end)s::int", "%(notice_days)s::int")
        rules_join = ""
    else:
        window_start, window_end, notice_days = (
            "g.filing_window_start_days_before", "g.filing_window_end_days_before",
            "g.notify_days_before_expiry")
        rules_join = f"JOIN {_table(Regime)} g ON g.id = r.regime_id"
    # f: the facts of each moved rating as the texts' FIELDS, in their order (a NULL is
    # rendered empty); m: its subject, body and the rest, once per rating, not per recipient
    fields = ", ".join(f"f.{name}" for name in FIELDS)
    columns = ("key, kind, user_id, email, recipient_name, unit_id, subject, body, link, "
               "object_type, object_id, created_at, email_status, email_attempts, email_error")
    common = ("m.kind, {user}, {email}, {name}, COALESCE(a.area, m.unit_id), m.subject, m.body, "
              "m.link, %(object_type)s, m.object_id, %(now)s, {status}, 0, ''")
    sql = f"""
        WITH f AS (
            SELECT r.id, r.state, o.email, o.unit_id, p.name AS product, o.name AS producer,
                   r.stars::text AS stars, r.decision_number AS decision,
                   to_char(r.decision_date, 'DD/MM/YYYY') AS decision_date,
                   to_char(r.valid_until, 'DD/MM/YYYY') AS valid_until,
                   to_char(r.valid_until - {window_start}, 'DD/MM/YYYY') AS window_start,
                   to_char(r.valid_until - COALESCE({window_end}, 0), 'DD/MM/YYYY')
                       AS window_end,
                   ({notice_days})::text AS notice_days
            FROM unnest(%(ids)s::bigint[], %(states)s::text[]) AS moved(id, state)
            JOIN {_table(Rating)} r ON r.id = moved.id AND r.state = moved.state
            {rules_join}
            JOIN {_table(Product)} p ON p.id = r.product_id
            JOIN {_table(Producer)} o ON o.id = p.producer_id
        ),
        m AS (
            SELECT f.id, f.email, f.unit_id, f.producer,
                   'rating-' || f.state || ':' || f.id AS key,
                   CASE f.state WHEN %(due)s THEN %(kind_due)s ELSE %(kind_expired)s END
                       AS kind,
                   left(CASE f.state WHEN %(due)s THEN format(%(due_subject)s, {fields})
                        ELSE format(%(expired_subject)s, {fields}) END, 300) AS subject,
                   CASE WHEN f.state = %(expired)s THEN format(%(expired_body)s, {fields})
                        WHEN f.window_start IS NOT NULL THEN format(%(due_window)s, {fields})
                        ELSE format(%(due_notice)s, {fields}) END AS body,
                   %(link_start)s || f.id || %(link_end)s AS link, f.id::text AS object_id
            FROM f
        ),
        a AS (
            SELECT * FROM unnest(%(a_units)s::bigint[], %(a_areas)s::bigint[],
                                 %(a_users)s::bigint[]) AS a(unit_id, area, user_id)
        ),
        new AS (
            INSERT INTO {_table(Notification)} ({columns})
            SELECT m.key || ':producer', {common.format(
                user="NULL::bigint", email="m.email", name="m.producer",
                status="%(pending)s")}
            FROM m LEFT JOIN (SELECT DISTINCT unit_id, area FROM a) a ON a.unit_id = m.unit_id
            WHERE m.email <> ''
            UNION ALL
            SELECT m.key || ':user:' || u.id, {common.format(
                user="u.id", email="u.email",
                name="COALESCE(NULLIF(u.full_name, ''), "
                     "NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.username)",
                status="CASE WHEN u.email <> '' THEN %(pending)s ELSE '' END")}
            FROM m JOIN a ON a.unit_id = m.unit_id
            JOIN {_table(get_user_model())} u
                ON u.id = a.user_id
            ON CONFLICT (key) DO NOTHING
            RETURNING email
        )
        SELECT count(*), count(*) FILTER (WHERE email <> '') FROM new"""
    params = {
        "ids": [pk for pk, _s, _u in moved], "states": [str(s) for _p, s, _u in moved],
        "a_units": [u for u, _a, _us in unit_pairs], "a_areas": [a for _u, a, _us in unit_pairs],
        "a_users": [us for _u, _a, us in unit_pairs],
        "due": str(RatingState.DUE), "expired": str(RatingState.EXPIRED),
        "kind_due": KIND[RatingState.DUE], "kind_expired": KIND[RatingState.EXPIRED],
        "due_subject": texts["due_subject"], "expired_subject": texts["expired_subject"],
        "expired_body": texts["expired"], "due_window": texts["due_window"],
        "due_notice": texts["due_notice"], "link_start": start, "link_end": end,
        "object_type": Rating._meta.label_lower, "now": now,
        "pending": str(EmailStatus.PENDING),
    }
    if regime is not None:
        params.update(window_start=regime.filing_window_start_days_before,
                      window_end=regime.filing_window_end_days_before,
                      notice_days=regime.notify_days_before_expiry)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created, with_email = cursor.fetchone()
    return created, with_email


def check_rating_expiry(day=None, *, set_based=None):
    """Move the ratings by ``day`` (default today) and notify, by the rules of the regime in
    force on ``day`` (before every regime: each rating's own); returns ``{"due": [ids],
    "expired": [ids], "notified": n}`` (ids sorted). ``set_based`` defaults to PostgreSQL."""
    day = day or timezone.localdate()
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    regimes = list(Regime.objects.order_by("effective_from", "pk"))
    regime = regime_in_force(day, regimes)
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        moved = _move_sql(day, regime) if set_based else _move_orm(day, regime, regimes)
        recipients = responsible_users({unit for _pk, _s, unit in moved})
        notified = 0
        if moved and set_based:
            notified, with_email = _notify_sql(moved, recipients, timezone.now(), regime)
            if with_email:
                transaction.on_commit(wake_mailer)
        elif moved:
            notified = _notify_orm(moved, recipients, regime)
        result = {state: sorted(pk for pk, s, _u in moved if s == state)
                  for state in ("due", "expired")}
        if moved:
            # a bulk UPDATE sends no signal: the figures and lists counted at the
            # statistics' version count again (docs/statistics.md, "Cache")
            statistics.bump()
            record("ratings.expiry_checked", after={
                "day": day.isoformat(), "regime": regime.slug if regime else None, **result,
                "notified": notified})
    return {**result, "notified": notified}
