"""The current request's actor and IP address, for audit events written by services."""

import contextvars

_request = contextvars.ContextVar("ocop_request", default=None)


def set_request(request):
    return _request.set(request)


def reset_request(token):
    _request.reset(token)


def current_request():
    return _request.get()


def client_ip(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
