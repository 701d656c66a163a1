"""Login throttling (django-axes) for the login page and the token API.

Two locks, each with its own limit, counted over the cool-off period
(``AXES_COOLOFF_TIME``) after the last failure:

- a username from one address: ``AXES_FAILURE_LIMIT`` failures (5);
- one address, whatever the usernames: ``AXES_IP_FAILURE_LIMIT`` failures (20).

The address is :func:`ocop.audit.context.client_ip` (``TRUSTED_PROXY_COUNT``), the same one
the token API's DRF throttle and the audit log use. A locked login is answered "locked, try
again in N minutes" with the minutes actually left (:func:`minutes_left`), on the page and in
the API; attempts during the lock are refused without being counted, so the wait does not grow.
"""

import math

from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_lockout_parameters
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext
from rest_framework.exceptions import APIException


def failure_limit(parameter):
    """The limit of one lockout parameter: the address alone has the higher one."""
    if parameter == "ip_address":
        return settings.AXES_IP_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout parameter.

    Axes compares one number, :meth:`get_failures`, with ``AXES_FAILURE_LIMIT``; this handler
    returns the failures of each parameter scaled to that limit, so the comparison is true
    exactly when some parameter has reached its own limit."""

    def get_failures(self, request, credentials=None):
        base = settings.AXES_FAILURE_LIMIT
        worst = 0
        for parameter, count in self._counts(request, credentials):
            worst = max(worst, count * base // failure_limit(parameter))
        return worst

    def _counts(self, request, credentials):
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
                parameters, self.get_user_attempts(request, credentials), strict=True):
            rows = list(attempts.values_list("failures_since_start", "attempt_time"))
            yield parameter, sum(failures for failures, _time in rows)

    def locked_until(self, request, credentials=None):
        """When the lock on this request ends (the latest of its locked parameters), or None."""
        cool_off = get_cool_off(request)
        if cool_off is None:
            return None
        until = None
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
                parameters, self.get_user_attempts(request, credentials), strict=True):
            limit = failure_limit(parameter)
            rows = sorted(attempts.values_list("failures_since_start", "attempt_time"),
                          key=lambda row: row[1])
            total = sum(failures for failures, _time in rows)
            # failures expire a cool-off after their row's last attempt, oldest first
            for failures, attempt_time in rows:
                if total < limit:
                    break
                total -= failures
                if total < limit:
                    end = attempt_time + cool_off
                    until = end if until is None else max(until, end)
        return until

    def reset_user_attempts(self, request, credentials=None):
        """A successful login forgets that username's failures from this address, not the
        address's failures with other usernames (else logging into one's own account would
        reset the address's count between guesses)."""
        from axes.models import AccessAttempt

        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address).delete()
        return count


def minutes_left(request, credentials=None):
    """Whole minutes (rounded up, at least 1) until the lock on ``request`` ends."""
    from axes.handlers.proxy import AxesProxyHandler

    handler = AxesProxyHandler.get_implementation()
    until = handler.locked_until(request, credentials) if hasattr(
        handler, "locked_until") else None
    if until is None:
        cool_off = get_cool_off(request)
        seconds = cool_off.total_seconds() if cool_off else 0
    else:
        seconds = (until - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


def locked_message(minutes):
    return ngettext(
        "Too many failed logins: logging in is locked. Try again in %(minutes)d minute.",
        "Too many failed logins: logging in is locked. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the login page's lock page, or the API's error body."""
    minutes = minutes_left(request, credentials)
    message = locked_message(minutes)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "locked", "message": message, "fields": None}}, status=status)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE,
                          {"message": message, "minutes": minutes}, status=status)
    response["Retry-After"] = str(minutes * 60)
    return response


class AccountLocked(APIException):
    """The token API's answer to a locked login: 429, code ``locked``, ``Retry-After``."""

    status_code = 429
    default_code = "locked"

    def __init__(self, request, credentials=None):
        minutes = minutes_left(request, credentials)
        super().__init__(locked_message(minutes))
        self.wait = minutes * 60
