"""Checks on an uploaded dossier file, before anything is stored.

* The type is detected from the CONTENT (magic bytes), never from the name or the browser's
  content type: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``),
  DOCX / XLSX (a ZIP whose central directory lists ``word/document.xml`` resp.
  ``xl/workbook.xml``; macro-enabled documents, which also list a ``vbaProject.bin``, are
  refused). Anything else is refused; a program or script (Windows ``MZ``, ELF, Mach-O,
  ``#!``) gets its own message. A real PDF named ``.docx`` is accepted as a PDF: the stored
  extension is the detected one.
* The content must open as the detected type: a PDF is read by pypdf (at least one page,
  every page object readable), an image is decoded by Pillow (a JPEG at 1/8 scale, which
  still reads all its data) and has at most ``OCOP_UPLOAD_MAX_IMAGE_PIXELS`` pixels. So
  ``%PDF-`` followed by HTML, or a PNG signature followed by SVG, is refused.
* Office files (ZIPs): only the central directory is read, nothing is inflated. The entry
  count comes first from the end-of-central-directory record, so 200,000 entries are
  refused without parsing them; then the declared sizes are bounded: at most
  ``OCOP_UPLOAD_ZIP_MAX_ENTRIES`` entries, ``OCOP_UPLOAD_ZIP_MAX_INFLATED_BYTES`` in total
  and, for an entry over 1 MiB, ``OCOP_UPLOAD_ZIP_MAX_RATIO`` times its compressed size.
* Size: at most ``settings.OCOP_UPLOAD_MAX_BYTES`` (50 MB by default); empty files are
  refused. :class:`SizeLimitUploadHandler` (first in ``FILE_UPLOAD_HANDLERS``) stops
  reading the request as soon as one file passes the limit and leaves the refusal on the
  request (:func:`refused_in`), so a 1 GB body is not read before it is refused. The
  message shows two sizes that differ visibly (:func:`format_sizes`).
* Virus scanner hook: ``settings.OCOP_UPLOAD_SCANNER`` is the dotted path of a callable
  ``scanner(file) -> None`` (default: none). It runs after the type check and before
  storing; it refuses a file by raising ``django.core.exceptions.ValidationError`` (its
  message is shown). Any other exception (scanner down) refuses the file too — fail closed.
* Stored name: a random token + the detected type's extension; the user's file name is
  kept for display only, sanitised (no control, bidi or other invisible format characters,
  NFC, at most 255 characters). A download's name ends in the detected type's extension
  (:func:`download_name`): ``a\\x00.pdf.exe`` stored as a PDF downloads as ``a.pdf.pdf``.
* The headers of one multipart part (where the browser puts the file name) may be up to
  ``PART_HEADER_MAX_BYTES``; Django's own limit of 1024 bytes turned a long Vietnamese file
  name into a bare "Bad Request (400)".
"""

import hashlib
import logging
import os
import re
import secrets
import struct
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import multipartparser
from django.template.defaultfilters import filesizeformat
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_LENGTH = 255
MiB = 1024 * 1024
DEFAULT_ZIP_MAX_ENTRIES = 5000
DEFAULT_ZIP_MAX_INFLATED_BYTES = 512 * MiB
DEFAULT_ZIP_MAX_RATIO = 100
#: Entries smaller than this are not ratio-checked (a few KB of XML compresses very well).
ZIP_RATIO_MIN_BYTES = MiB
DEFAULT_MAX_IMAGE_PIXELS = 64_000_000
#: Headers of one multipart part (the file name is in them); Django's own limit is 1024.
PART_HEADER_MAX_BYTES = 8192


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str
    #: Other extensions a user's name of this type keeps when downloaded.
    aliases: tuple = ()

    @property
    def extensions(self):
        return (self.extension, *self.aliases)


PDF = FileType(".pdf", "application/pdf", "PDF")
JPEG = FileType(".jpg", "image/jpeg", "JPEG", (".jpeg",))
PNG = FileType(".png", "image/png", "PNG")
DOCX = FileType(
    ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
XLSX = FileType(
    ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")

ALLOWED_TYPES = (PDF, JPEG, PNG, DOCX, XLSX)
BY_CONTENT_TYPE = {t.content_type: t for t in ALLOWED_TYPES}
#: For ``<input type="file" accept="…">``.
ACCEPT = ",".join(ext for t in ALLOWED_TYPES for ext in t.extensions)

#: Plain magic bytes → type.
MAGIC = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
ZIP_MAGIC = b"PK\x03\x04"
#: ZIP member that marks an Office Open XML document → type.
OOXML_MEMBERS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX))
MACRO_MEMBERS = ("word/vbaProject.bin", "xl/vbaProject.bin")

