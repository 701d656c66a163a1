"""Input checks for dossiers, each with a Vietnamese message through gettext."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: Tax code: 10 digits, or 10 digits + "-" + 3 digits for a dependent unit. Household
#: businesses registered before the tax-code unification carry a district registration
#: number: 2 digits + a letter + 6 to 9 digits (e.g. "57A8001234").
REGISTRATION_NO = re.compile(r"^(\d{10}(-\d{3})?|\d{2}[A-Z]\d{6,9})$")


def normalise_registration_no(value):
    return re.sub(r"[\s.]", "", value or "").upper()


def validate_registration_no(value):
    if not REGISTRATION_NO.match(normalise_registration_no(value)):
        raise ValidationError(
            _("“%(value)s” is not a valid registration or tax number: enter 10 digits "
              "(e.g. 1801234567), 10 digits-3 digits for a branch, or a household business "
              "number such as 57A8001234."),
            code="invalid_registration_no",
            params={"value": value},
        )
