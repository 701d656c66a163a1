"""The input boundary: every piece of submitted text passes here before a form, a
serializer or the database sees it.

* Text is refused when it holds a NUL character (PostgreSQL cannot store it in ``text``)
  or a lone UTF-16 surrogate (``"\\ud800"`` in JSON: it cannot be encoded, neither into the
  database nor into the answer) — one clear 400, never a 500.
* Every accepted string is normalised to NFC, so that "Bưởi" typed as decomposed
  characters (NFD) is stored, searched, exported and printed like the composed form.
  Passwords are checked but not normalised (they are compared byte for byte).
* JSON bodies nested deeper than :data:`MAX_JSON_DEPTH` are refused before parsing (a
  5,000-deep body would otherwise exhaust the recursion limit).

Two doors, one rule (:func:`clean`):

* :class:`InputBoundaryMiddleware` — the query string of every request and the form data
  of every page (``request.GET`` / ``request.POST`` are replaced by cleaned copies). A page
  answers the 400 page; an API view the project's error body.
* :class:`JSONParser`, :class:`FormParser`, :class:`MultiPartParser` — the API's request
  bodies (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``); a refusal is a ``ParseError`` that
  ``ocop.api.exception_handler`` shapes as ``{"error": {"code", "message", "fields"}}``.

Ids: :data:`MAX_ID` is the largest id any table can hold (64-bit); :class:`IdChoiceMixin`
makes model choice fields refuse larger ones as an invalid choice instead of letting the
database driver overflow (SQLite raises ``OverflowError``).
"""

import json
import re
import unicodedata

from django import forms
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: Largest value of a 64-bit signed integer column (every primary key here).
MAX_ID = 2**63 - 1
#: Deepest JSON nesting accepted in a request body (the deepest real body, the
#: registration form, nests three levels).
MAX_JSON_DEPTH = 32

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class InvalidInput(ValueError):
    """Submitted text that no field may receive; ``field`` names where it was found."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def _is_secret(name):
    return "password" in (name or "").lower()


def clean_text(value, field=None):
    """``value`` in NFC; :class:`InvalidInput` for a NUL or a lone surrogate."""
    found = _FORBIDDEN.search(value)
    if found:
        if found.group() == "\x00":
            message = _("The text contains a NUL character (\\0), which is not allowed. "
                        "Remove it and send again.")
        else:
            message = _("The text contains an invalid character (a lone UTF-16 surrogate). "
                        "Send the text as valid Unicode.")
        raise InvalidInput(message, field)
    if _is_secret(field):
        return value
    return unicodedata.normalize("NFC", value)


def clean(data, field=None):
    """Clean every string inside ``data`` (str, dict keys and values, lists; other values
    unchanged), iteratively: a deep structure cannot exhaust the stack here."""
    if isinstance(data, str):
        return clean_text(data, field)
    if not isinstance(data, dict | list):
        return data
    root = [data]
    stack = [(root, 0, data, field)]
    while stack:
        parent, key, node, name = stack.pop()
        if isinstance(node, str):
            parent[key] = clean_text(node, name)
        elif isinstance(node, dict):
            copy = {}
            for k, v in node.items():
                k = clean_text(k, name) if isinstance(k, str) else k
                copy[k] = v
                stack.append((copy, k, v, k if isinstance(k, str) else name))
            parent[key] = copy
        elif isinstance(node, list):
            copy = list(node)
            for i, v in enumerate(node):
                stack.append((copy, i, v, name))
            parent[key] = copy
    return root[0]


def clean_querydict(querydict):
    """A cleaned, immutable copy of a ``QueryDict`` (keys and every value)."""
    cleaned = QueryDict(mutable=True, encoding=querydict.encoding)
    for key, values in querydict.lists():
        name = clean_text(key, key)
        cleaned.setlistdefault(name, []).extend(
            clean_text(v, name) if isinstance(v, str) else v for v in values)
    cleaned._mutable = False
    return cleaned


def check_json_depth(text, limit=MAX_JSON_DEPTH):
    """:class:`InvalidInput` when the JSON document nests deeper than ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub('""', text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                raise InvalidInput(
                    _("The JSON document is nested too deeply (more than %(limit)s levels).")
                    % {"limit": limit})
        else:
            depth -= 1


# --- API (Django REST framework parsers) ----------------------------------------------------


class InputRefused(ParseError):
    """A refusal of the boundary; ``fields`` names the field when it is known (the error
    handler puts it in the body)."""

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.fields = fields


def _parse_error(error):
    return InputRefused(error.message,
                        {error.field: [error.message]} if error.field else None)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind the boundary: depth limit, NUL/surrogates refused, NFC."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(_("The request body is not valid %(encoding)s text.")
                             % {"encoding": encoding.upper()}) from exc
        try:
            check_json_depth(text)
            data = json.loads(text, parse_constant=_refuse_constant)
            return clean(data)
        except InvalidInput as exc:
            raise _parse_error(exc) from exc
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("The request body is not valid JSON: %(error)s")
                             % {"error": exc}) from exc


