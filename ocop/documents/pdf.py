"""Render Django templates to PDF with WeasyPrint.

WeasyPrint is imported lazily inside :func:`render_pdf` (the import alone costs about a
second), so importing this module is cheap.

The document templates load the fonts shipped in ``ocop/documents/fonts/`` through
``@font-face`` rules with URLs relative to :data:`FONTS_BASE_URL`, which is passed to
WeasyPrint as the ``base_url``: rendering needs no system font at all. Only ``data:``
URLs and ``file:`` URLs inside :func:`allowed_roots` can be fetched while rendering; any
other resource (network, other files) is refused and aborts the rendering, so that a
document is never printed silently with a fallback font or a missing image.

A page or two renders in about 0.1–0.2 s; long annexes (tens of pages) take seconds
and belong in a background task.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
#: ``base_url`` given to WeasyPrint: the shipped fonts folder, with a trailing slash so
#: that ``url("LiberationSerif-Regular.ttf")`` resolves inside it.
FONTS_BASE_URL = FONTS_DIR.as_uri() + "/"


class PdfRenderError(RuntimeError):
    """A document could not be rendered (e.g. a font or image could not be loaded)."""


def allowed_roots() -> list[Path]:
    """Folders whose files a template may reference (fonts, project static files)."""
    roots = [FONTS_DIR]
    roots += [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _is_allowed_file(path: Path) -> bool:
    path = path.resolve()
    return any(path.is_relative_to(root) for root in allowed_roots())


@functools.cache
def _make_url_fetcher():
    """Return a WeasyPrint URL fetcher restricted to ``data:`` and allowed files, built once
    per process: building one loads the system's certificate bundle for its HTTPS handler
    (~40 ms, more than a third of a one-page render), although https is refused anyway."""
    from weasyprint.urls import URLFetcher

    class LocalURLFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path))
                if not _is_allowed_file(path):
                    raise ValueError(f"File outside the allowed folders: {url}")
            elif scheme != "data":
                raise ValueError(f"Only data: and local file: URLs are allowed: {url}")
            return super().fetch(url, headers)

    return LocalURLFetcher(allowed_protocols=("file", "data"), fail_on_errors=True)


def render_pdf(
    template_name: str, context: dict | None, *, request: HttpRequest | None = None
) -> bytes:
    """Render ``template_name`` with ``context`` to HTML, then to PDF bytes.

    ``request``, when given, is passed to the template engine (context processors run).
    Raises :class:`PdfRenderError` when a resource (font, image, stylesheet) cannot be
    loaded or is not allowed.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    html = render_to_string(template_name, context or {}, request=request)
    font_config = FontConfiguration()
    document = HTML(string=html, base_url=FONTS_BASE_URL, url_fetcher=_make_url_fetcher())
    try:
        return document.write_pdf(font_config=font_config)
    except FatalURLFetchingError as exc:
        # A BaseException in WeasyPrint: turn it into an ordinary error so that Django's
        # error handling (500 page, logging) applies.
        cause = exc.__cause__ or exc
        raise PdfRenderError(f"{exc}: {cause}") from exc


def _ascii_fallback(filename: str) -> str:
    """An ASCII approximation of ``filename`` for the plain ``filename=`` parameter."""
    filename = filename.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in ascii_name)
    return safe.strip("._") or "document.pdf"


def _clean_filename(filename: str) -> str:
    """Drop path parts and control characters from a download name."""
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    filename = "".join(c for c in filename if unicodedata.category(c)[0] != "C")
    return unicodedata.normalize("NFC", filename.strip()) or "document.pdf"


def content_disposition(filename: str, inline: bool = True) -> str:
    """Build a Content-Disposition value with an RFC 5987/6266 ``filename*``.

    ``"Quyết định 123.pdf"`` gives ``inline; filename="Quyet_dinh_123.pdf";
    filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20123.pdf``.
    """
    filename = _clean_filename(filename)
    disposition = "inline" if inline else "attachment"
    fallback = _ascii_fallback(filename)
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def pdf_response(pdf_bytes: bytes, filename: str, inline: bool = True) -> HttpResponse:
    """Wrap PDF bytes in an ``application/pdf`` response.

    ``inline=True`` lets the browser display the document; ``False`` downloads it.
    The Vietnamese ``filename`` is kept through ``filename*`` (RFC 5987), with an ASCII
    ``filename`` fallback for old clients.
    """
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    response["Content-Length"] = str(len(pdf_bytes))
    return response
