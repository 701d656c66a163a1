"""Hostile uploads (issue 10): zip bombs and zips of many entries, files that only start like a
PDF or a PNG, names that hide ``.exe`` behind NUL or right-to-left marks, bodies larger than
the limit (not read in full), size messages that round to the same number, names too long
for the multipart parser, and an upload form that says what it accepts."""

import io
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import FakePayload
from django.utils import translation

from dossiers import services, uploads
from dossiers.models import DocumentFile, DocumentState
from tests.dossiers import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    db_rows,
    docx_bytes,
    pdf_bytes,
    upload,
)

# 148 district rounds: the tests run on a day 148 was in force (tests/conftest.py)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root):
    return sorted(p.name for p in Path(root).rglob("*") if p.is_file())


def refused(setting, name, content):
    """Upload through the service; return the refusal (the test fails if it is stored)."""
    with pytest.raises(services.DossierError) as error:
        services.upload_file(setting["officer"], setting["dossier"], upload(name, content),
                             document=setting["label"])
    return error.value


# --- building hostile zips without writing gigabytes ---------------------------------------


def raw_zip(entries):
    """A ZIP written by hand from ``(name, method, crc, data, uncompressed size)``: the data
    is stored as given, so a central directory can declare what a real compressor would
    write for gigabytes of input without the test producing them."""
    body, directory = bytearray(), bytearray()
    for name, method, crc, data, size in entries:
        name = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data),
                            size, len(name), 0) + name + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc,
                                 len(data), size, len(name), 0, 0, 0, 0, 0, offset) + name
    count = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF),
                      min(count, 0xFFFF), len(directory), len(body), 0)
    return bytes(body + directory + end)