def _refuse_constant(name):
    raise ValueError(_("%(name)s is not a JSON value.") % {"name": name})


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return clean_querydict(super().parse(stream, media_type, parser_context))
        except InvalidInput as exc:
            raise _parse_error(exc) from exc


class MultiPartParser(parsers.MultiPartParser):
    """Cleans the text fields; the files are the upload checks' business."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        try:
            return parsers.DataAndFiles(clean_querydict(result.data), result.files)
        except InvalidInput as exc:
            raise _parse_error(exc) from exc


# --- pages and query strings (middleware) ---------------------------------------------------


def _is_api_view(view_func):
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


def bad_request(request, error, *, api):
    """The refusal: the API's error body, or the 400 page."""
    if api:
        fields = {error.field: [error.message]} if error.field else None
        return JsonResponse({"error": {"code": "parse_error", "message": error.message,
                                       "fields": fields}}, status=400)
    return render(request, "400.html", {"reason": error.message}, status=400)


class InputBoundaryMiddleware:
    """Cleans ``request.GET`` for every request and ``request.POST`` for every page (the
    API's bodies are cleaned by the parsers above, which DRF runs itself). Place it after
    ``CsrfViewMiddleware`` (which reads the form data first) and after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        api = _is_api_view(view_func)
        if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in view_kwargs.values()):
            # an id in the address (``<int:pk>``) no table can hold: nothing there
            if api:
                return JsonResponse({"error": {"code": "not_found", "message": _("Not found."),
                                               "fields": None}}, status=404)
            raise Http404(_("Not found."))
        try:
            request.GET = clean_querydict(request.GET)
            if not api and request.method in ("POST", "PUT", "PATCH"):
                request.POST = clean_querydict(request.POST)
        except InvalidInput as error:
            return bad_request(request, error, api=api)
        return None


def id_in_range(value):
    """``value`` (an id as sent: text or number) is a whole number a table can hold."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    text = str(value).strip()
    # the length first: int() refuses more than 4,300 digits with a ValueError
    return text.isdigit() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID


class ModelChoiceField(forms.ModelChoiceField):
    """An id that is not a whole number within 64 bits is an invalid choice (never a
    database error)."""

    def to_python(self, value):
        if value not in self.empty_values and not self.to_field_name \
                and not isinstance(value, self.queryset.model) and not id_in_range(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"],
                                        code="invalid_choice", params={"value": value})
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """As :class:`ModelChoiceField`, for several ids (``pk__in`` overflows on SQLite)."""

    def _check_values(self, value):
        if not self.to_field_name:
            for pk in value:
                if not isinstance(pk, self.queryset.model) and not id_in_range(pk):
                    raise forms.ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                        params={"pk": pk})
        return super()._check_values(value)
