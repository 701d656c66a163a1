"""The Vietnamese text the pages show, for assertions: ``vi("Overdue")``, ``vi("Round
%(number)s/%(year)s", number=1, year=2026)``, ``vi(DossierState.SUBMITTED.label)``."""

from django.utils import translation
from django.utils.translation import gettext


def vi(message, **params):
    """The Vietnamese catalog's text of an English source string (or of a lazy label),
    with ``params`` put in."""
    with translation.override("vi"):
        text = gettext(str(message))
    return text % params if params else text
