"""Uploads: the type comes from the content, the stored name is random, the size is
limited, the scanner hook runs before storing, and a refused file leaves nothing behind."""

import hashlib
import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from dossiers import services, uploads
from dossiers.models import DocumentFile, DocumentState
from ocop.audit.models import AuditEvent
from tests.dossiers import (
    ELF_BYTES,
    EXE_BYTES,
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    SCRIPT_BYTES,
    complete_checklist,
    db_rows,
    docx_bytes,
    new_dossier,
    plain_zip_bytes,
    upload,
    xlsx_bytes,
)

# 148 district rounds: the tests run on a day 148 was in force (tests/conftest.py)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

SCANNED = []


def recording_scanner(file):
    """Scanner hook for the tests: records what it saw and whether anything was stored."""
    SCANNED.append({"head": file.read(5), "stored_rows": DocumentFile.objects.count(),
                    "stored_files": _stored_files()})


def refusing_scanner(file):
    raise ValidationError("Phát hiện mã độc Eicar-Test-Signature")


def broken_scanner(file):
    raise ConnectionError("clamd is not running")


_MEDIA = {}


def _stored_files():
    root = _MEDIA.get("root")
    return sorted(p.name for p in Path(root).rglob("*") if p.is_file()) if root else []


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    _MEDIA["root"] = tmp_path
    SCANNED.clear()
    yield tmp_path
    _MEDIA.clear()


ALLOWED = [
    ("nhan-san-pham.pdf", PDF_BYTES, ".pdf", "application/pdf"),
    ("anh.jpg", JPEG_BYTES, ".jpg", "image/jpeg"),
    ("anh.png", PNG_BYTES, ".png", "image/png"),
    ("cau-chuyen.docx", docx_bytes(), ".docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("danh-sach.xlsx", xlsx_bytes(), ".xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
]


@pytest.mark.parametrize(("name", "content", "extension", "content_type"), ALLOWED)
def test_upload_allowed_type_is_stored_under_a_random_name(setting, media, name, content,
                                                           extension, content_type):
    dossier, label = setting["dossier"], setting["label"]

    stored = services.upload_file(setting["officer"], dossier,
                                  upload(name, content, "application/octet-stream"),
                                  document=label)

    stored.refresh_from_db()
    assert stored.content_type == content_type
    assert re.fullmatch(r"[0-9a-f]{32}" + re.escape(extension), stored.stored_name)
    assert stored.file.name == f"dossiers/{dossier.pk}/{stored.stored_name}"
    assert (media / stored.file.name).read_bytes() == content
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.original_name == name
    assert stored.uploaded_by == setting["officer"]
    label.refresh_from_db()
    assert label.state == DocumentState.SUBMITTED
    assert AuditEvent.objects.filter(action="dossier.file_uploaded",
                                     object_id=str(stored.pk)).exists()


def test_upload_stored_name_is_not_derived_from_the_users_name(setting, media):
    name = "../../etc/Giấy phép kinh doanh\x00.pdf"

    stored = services.upload_file(setting["officer"], setting["dossier"], upload(name),
                                  document=setting["label"])

    assert stored.original_name == "Giấy phép kinh doanh.pdf"
    assert "giay" not in stored.file.name.lower() and "phep" not in stored.file.name.lower()
    assert ".." not in stored.file.name
    assert _stored_files() == [stored.stored_name]


def test_upload_type_comes_from_the_content_not_the_name(setting):
    stored = services.upload_file(setting["officer"], setting["dossier"],
                                  upload("anh-san-pham.png", PDF_BYTES, "image/png"),
                                  document=setting["label"])

    assert stored.content_type == "application/pdf"
    assert stored.stored_name.endswith(".pdf")
    assert stored.original_name == "anh-san-pham.png"


@pytest.mark.parametrize(("content", "code"), [
    (EXE_BYTES, "executable"),
    (ELF_BYTES, "executable"),
    (SCRIPT_BYTES, "executable"),
    (b"<html><script>alert(1)</script></html>", "type_not_allowed"),
    (plain_zip_bytes(), "type_not_allowed"),
    (docx_bytes(extra_members=["word/vbaProject.bin"]), "type_not_allowed"),
    (b"PK\x03\x04 not really a zip", "type_not_allowed"),
])
def test_upload_refuses_a_disguised_file_named_pdf(setting, content, code):
    dossier, label = setting["dossier"], setting["label"]
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], dossier, upload("giay-phep.pdf", content),
                             document=label)

    assert refused.value.code == code
    assert "giay-phep.pdf" in refused.value.message
    assert refused.value.fields["file"] == [refused.value.message]
    assert db_rows(dossier) == before
    assert _stored_files() == []


def test_upload_refuses_a_renamed_executable_with_a_message_naming_the_file(setting):
    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], setting["dossier"],
                             upload("giay-phep.pdf", EXE_BYTES), document=setting["label"])

    message = refused.value.message
    assert "“giay-phep.pdf”" in message
    assert "PDF, JPEG, PNG, DOCX" in message
    assert not DocumentFile.objects.exists()


