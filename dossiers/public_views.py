"""The public verification of a certificate (no login): ``/xac-minh/<code>/`` and its JSON
twin ``/xac-minh/<code>.json`` (docs/verification.md).

Whoever scans the QR code of a certificate sees the facts the certificate prints — product,
product code, producer and its address, stars, the decision, the validity — and the rating's
*current* state. Nothing else about the producer (phone, e-mail, registration number,
representative) is read from the database.

- The code is 16 lowercase base32 characters (``dossiers.decisions.new_verification_code``);
  a malformed or unknown code is a plain 404 that says nothing more (:data:`CODE_PATTERN`).
- Rate limited per client address (``ocop.audit.context.client_ip``, IPv6 per /64) with
  django-ratelimit, ``OCOP_VERIFICATION_RATE`` (60/m); over the limit: 429. The counters live
  in the cache; while Redis is down they cannot count and the page answers anyway
  (``RATELIMIT_FAIL_OPEN``).
- Cached: the facts of a code for ``OCOP_VERIFICATION_CACHE_SECONDS`` (60 s) on the server,
  the answer ``Cache-Control: public, max-age=OCOP_VERIFICATION_MAX_AGE`` (300 s) for the
  browser and proxies — a revocation shows within about six minutes at worst; a service that
  revokes can call :func:`forget` to drop the server's copy at once.
- One query on a miss (two for a revoked rating: its revocation decision's number and
  date), none on a hit; GET and HEAD only.
"""

import ipaddress
import re

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage

from ocop.audit.context import client_ip

from .decisions import printed_address
from .models import Rating, RatingState, Revocation, RevocationState

#: What is looked up: codes are issued as 16 characters of lowercase base32
#: (``new_verification_code``); lowercase letters and digits up to the field's 32 are
#: accepted too, so that a code recorded from elsewhere (an import) still verifies. Anything
#: else is a 404 without a query.
CODE_PATTERN = re.compile(r"[a-z0-9]{16,32}")
#: The rate-limit group: the page and its JSON share one count per address.
RATE_GROUP = "dossiers.verification"
#: Fields read for the public facts, and nothing else (no personal data leaves the database).
FIELDS = (
    "verification_code", "stars", "decision_number", "decision_date", "valid_from",
    "valid_until", "state", "product_code",
    "product__name", "product__code", "product__producer__name",
    "product__producer__address", "product__producer__unit__name",
    "decision__issuer_name", "replaced_by__verification_code",
)


def _cache_key(code):
    return f"verification:v1:{code}"


def forget(code):
    """Drop the server's cached facts of ``code`` (e.g. right after a revocation)."""
    if code:
        cache.delete(_cache_key(code))


def _lookup(code):
    rating = (Rating.objects
              .select_related("product__producer__unit", "decision", "replaced_by")
              .only(*FIELDS).filter(verification_code=code).order_by().first())
    if rating is None:
        return None
    product = rating.product
    decision = rating.decision
    replacement = rating.replaced_by
    return {
        "code": rating.verification_code,
        "product": product.name,
        "product_code": rating.product_code or product.code,
        "producer": product.producer.name,
        "address": printed_address(product),
        "stars": rating.stars,
        "decision": {"number": rating.decision_number, "date": rating.decision_date,
                     "issuer": decision.issuer_name if decision else ""},
        "valid_from": rating.valid_from,
        "valid_until": rating.valid_until,
        "state": rating.state,
        "replaced_by": replacement.verification_code if replacement else None,
        "revocation": _revocation(rating),
    }


def _revocation(rating):
    """The number and date of the decision that revoked the rating (one more query, for a
    revoked rating only), or None (docs/ratings-lifecycle.md)."""
    if rating.state != RatingState.REVOKED:
        return None
    row = (Revocation.objects.filter(rating_id=rating.pk, state=RevocationState.ISSUED)
           .values_list("decision__reference", "decision__date").first())
    return {"number": row[0], "date": row[1]} if row else None