def zeros_deflated(mib):
    """A raw deflate stream that inflates to ``mib`` MiB of zeros: one compressed MiB,
    flushed to a byte boundary with a dictionary reset, repeated (~1 KB per MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * mib + compressor.flush(zlib.Z_FINISH)


OOXML_HEAD = [
    ("[Content_Types].xml", 0, zlib.crc32(b"<Types/>"), b"<Types/>", 8),
    ("_rels/.rels", 0, zlib.crc32(b"<Relationships/>"), b"<Relationships/>", 16),
]


def docx_bomb(mib):
    return raw_zip([*OOXML_HEAD,
                    ("word/document.xml", 8, 0, zeros_deflated(mib), mib * MiB)])


def test_zeros_deflated_is_a_real_stream_that_inflates_as_declared():
    data = zeros_deflated(3)

    assert zlib.decompress(data, -15) == bytes(3 * MiB)
    assert len(data) < 10_000


def test_upload_refuses_a_docx_that_inflates_to_2_gib_quickly(setting, media):
    bomb = docx_bomb(2048)
    assert 1.5 * MiB < len(bomb) < 3 * MiB
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml").file_size == 2**31
    before = db_rows(setting["dossier"])

    started = time.monotonic()
    error = refused(setting, "bao-cao.docx", bomb)

    assert time.monotonic() - started < 1
    assert error.code == "zip_bomb"
    assert "bao-cao.docx" in error.message
    assert db_rows(setting["dossier"]) == before
    assert stored_files(media) == []


def test_upload_refuses_a_docx_whose_total_inflated_size_passes_the_limit(setting, settings):
    settings.OCOP_UPLOAD_ZIP_MAX_INFLATED_BYTES = 4 * MiB
    settings.OCOP_UPLOAD_ZIP_MAX_RATIO = 10_000   # each part alone looks harmless
    parts = [(f"word/media/image{i}.bin", 8, 0, zeros_deflated(1), MiB) for i in range(5)]
    content = raw_zip([*OOXML_HEAD, ("word/document.xml", 0, 0, b"<w/>", 4), *parts])

    error = refused(setting, "ho-so.docx", content)

    assert error.code == "zip_bomb"
    assert "ho-so.docx" in error.message
    assert not DocumentFile.objects.exists()


def test_upload_refuses_a_docx_with_200000_entries_quickly(setting):
    entries = [(f"word/p{i}.xml", 0, 0, b"", 0) for i in range(200_000)]
    content = raw_zip([*OOXML_HEAD, ("word/document.xml", 0, 0, b"<w/>", 4), *entries])

    started = time.monotonic()
    error = refused(setting, "nhieu-phan.docx", content)

    assert time.monotonic() - started < 1
    assert error.code == "zip_too_many_entries"
    assert "nhieu-phan.docx" in error.message
    assert not DocumentFile.objects.exists()


def test_upload_entry_count_limit_is_a_setting(setting, settings):
    settings.OCOP_UPLOAD_ZIP_MAX_ENTRIES = 3
    content = docx_bytes(extra_members=["word/styles.xml"])   # 4 entries

    error = refused(setting, "cau-chuyen.docx", content)

    assert error.code == "zip_too_many_entries"


def test_upload_an_ordinary_docx_is_still_accepted(setting):
    stored = services.upload_file(setting["officer"], setting["dossier"],
                                  upload("cau-chuyen.docx", docx_bytes()),
                                  document=setting["label"])

    assert stored.stored_name.endswith(".docx")


# --- the content must open as what it claims to be -----------------------------------------


@pytest.mark.parametrize(("name", "content"), [
    ("hoa-don.pdf", b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script>"
                    b"</body></html>\n"),
    ("hoa-don.pdf", b"%PDF-1.7\n" + b"A" * 4000),
    ("trang-trong.pdf", pdf_bytes(b"<</Type /Catalog /Pages 2 0 R>>",
                                  b"<</Type /Pages /Kids [] /Count 0>>")),
])
def test_upload_refuses_a_pdf_that_does_not_open_as_a_pdf(setting, media, name, content):
    before = db_rows(setting["dossier"])

    error = refused(setting, name, content)

    assert error.code == "unreadable"
    assert name in error.message
    assert db_rows(setting["dossier"]) == before
    assert stored_files(media) == []


@pytest.mark.parametrize(("name", "content"), [
    ("logo.png", b"\x89PNG\r\n\x1a\n<svg xmlns='http://www.w3.org/2000/svg' "
                 b"onload='alert(1)'/>"),
    ("logo.png", PNG_BYTES[:40]),                   # truncated: no image data
    ("anh.jpg", b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"),
    ("anh.jpg", JPEG_BYTES[:len(JPEG_BYTES) // 2]),
])
def test_upload_refuses_an_image_that_does_not_decode(setting, media, name, content):
    error = refused(setting, name, content)

    assert error.code == "unreadable"
    assert name in error.message
    assert not DocumentFile.objects.exists()
    assert stored_files(media) == []


def test_upload_refuses_a_password_protected_pdf_with_its_own_message(setting):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF_BYTES)))
    writer.encrypt(user_password="mat-khau", owner_password="chu")
    buffer = io.BytesIO()
    writer.write(buffer)

    error = refused(setting, "bao-mat.pdf", buffer.getvalue())

    assert error.code == "encrypted"
    assert "bao-mat.pdf" in error.message
    assert not DocumentFile.objects.exists()


def test_upload_refuses_an_image_over_the_pixel_limit(setting, settings):
    settings.OCOP_UPLOAD_MAX_IMAGE_PIXELS = 3   # the test image has 2 × 2

    error = refused(setting, "anh-lon.png", PNG_BYTES)

    assert error.code == "image_too_large"
    assert "anh-lon.png" in error.message and "2 × 2" in error.message


@pytest.mark.parametrize(("content", "content_type"), [
    (PDF_BYTES, "application/pdf"), (PNG_BYTES, "image/png"), (JPEG_BYTES, "image/jpeg"),
])
def test_upload_real_pdf_and_images_are_accepted(setting, content, content_type):
    stored = services.upload_file(setting["officer"], setting["dossier"],
                                  upload("tep", content), document=setting["label"])

    assert stored.content_type == content_type


# --- download names --------------------------------------------------------------------------


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def download_name(response):
    disposition = response["Content-Disposition"]
    match = re.search(r"filename\*=utf-8''([^;]+)", disposition)
    if match:
        from urllib.parse import unquote
        return unquote(match.group(1))
    return re.search(r'filename="([^"]+)"', disposition).group(1)


@pytest.mark.parametrize(("name", "expected"), [
    ("a\x00.pdf.exe", "a.pdf.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.pdf"),
    ("Hóa đơn\u200f\u2066.exe\u2069", "Hóa đơn.pdf"),
    ("giay-phep.PDF", "giay-phep.PDF"),
    ("giay-phep", "giay-phep.pdf"),
])
def test_download_name_follows_the_detected_type(setting, client, name, expected):
    stored = services.upload_file(setting["officer"], setting["dossier"], upload(name),
                                  document=setting["label"])

    response = login(client, setting["officer"]).get(f"/dossiers/files/{stored.pk}/")

    assert response.status_code == 200
    assert download_name(response) == expected
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert not re.search(r"[\x00-\x1f\u200e\u200f\u202a-\u202e\u2066-\u2069]",
                         stored.original_name)


def test_download_of_an_old_row_with_a_bidi_name_is_cleaned(setting, client):
    stored = services.upload_file(setting["officer"], setting["dossier"], upload(),
                                  document=setting["label"])
    DocumentFile.objects.filter(pk=stored.pk).update(original_name="invoice\u202efdp.exe")

    response = login(client, setting["officer"]).get(f"/dossiers/files/{stored.pk}/")

    assert download_name(response) == "invoicefdp.pdf"
    assert response["Content-Type"] == "application/pdf"


def test_sanitise_name_strips_bidi_and_format_characters():
    assert uploads.sanitise_name("a\u202eb\u200bc\ufeff.pdf") == "abc.pdf"


# --- size: the body is not read past the limit; the message shows two different sizes ----


def upload_url(setting):
    return f"/dossiers/{setting['dossier'].pk}/documents/{setting['label'].pk}/upload/"


@pytest.fixture
def bytes_read(monkeypatch):
    """How many bytes of the request body the server read."""
    counter = {"read": 0}
    original = FakePayload.read

    def read(self, *args, **kwargs):
        data = original(self, *args, **kwargs)
        counter["read"] += len(data)
        return data

    monkeypatch.setattr(FakePayload, "read", read)
    return counter


def test_upload_page_stops_reading_a_too_large_body_and_says_why(setting, client, settings,
                                                                 media, bytes_read):
    settings.OCOP_UPLOAD_MAX_BYTES = MiB
    body = PDF_BYTES + b"0" * (20 * MiB)
    before = db_rows(setting["dossier"])
    field = f"doc{setting['label'].pk}-file"

    response = login(client, setting["officer"]).post(
        upload_url(setting), {field: SimpleUploadedFile("bao-cao.pdf", body)},
        HTTP_ACCEPT_LANGUAGE="vi")

    html = response.content.decode()
    assert response.status_code == 200
    assert bytes_read["read"] < 2 * MiB
    with translation.override("vi"):
        expected = uploads.too_large(
            "bao-cao.pdf", int(response.wsgi_request.META["CONTENT_LENGTH"]),
            approximate=True).message
    assert "bao-cao.pdf" in expected
    assert expected in html.replace("&quot;", '"')
    assert db_rows(setting["dossier"]) == before
    assert stored_files(media) == []


def test_upload_api_stops_reading_a_too_large_body(setting, settings, bytes_read):
    from rest_framework.test import APIClient

    settings.OCOP_UPLOAD_MAX_BYTES = MiB
    api = APIClient()
    api.force_authenticate(setting["officer"])
    url = (f"/api/v1/dossiers/{setting['dossier'].pk}/documents/{setting['label'].pk}"
           f"/files/")

    response = api.post(url, {"file": SimpleUploadedFile("bao-cao.pdf",
                                                         PDF_BYTES + b"0" * (20 * MiB))},
                        format="multipart")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "bao-cao.pdf" in error["message"]
    assert error["fields"] == {"file": [error["message"]]}
    assert bytes_read["read"] < 2 * MiB
    assert not DocumentFile.objects.exists()


def test_self_assessment_with_a_too_large_evidence_saves_nothing_and_says_why(
        setting, client, settings, bytes_read):
    from dossiers.models import SelfAssessmentEntry
    from scoring.models import Criterion

    settings.OCOP_UPLOAD_MAX_BYTES = MiB
    dossier = setting["dossier"]
    first, second = Criterion.objects.filter(criteria_set=dossier.criteria_set).order_by(
        "order")[:2]
    url = f"/dossiers/{dossier.pk}/self-assessment/"

    response = login(client, setting["officer"]).post(url, {
        f"c{first.pk}": first.options.first().pk,
        f"evidence{first.pk}": SimpleUploadedFile("video.pdf", PDF_BYTES + bytes(20 * MiB)),
        f"c{second.pk}": second.options.first().pk,
    }, HTTP_ACCEPT_LANGUAGE="vi", follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(url, 302)]
    assert bytes_read["read"] < 2 * MiB
    assert "video.pdf" in html
    assert not SelfAssessmentEntry.objects.filter(dossier=dossier).exists()
    assert not DocumentFile.objects.exists()


def test_upload_just_at_the_limit_passes_the_handler(setting, client, settings):
    content = PDF_BYTES + b"\n" * (4096 - len(PDF_BYTES))
    settings.OCOP_UPLOAD_MAX_BYTES = len(content)
    field = f"doc{setting['label'].pk}-file"

    response = login(client, setting["officer"]).post(
        upload_url(setting), {field: SimpleUploadedFile("vua-du.pdf", content)})

    assert response.status_code == 302
    assert DocumentFile.objects.get().size == len(content)


@pytest.mark.parametrize("over", [1024, 1])
def test_size_refusal_shows_two_visibly_different_sizes(setting, settings, over):
    limit = 50 * MiB
    settings.OCOP_UPLOAD_MAX_BYTES = limit

    with translation.override("vi"):
        error = refused(setting, "video.pdf", PDF_BYTES + b"0" * (limit + over - len(PDF_BYTES)))

    assert error.code == "too_large"
    size, shown_limit = uploads.format_sizes(limit + over, limit)
    assert size != shown_limit
    assert size in error.message and shown_limit in error.message
    with translation.override("vi"):
        assert uploads.format_sizes(limit + over, limit) == (
            ("51.201 KB", "51.200 KB") if over == 1024 else ("52.428.801 byte", "52.428.800 byte"))


def test_format_sizes_keeps_the_short_form_when_it_differs():
    with translation.override("en"):
        assert uploads.format_sizes(60 * MiB, 50 * MiB) == ("60.0\xa0MB", "50.0\xa0MB")


# --- very long names -------------------------------------------------------------------------


def test_upload_with_a_1000_character_vietnamese_name_is_stored_with_a_shortened_name(
        setting, client, media):
    name = ("Giấy chứng nhận đăng ký hộ kinh doanh Bưởi Năm Roi " * 20)[:996] + ".pdf"
    assert len(name) == 1000
    field = f"doc{setting['label'].pk}-file"

    # Built by hand: Django's own UploadedFile (and so its test client) cuts names at 255
    # characters, a browser sends the name as it is.
    boundary = "----ocop-long-name"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    body += PDF_BYTES + f"\r\n--{boundary}--\r\n".encode()
    assert len(name.encode()) > 1024   # more than Django's limit for a part's headers

    response = login(client, setting["officer"]).generic(
        "POST", upload_url(setting), body,
        content_type=f"multipart/form-data; boundary={boundary}", HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 302, response.content[:300]
    stored = DocumentFile.objects.get()
    assert len(stored.original_name) <= 255
    assert stored.original_name.startswith("Giấy chứng nhận đăng ký")
    assert stored.original_name.endswith(".pdf")
    assert stored_files(media) == [stored.stored_name]
    setting["label"].refresh_from_db()
    assert setting["label"].state == DocumentState.SUBMITTED


# --- the form says what it accepts ---------------------------------------------------------


def test_upload_form_says_the_size_limit_and_the_accepted_types(setting, client, settings):
    settings.OCOP_UPLOAD_MAX_BYTES = 50 * MiB

    with translation.override("en"):
        response = login(client, setting["officer"]).get(
            f"/dossiers/{setting['dossier'].pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()

    start = html.index(f'id="doc-{setting["label"].pk}"')
    row = html[start:html.index("</form>", html.index('class="upload"', start))]
    assert "PDF, JPEG, PNG, DOCX, XLSX" in row
    assert "50" in row and "MB" in row
    assert 'accept=".pdf,.jpg,.jpeg,.png,.docx,.xlsx"' in row
    assert 'aria-describedby="' in row
