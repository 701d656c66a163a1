"""Builders shared by the dossier tests (plain functions; fixtures live in each module)."""

import io
import itertools
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

_seq = itertools.count(1)


def pdf_bytes(*objects):
    """A small but complete PDF (cross-reference table and all) that a PDF reader opens;
    by default one empty A4 page."""
    objects = objects or (
        b"<</Type /Catalog /Pages 2 0 R>>",
        b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
        b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>",
    )
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def image_bytes(fmt, size=(2, 2)):
    """A real (decodable) image written by Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


PDF_BYTES = pdf_bytes()
JPEG_BYTES = image_bytes("JPEG")
PNG_BYTES = image_bytes("PNG")

EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
SCRIPT_BYTES = b"#!/bin/sh\nrm -rf /\n"


def docx_bytes(extra_members=()):
    """A minimal Word document: a ZIP with the members Word itself writes first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml",
                         '<?xml version="1.0"?><w:document xmlns:w="http://schemas.'
                         'openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>')
        for name in extra_members:
            archive.writestr(name, b"\x00")
    return buffer.getvalue()


def xlsx_bytes():
    """A real spreadsheet written by openpyxl."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Danh sách lao động"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def plain_zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "không phải tài liệu Office")
    return buffer.getvalue()


def upload(name="giay-to.pdf", content=PDF_BYTES, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def current_communes(cantho):
    from ocop.regions.models import AdministrativeUnit, Level

    return AdministrativeUnit.objects.current().filter(
        level=Level.COMMUNE, province=cantho["province"]).order_by("code")


def producer_data(unit, **extra):
    n = next(_seq)
    data = {
        "type": "cooperative", "name": f"Hợp tác xã Bưởi Năm Roi {n}",
        "registration_no": f"19{n:08d}", "representative_name": "Trần Văn Đức",
        "representative_gender": "male", "address": "Ấp Mỹ Khánh", "unit": unit,
    }
    data.update(extra)
    return data


def new_dossier(user, round_, unit, *, set_no=None, product_name=None, **extra):
    """Producer + product + draft dossier, all through the services."""
    from dossiers import services
    from tests import factories

    regime = round_.regime.criteria_regime
    set_no = set_no or (1 if regime.slug == "26/2026" else 9)
    producer = services.create_producer(user, data=producer_data(unit))
    product = services.create_product(
        user, producer=producer, name=product_name or f"Nước mắm {next(_seq)}",
        criteria_set=factories.criteria_set(regime.slug, set_no))
    return services.create_dossier(user, round=round_, product=product, **extra)


def complete_checklist(user, dossier, *, only=None):
    """Upload a PDF to every required line (or the lines with codes in ``only``) and record
    the 5 samples."""
    from dossiers import services
    from dossiers.checklists import SAMPLES_CODE

    for line in dossier.documents.select_related("item").order_by("item__order"):
        if only is not None and line.item.code not in only:
            continue
        if line.item.code == SAMPLES_CODE:
            services.update_dossier(user, dossier, samples_count=5,
                                    samples_received_on=timezone.localdate())
        elif line.item.required or only is not None:
            services.upload_file(user, dossier, upload(f"{line.item.code}.pdf"), document=line)


def db_rows(dossier):
    """Every row a dossier action could change, to compare before/after a refusal."""
    from dossiers.models import (
        DocumentFile,
        Dossier,
        DossierDocument,
        PreAssessment,
        Product,
        SelfAssessmentEntry,
        Transition,
    )
    from ocop.audit.models import AuditEvent

    return {
        "dossier": list(Dossier.objects.filter(pk=dossier.pk).values()),
        "documents": list(DossierDocument.objects.filter(dossier=dossier).order_by("pk")
                          .values()),
        "files": list(DocumentFile.objects.filter(dossier=dossier).order_by("pk").values()),
        "self_assessment": list(SelfAssessmentEntry.objects.filter(dossier=dossier).values()),
        "transitions": list(Transition.objects.filter(dossier=dossier).order_by("pk")
                            .values()),
        "pre_assessment": list(PreAssessment.objects.filter(dossier=dossier).values()),
        "product": list(Product.objects.filter(pk=dossier.product_id).values()),
        "audit_events": AuditEvent.objects.count(),
    }


def timeline(dossier):
    return list(dossier.transitions.order_by("at", "id").values_list("from_state", "to_state"))