def public_facts(code):
    """The public facts of the rating with ``code`` (cached), or None for no such rating."""
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        return None
    key = _cache_key(code)
    facts = cache.get(key)
    if facts is None:
        facts = _lookup(code)
        if facts is not None:  # unknown codes are not remembered: nothing to fill the cache
            cache.set(key, facts, settings.OCOP_VERIFICATION_CACHE_SECONDS)
    return facts


def state_label(state):
    try:
        return str(RatingState(state).label)
    except ValueError:
        return state


# --- rate limit ------------------------------------------------------------------------------

def client_key(group, request):
    """The address a request is counted under: the client's (behind ``TRUSTED_PROXY_COUNT``
    proxies), an IPv6 client by its /64 network (one subscriber's whole block)."""
    address = client_ip(request) or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def _rate(group, request):
    return settings.OCOP_VERIFICATION_RATE or None  # empty: no limit


def _over_limit(request):
    """The rate-limit usage when ``request`` is over the limit (it is counted), else None."""
    usage = get_usage(request, group=RATE_GROUP, key=client_key, rate=_rate, increment=True)
    if usage is not None and usage["should_limit"]:
        return usage
    return None


def _too_many_message():
    return _("Too many requests from your address. Please wait a minute and try again.")


def _retry_after(response, usage):
    response["Retry-After"] = str(max(1, int(usage.get("time_left") or 0)))
    return response


def _no_index(response):
    """Verification pages are not for search engines (each code belongs to one certificate)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _cacheable(response):
    patch_cache_control(response, public=True, max_age=settings.OCOP_VERIFICATION_MAX_AGE)
    return response


# --- views -----------------------------------------------------------------------------------

def _page_context(request, **context):
    """For an anonymous visitor the page is the same for everyone and kept by proxies: it
    must not carry a CSRF token (base.html's language form would set a cookie) nor consume
    that visitor's pending messages (which would set one too)."""
    if not request.user.is_authenticated:
        context.update(csrf_token="NOTPROVIDED", messages=(), public_page=True)
    return context


@csrf_exempt  # read-only: a POST is answered 405, not the CSRF failure page
@require_safe
def verification(request, code):
    usage = _over_limit(request)
    if usage is not None:
        response = render(request, "dossiers/verification.html", _page_context(
            request, limited=True, message=_too_many_message()), status=429)
        return _no_index(_retry_after(response, usage))
    facts = public_facts(code)
    if facts is None:
        raise Http404
    response = render(request, "dossiers/verification.html", _page_context(
        request, facts=facts, state_label=state_label(facts["state"])))
    if not request.user.is_authenticated:
        # a signed-in user's page shows their name: NoStoreForAuthenticatedMiddleware
        # makes it no-store
        _cacheable(response)
    return _no_index(response)


def _iso(day):
    return day.isoformat() if day else None


def _revocation_json(revocation):
    if not revocation:
        return None
    return {"number": revocation["number"], "date": _iso(revocation["date"])}


@csrf_exempt
@require_safe
def verification_json(request, code):
    usage = _over_limit(request)
    if usage is not None:
        return _no_index(_retry_after(
            JsonResponse({"detail": _too_many_message()}, status=429), usage))
    facts = public_facts(code)
    if facts is None:
        return _no_index(JsonResponse({"detail": _("Not found.")}, status=404))
    decision = facts["decision"]
    body = {
        "code": facts["code"],
        "product": facts["product"],
        "product_code": facts["product_code"],
        "producer": facts["producer"],
        "address": facts["address"],
        "stars": facts["stars"],
        "decision": {"number": decision["number"], "date": _iso(decision["date"]),
                     "issuer": decision["issuer"]},
        "valid_from": _iso(facts["valid_from"]),
        "valid_until": _iso(facts["valid_until"]),
        "state": facts["state"],
        "state_label": state_label(facts["state"]),
        "replaced_by": facts["replaced_by"],
        "revocation": _revocation_json(facts.get("revocation")),
    }
    # the same answer for everyone, signed in or not, except the label's language (the
    # Accept-Language header or the language cookie)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    patch_vary_headers(response, ("Cookie",))
    return _no_index(_cacheable(response))