#: Headers of programs and scripts (refused with a message of their own).
EXECUTABLE_MAGIC = (
    b"MZ",                    # Windows PE / DOS executable
    b"\x7fELF",               # Linux / Unix executable
    b"#!",                    # script with an interpreter line
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",  # Mach-O
    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",      # Mach-O universal / Java class
)


class UploadRefused(Exception):
    """A refused file; ``message`` names the file and says why."""

    def __init__(self, message, *, code):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CheckedFile:
    file: File
    type: FileType
    original_name: str
    size: int
    sha256: str

    @property
    def content_type(self):
        return self.type.content_type


def max_bytes():
    return getattr(settings, "OCOP_UPLOAD_MAX_BYTES", None) or DEFAULT_MAX_BYTES


def _setting(name, default):
    return getattr(settings, name, None) or default


def accepted_help():
    """What the upload form says: the accepted types and the size limit."""
    return _("PDF, JPEG, PNG, DOCX, XLSX; at most %(limit)s per file.") % {
        "limit": filesizeformat(max_bytes())}


def _grouped(n):
    """A whole number with the language's thousands separator (51.201 in Vietnamese)."""
    return numberformat.format(n, get_format("DECIMAL_SEPARATOR"), 0, 3,
                               get_format("THOUSAND_SEPARATOR"), force_grouping=True)


def format_sizes(size, limit):
    """``size`` and ``limit`` as texts that differ visibly: the usual short form, else whole
    KB, else bytes (50 MB + 1 KB is "51.201 KB" against "51.200 KB", not "50,0 MB" twice).
    The KB and byte forms reuse Django's translated "%s KB" and "%(size)d bytes"."""
    shown = (filesizeformat(size), filesizeformat(limit))
    if shown[0] != shown[1]:
        return shown
    shown = tuple(_("%s KB") % _grouped(round(n / 1024))
                  for n in (size, limit))
    if shown[0] != shown[1]:
        return shown
    return tuple(
        ngettext("%(size)d byte", "%(size)d bytes", n).replace("%(size)d", "%(size)s")
        % {"size": _grouped(n)} for n in (size, limit))


def too_large(name, size, *, approximate=False):
    """The refusal of a file over the limit. ``approximate``: the upload was stopped part-way
    and ``size`` is the request's length (None when unknown)."""
    limit = max_bytes()
    if size is None or size <= limit:
        message = _("The file “%(name)s” is too large (more than %(limit)s); the limit is "
                    "%(limit)s.") % {"name": name, "limit": filesizeformat(limit)}
    else:
        shown, shown_limit = format_sizes(size, limit)
        template = (_("The file “%(name)s” is too large (about %(size)s); the limit is "
                      "%(limit)s.") if approximate else
                    _("The file “%(name)s” is too large (%(size)s); the limit is %(limit)s."))
        message = template % {"name": name, "size": shown, "limit": shown_limit}
    return UploadRefused(message, code="too_large")


#: Control, format (bidi marks and overrides, zero-width), surrogate and private-use
#: characters: invisible, or able to reorder what the user sees (``invoice\u202efdp.exe``).
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co"})


def sanitise_name(name):
    """The user's file name for display: last path component only, no control, bidi or
    other invisible format characters, NFC, single spaces, at most 255 characters (the
    extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "tep-tin"
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[:MAX_NAME_LENGTH - len(ext)].rstrip(" .") + ext
    return name


_EXTENSION = re.compile(r"\.[0-9A-Za-z]{1,8}")


def download_name(original_name, content_type, stored_name=""):
    """The name a stored file downloads under: the sanitised original name, whose extension
    is the detected type's — kept when it already is one (``.PDF``, ``.jpeg``), else replaced
    (``a.pdf.exe`` → ``a.pdf.pdf``, ``invoice\u202efdp.exe`` → ``invoicefdp.pdf``) or added."""
    name = sanitise_name(original_name)
    file_type = BY_CONTENT_TYPE.get(content_type)
    extensions = file_type.extensions if file_type else (
        os.path.splitext(stored_name)[1].lower() or ".bin",)
    stem, current = os.path.splitext(name)
    if current.lower() in extensions:
        return name
    if not _EXTENSION.fullmatch(current):
        stem = name
    return stem[:MAX_NAME_LENGTH - len(extensions[0])] + extensions[0]


def stored_name_for(file_type):
    """A random name with the detected type's extension (never derived from the user's)."""
    return secrets.token_hex(16) + file_type.extension


def _as_file(uploaded):
    return uploaded if isinstance(uploaded, File) else File(uploaded,
                                                            name=getattr(uploaded, "name", ""))


def _size(f):
    size = getattr(f, "size", None)
    if size is None:
        f.seek(0, os.SEEK_END)
        size = f.tell()
    f.seek(0)
    return size


# --- ZIP bounds (central directory only) -----------------------------------------------------

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


def _zip_entry_count(f):
    """The entry count declared by the end-of-central-directory record (ZIP64 included),
    read from the file's tail without parsing the directory; None if there is none."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    tail_start = max(0, end - (22 + 65535))
    f.seek(tail_start)
    tail = f.read()
    f.seek(0)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if count == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == _EOCD64_LOCATOR:
        offset = struct.unpack("<Q", tail[at - 12:at - 4])[0]
        f.seek(offset)
        record = f.read(56)
        f.seek(0)
        if len(record) == 56 and record[:4] == _EOCD64:
            count = struct.unpack("<Q", record[32:40])[0]
    return count