def test_upload_refuses_a_file_over_the_size_limit(setting, settings):
    settings.OCOP_UPLOAD_MAX_BYTES = 64
    before = db_rows(setting["dossier"])

    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], setting["dossier"],
                             upload("bao-cao-tai-chinh.pdf", PDF_BYTES + b" " * 64),
                             document=setting["label"])

    assert refused.value.code == "too_large"
    assert "bao-cao-tai-chinh.pdf" in refused.value.message
    assert db_rows(setting["dossier"]) == before
    assert _stored_files() == []


def test_upload_at_the_size_limit_is_accepted(setting, settings):
    settings.OCOP_UPLOAD_MAX_BYTES = len(PDF_BYTES)

    stored = services.upload_file(setting["officer"], setting["dossier"], upload(),
                                  document=setting["label"])

    assert stored.size == len(PDF_BYTES)


def test_upload_refuses_an_empty_file(setting):
    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], setting["dossier"], upload("rong.pdf", b""))

    assert refused.value.code == "empty"


def test_upload_scanner_hook_runs_before_storing(setting, settings):
    settings.OCOP_UPLOAD_SCANNER = "tests.dossiers.test_uploads.recording_scanner"

    stored = services.upload_file(setting["officer"], setting["dossier"], upload(),
                                  document=setting["label"])

    assert SCANNED == [{"head": b"%PDF-", "stored_rows": 0, "stored_files": []}]
    assert DocumentFile.objects.get() == stored


@pytest.mark.parametrize(("scanner", "code", "words"), [
    ("refusing_scanner", "infected", "Eicar-Test-Signature"),
    ("broken_scanner", "scan_failed", "giay-dang-ky.pdf"),
])
def test_upload_scanner_hook_can_refuse(setting, settings, scanner, code, words):
    settings.OCOP_UPLOAD_SCANNER = f"tests.dossiers.test_uploads.{scanner}"
    before = db_rows(setting["dossier"])

    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], setting["dossier"],
                             upload("giay-dang-ky.pdf"), document=setting["label"])

    assert refused.value.code == code
    assert words in refused.value.message
    assert db_rows(setting["dossier"]) == before
    assert _stored_files() == []


def test_upload_without_a_line_is_evidence_and_changes_no_line(setting):
    before = list(setting["dossier"].documents.values_list("state", flat=True))

    stored = services.upload_file(setting["officer"], setting["dossier"], upload())

    assert stored.document is None
    assert list(setting["dossier"].documents.values_list("state", flat=True)) == before


def test_upload_to_a_line_of_another_dossier_is_refused(setting, cantho):
    other = new_dossier(setting["officer"], setting["round"], cantho["ninhkieu"])
    foreign_line = other.documents.first()
    before = db_rows(other)

    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], setting["dossier"], upload(),
                             document=foreign_line)

    assert "document" in refused.value.fields
    assert db_rows(other) == before


def test_upload_refused_once_the_dossier_is_submitted(setting):
    complete_checklist(setting["officer"], setting["dossier"])
    dossier = services.submit(setting["officer"], setting["dossier"])
    files_before = _stored_files()

    with pytest.raises(services.DossierError) as refused:
        services.upload_file(setting["officer"], dossier, upload(), document=setting["label"])

    assert refused.value.code == "state"
    assert _stored_files() == files_before


def test_remove_file_deletes_it_and_the_line_goes_back_to_missing(
        setting, media, django_capture_on_commit_callbacks):
    stored = services.upload_file(setting["officer"], setting["dossier"], upload(),
                                  document=setting["label"])
    path = media / stored.file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.remove_file(setting["officer"], stored)

    assert not DocumentFile.objects.filter(pk=stored.pk).exists()
    assert not path.exists()
    setting["label"].refresh_from_db()
    assert setting["label"].state == DocumentState.MISSING
    assert AuditEvent.objects.filter(action="dossier.file_removed",
                                     object_id=str(stored.pk)).exists()


# --- the pure checks --------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    (PDF_BYTES, uploads.PDF), (JPEG_BYTES, uploads.JPEG), (PNG_BYTES, uploads.PNG),
    (docx_bytes(), uploads.DOCX), (xlsx_bytes(), uploads.XLSX),
    (EXE_BYTES, None), (b"GIF89a", None), (plain_zip_bytes(), None), (b"", None),
])
def test_detect_type_reads_the_content(content, expected):
    assert uploads.detect_type(io.BytesIO(content)) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("C:\\Users\\mai\\Nhãn sản phẩm.pdf", "Nhãn sản phẩm.pdf"),
    ("  ..hidden.pdf ", "hidden.pdf"),
    ("a\r\nb.pdf", "ab.pdf"),
    ("", "tep-tin"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_sanitise_name_keeps_a_displayable_name(name, expected):
    assert uploads.sanitise_name(name) == expected
