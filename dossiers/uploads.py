"""Checks on an uploaded dossier file, before anything is stored.

* The type is detected from the CONTENT (magic bytes), never from the name or the browser's
  content type: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``),
  DOCX / XLSX (a ZIP whose central directory lists ``word/document.xml`` resp.
  ``xl/workbook.xml``; macro-enabled documents, which also list a ``vbaProject.bin``, are
  refused). Anything else is refused; a program or script (Windows ``MZ``, ELF, Mach-O,
  ``#!``) gets its own message. A real PDF named ``.docx`` is accepted as a PDF: the stored
  extension is the detected one.
* Size: at most ``settings.OCOP_UPLOAD_MAX_BYTES`` (50 MB by default); empty files are
  refused.
* Virus scanner hook: ``settings.OCOP_UPLOAD_SCANNER`` is the dotted path of a callable
  ``scanner(file) -> None`` (default: none). It runs after the type check and before
  storing; it refuses a file by raising ``django.core.exceptions.ValidationError`` (its
  message is shown). Any other exception (scanner down) refuses the file too — fail closed.
* Stored name: a random token + the detected type's extension; the user's file name is
  kept (sanitised) for display only.
"""

import hashlib
import logging
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str


PDF = FileType(".pdf", "application/pdf", "PDF")
JPEG = FileType(".jpg", "image/jpeg", "JPEG")
PNG = FileType(".png", "image/png", "PNG")
DOCX = FileType(
    ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
XLSX = FileType(
    ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")

ALLOWED_TYPES = (PDF, JPEG, PNG, DOCX, XLSX)

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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sanitise_name(name):
    """The user's file name for display: last path component only, no control characters,
    NFC, single spaces, at most 255 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = _CONTROL.sub("", name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "tep-tin"
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[:MAX_NAME_LENGTH - len(ext)] + ext
    return name


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


def detect_type(f):
    """The allowed type of the file's content, or None. ``f`` is a seekable binary file;
    it is left at position 0."""
    f.seek(0)
    head = f.read(16)
    f.seek(0)
    for magic, file_type in MAGIC:
        if head.startswith(magic):
            return file_type
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(f) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            f.seek(0)
        if names & set(MACRO_MEMBERS):
            return None
        for member, file_type in OOXML_MEMBERS:
            if member in names:
                return file_type
    return None


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
    limit = max_bytes()
    if size > limit:
        raise UploadRefused(
            _("The file “%(name)s” is too large (%(size)s); the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large")
    if is_executable(f):
        raise UploadRefused(
            _("The file “%(name)s” is a program or a script, not a document, and was "
              "refused. Only PDF, JPEG, PNG, DOCX and XLSX files are accepted.")
            % {"name": name}, code="executable")
    file_type = detect_type(f)
    if file_type is None:
        raise UploadRefused(
            _("The file “%(name)s” is not an accepted type. Only PDF, JPEG, PNG, DOCX and "
              "XLSX files are accepted (the content is checked, not the file name).")
            % {"name": name}, code="type_not_allowed")
    run_scanner(f, name)
    return CheckedFile(file=f, type=file_type, original_name=name, size=size,
                       sha256=sha256_of(f))