def check_zip_bounds(f, name=""):
    """Refuse an archive with too many entries or whose declared sizes would inflate too
    far (in total, or one entry compressed too strongly). Reads the directory only."""
    max_entries = _setting("OCOP_UPLOAD_ZIP_MAX_ENTRIES", DEFAULT_ZIP_MAX_ENTRIES)
    count = _zip_entry_count(f)
    if count is not None and count > max_entries:
        raise _too_many_entries(name, count, max_entries)
    try:
        with zipfile.ZipFile(f) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return None
    finally:
        f.seek(0)
    if len(infos) > max_entries:
        raise _too_many_entries(name, len(infos), max_entries)
    max_inflated = _setting("OCOP_UPLOAD_ZIP_MAX_INFLATED_BYTES",
                            DEFAULT_ZIP_MAX_INFLATED_BYTES)
    max_ratio = _setting("OCOP_UPLOAD_ZIP_MAX_RATIO", DEFAULT_ZIP_MAX_RATIO)
    total = sum(info.file_size for info in infos)
    if total > max_inflated:
        raise UploadRefused(
            _("The file “%(name)s” would unpack to %(size)s (at most %(limit)s is accepted) "
              "and was refused.")
            % {"name": name, "size": filesizeformat(total),
               "limit": filesizeformat(max_inflated)}, code="zip_bomb")
    for info in infos:
        if (info.file_size > ZIP_RATIO_MIN_BYTES
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            raise UploadRefused(
                _("The file “%(name)s” is compressed abnormally strongly (a part unpacks to "
                  "%(ratio)s times its size; at most %(limit)s times) and was refused.")
                % {"name": name, "ratio": _grouped(
                    info.file_size // max(info.compress_size, 1)),
                   "limit": max_ratio}, code="zip_bomb")
    return infos


def _too_many_entries(name, count, limit):
    return UploadRefused(
        _("The file “%(name)s” holds too many parts (%(count)s; at most %(limit)s) and was "
          "refused.") % {"name": name, "count": _grouped(count),
                         "limit": _grouped(limit)},
        code="zip_too_many_entries")


def detect_type(f, name=""):
    """The allowed type of the file's content, or None. ``f`` is a seekable binary file;
    it is left at position 0. A ZIP over the bounds raises :class:`UploadRefused`."""
    f.seek(0)
    head = f.read(16)
    f.seek(0)
    for magic, file_type in MAGIC:
        if head.startswith(magic):
            return file_type
    if head.startswith(ZIP_MAGIC):
        infos = check_zip_bounds(f, name)
        if infos is None:
            return None
        names = {info.filename for info in infos}
        if names & set(MACRO_MEMBERS):
            return None
        for member, file_type in OOXML_MEMBERS:
            if member in names:
                return file_type
    return None


# --- the content opens as its type --------------------------------------------------------


def _unreadable(name, file_type):
    return UploadRefused(
        _("The file “%(name)s” starts like a %(type)s file but cannot be opened as one, so "
          "it was refused. Please send the original document.")
        % {"name": name, "type": file_type.label}, code="unreadable")


def _check_pdf(f, name):
    from pypdf import PdfReader

    f.seek(0)
    try:
        reader = PdfReader(f, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadRefused(
                _("The file “%(name)s” is protected by a password; please send it without "
                  "the password.") % {"name": name}, code="encrypted")
        pages = reader.pages
        if len(pages) < 1:
            raise _unreadable(name, PDF)
        for page in pages:
            page.mediabox  # noqa: B018 — reading each page object is the check
    except UploadRefused:
        raise
    except Exception as error:
        logger.info("Refused an unreadable PDF %r: %s", name, error)
        raise _unreadable(name, PDF) from error
    finally:
        f.seek(0)


def _check_image(f, name, file_type):
    from PIL import Image

    max_pixels = _setting("OCOP_UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(f, formats=[file_type.label]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise UploadRefused(
                        _("The image “%(name)s” is too large (%(width)s × %(height)s pixels; "
                          "at most %(limit)s megapixels).")
                        % {"name": name, "width": width, "height": height,
                           "limit": max_pixels // 1_000_000}, code="image_too_large")
                if file_type is JPEG:
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
    except UploadRefused:
        raise
    except Exception as error:
        logger.info("Refused an undecodable image %r: %s", name, error)
        raise _unreadable(name, file_type) from error
    finally:
        f.seek(0)


def check_content(f, file_type, name=""):
    """Refuse a file whose content does not open as ``file_type`` (PDF pages, image data).
    Office files were bounded by :func:`detect_type`; their XML is not parsed here."""
    if file_type is PDF:
        _check_pdf(f, name)
    elif file_type in (JPEG, PNG):
        _check_image(f, name, file_type)


def is_executable(f):
    f.seek(0)
    head = f.read(8)
    f.seek(0)
    return any(head.startswith(magic) for magic in EXECUTABLE_MAGIC)


def sha256_of(f):
    digest = hashlib.sha256()
    f.seek(0)
    for chunk in f.chunks() if hasattr(f, "chunks") else iter(lambda: f.read(65536), b""):
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def run_scanner(f, name):
    path = getattr(settings, "OCOP_UPLOAD_SCANNER", None)
    if not path:
        return
    scanner = import_string(path) if isinstance(path, str) else path
    f.seek(0)
    try:
        scanner(f)
    except ValidationError as error:
        raise UploadRefused(
            _("The file “%(name)s” was refused by the virus scan: %(reason)s")
            % {"name": name, "reason": " ".join(error.messages)},
            code="infected") from error
    except Exception as error:
        logger.exception("Upload scanner %s failed on %s", path, name)
        raise UploadRefused(
            _("The file “%(name)s” could not be checked for viruses, so it was not stored. "
              "Please try again later.") % {"name": name},
            code="scan_failed") from error
    finally:
        f.seek(0)


def check_upload(uploaded):
    """Check an uploaded file; return a :class:`CheckedFile` or raise
    :class:`UploadRefused`. Nothing is stored here."""
    f = _as_file(uploaded)
    name = sanitise_name(getattr(uploaded, "name", "") or getattr(f, "name", ""))
    size = _size(f)
    if size == 0:
        raise UploadRefused(_("The file “%(name)s” is empty.") % {"name": name},
                            code="empty")
    if size > max_bytes():
        raise too_large(name, size)
    if is_executable(f):
        raise UploadRefused(
            _("The file “%(name)s” is a program or a script, not a document, and was "
              "refused. Only PDF, JPEG, PNG, DOCX and XLSX files are accepted.")
            % {"name": name}, code="executable")
    file_type = detect_type(f, name)
    if file_type is None:
        raise UploadRefused(
            _("The file “%(name)s” is not an accepted type. Only PDF, JPEG, PNG, DOCX and "
              "XLSX files are accepted (the content is checked, not the file name).")
            % {"name": name}, code="type_not_allowed")
    check_content(f, file_type, name)
    run_scanner(f, name)
    return CheckedFile(file=f, type=file_type, original_name=name, size=size,
                       sha256=sha256_of(f))


# --- reading the request: stop at the limit ----------------------------------------------------

_REFUSED_ATTR = "_ocop_upload_refused"

# Django refuses a part whose headers pass 1024 bytes with a bare 400; a browser sends a long
# Vietnamese file name in those headers. Allow a bounded 8 KiB (the name is then shortened
# by sanitise_name). Set here because this module is loaded before any upload is parsed.
if multipartparser.MAX_TOTAL_HEADER_SIZE < PART_HEADER_MAX_BYTES:
    multipartparser.MAX_TOTAL_HEADER_SIZE = PART_HEADER_MAX_BYTES


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: counts each file's bytes as they arrive and, as
    soon as one passes ``OCOP_UPLOAD_MAX_BYTES``, stops reading the request
    (``StopUpload(connection_reset=True)``: the rest of the body is not read). The fields
    read so far stay in ``request.POST`` (the CSRF token comes first in every form) and the
    refusal is left on the request for the view (:func:`refused_in`)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length
        return None

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        if content_length is not None and content_length > max_bytes():
            self._refuse()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > max_bytes():
            self._refuse()
        return raw_data

    def file_complete(self, file_size):
        return None

    def _refuse(self):
        refusal = too_large(sanitise_name(self.file_name),
                            getattr(self, "request_length", None), approximate=True)
        refusal.field_name = self.field_name
        if self.request is not None:
            setattr(self.request, _REFUSED_ATTR, refusal)
        raise StopUpload(connection_reset=True)


def refused_in(request):
    """The :class:`UploadRefused` left by :class:`SizeLimitUploadHandler` on this request
    (Django or DRF request), or None. Read it after ``request.POST``/``request.data``."""
    return getattr(getattr(request, "_request", request), _REFUSED_ATTR, None)
