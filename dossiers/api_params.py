"""Query parameters of the dossiers app's API (``dossiers.api``, ``dossiers.api_recognition``):
each checks the shape of one parameter and answers 400 naming it (docs/input.md), never a
database error. What the filters mean stays with the queries (``dossiers.queries``,
``dossiers.ratings``)."""

import re

from django.utils.translation import gettext as _
from rest_framework import exceptions

from ocop.input import MAX_ID, id_in_range

from .queries import SEARCH_MAX_LENGTH


def bad_filter(name, message):
    return exceptions.ValidationError({name: [message]})


def number_param(params, name):
    """A whole number (no sign) as text, or ``None`` when absent or empty."""
    value = params.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):  # "²" is a digit int() refuses
        raise bad_filter(name, _("Enter a whole number."))
    return value


def id_param(params, name):
    """An id filter: a whole number a table can hold (a larger one would overflow the
    database driver)."""
    value = number_param(params, name)
    if value is None:
        return None
    if not id_in_range(value):
        raise bad_filter(name, _("There is no such id (at most %(max)s).") % {"max": MAX_ID})
    return int(value)


def bounded_param(params, name, low, high, message):
    value = number_param(params, name)
    if value is None:
        return None
    if len(value) > 12 or not low <= int(value) <= high:
        raise bad_filter(name, message)
    return int(value)


def month_param(params, name):
    """A month as ``YYYY-MM`` (e.g. 2027-01), or ``None`` when absent or empty."""
    value = params.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise bad_filter(name, _("Enter a month as YYYY-MM, e.g. 2027-01."))
    return value


def choice_param(params, name, values):
    value = params.get(name, "").strip()
    if value and value not in values:
        raise bad_filter(name, _("Unknown value “%(value)s”. Use one of: %(known)s.") % {
            "value": value, "known": ", ".join(values)})
    return value


def search_param(params):
    """``?q=``: at most :data:`~dossiers.queries.SEARCH_MAX_LENGTH` characters."""
    value = params.get("q", "").strip()
    if len(value) > SEARCH_MAX_LENGTH:
        raise bad_filter("q", _("The search is too long (%(length)s characters); use at most "
                                "%(max)s.") % {"length": len(value), "max": SEARCH_MAX_LENGTH})
    return value


def flag_param(params, name):
    value = params.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise bad_filter(name, _("Use 1 or 0."))
