"""The current request's actor and IP address, for audit events written by services."""

import contextvars
import ipaddress

from django.conf import settings

_request = contextvars.ContextVar("ocop_request", default=None)


def set_request(request):
    return _request.set(request)


def reset_request(token):
    _request.reset(token)


def current_request():
    return _request.get()


def client_ip(request):
    """The client's address, the one the audit log, django-axes (``AXES_CLIENT_IP_CALLABLE``)
    and the token API's throttle use.

    ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` = n > 0 reverse proxies stand in front of
    the application: then the n-th address from the right of ``X-Forwarded-For`` (the one our
    outermost trusted proxy saw), as DRF's ``NUM_PROXIES`` counts. Anything to the left of it
    was written by the client and is never trusted."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if count and forwarded:
        addresses = forwarded.split(",")
        candidate = addresses[-min(count, len(addresses))].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote
