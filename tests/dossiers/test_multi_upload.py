"""Filing with few clicks (docs/documents.md): several files per checklist line, the whole
checklist in one post, one bad file among good ones, the count limit, who may post, and
the Mẫu 01/02 lines satisfied by the forms filled in online."""

import pytest

from dossiers import services
from dossiers.models import DocumentFile, DocumentState, DossierState
from scoring.models import Criterion
from tests.dossiers import test_views
from tests.dossiers.test_views import (
    EXE,
    client_for,
    documents,
    ninhkieu_dossier,
    pdf,
    phongdien_dossier,
    post,
    row,
    vi,
)

# the fixtures of the dossier pages' tests: owner, outsider, department staff; media in tmp
area = test_views.area
media_root = test_views.media_root

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]


def by_code(dossier):
    return {d.item.code: d for d in documents(dossier)}


def line_url(dossier, line):
    return f"/dossiers/{dossier.pk}/documents/{line.pk}/upload/"


def all_url(dossier):
    return f"/dossiers/{dossier.pk}/documents/upload/"


def names(line):
    return sorted(line.files.values_list("original_name", flat=True))


def test_several_files_to_one_line_are_all_stored(client, area):
    dossier = ninhkieu_dossier(area)
    line = by_code(dossier)["label"]

    response, _html = post(client_for(client, area["officer"]), line_url(dossier, line),
                           {f"doc{line.pk}-file": [pdf("nhan-truoc.pdf"), pdf("nhan-sau.pdf")]})

    assert response.status_code == 302
    assert response["Location"] == f"/dossiers/{dossier.pk}/#doc-{line.pk}"
    assert names(line) == ["nhan-sau.pdf", "nhan-truoc.pdf"]
    line.refresh_from_db()
    assert line.state == DocumentState.SUBMITTED


def test_files_to_several_lines_in_one_post_each_go_to_their_line(client, area):
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)
    c = client_for(client, area["officer"])

    response = c.post(all_url(dossier), {
        f"doc{lines['label'].pk}-file": [pdf("nhan.pdf"), pdf("nhan-2.pdf")],
        f"doc{lines['test_report'].pk}-file": pdf("kiem-nghiem.pdf"),
        f"doc{lines['photos'].pk}-file": pdf("anh.pdf"),
    }, HTTP_ACCEPT_LANGUAGE="vi", follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(f"/dossiers/{dossier.pk}/#checklist", 302)]
    assert names(lines["label"]) == ["nhan-2.pdf", "nhan.pdf"]
    assert names(lines["test_report"]) == ["kiem-nghiem.pdf"]
    assert names(lines["photos"]) == ["anh.pdf"]
    assert DocumentFile.objects.filter(dossier=dossier).count() == 4
    assert "kiem-nghiem.pdf" in row(html, lines["test_report"].pk)


def test_one_bad_file_among_good_ones_the_good_are_stored_the_bad_reported(client, area):
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)

    response, html = post(client_for(client, area["officer"]), all_url(dossier), {
        f"doc{lines['label'].pk}-file": [pdf("nhan.pdf"), pdf("setup.pdf", EXE)],
        f"doc{lines['test_report'].pk}-file": pdf("kiem-nghiem.pdf"),
    })

    assert response.status_code == 200
    assert names(lines["label"]) == ["nhan.pdf"]
    assert names(lines["test_report"]) == ["kiem-nghiem.pdf"]
    label_row = row(html, lines["label"].pk)
    refusal = vi("The file “%(name)s” is a program or a script, not a document, and was "
                 "refused. Only PDF, JPEG, PNG, DOCX and XLSX files are accepted.",
                 name="setup.pdf")
    assert refusal in label_row.replace("&quot;", '"')
    assert 'class="field-error"' in label_row
    assert vi("“%(name)s” was attached.", name="nhan.pdf") in label_row
    assert vi("%(count)s file was not attached; the reason is shown on its line.",
              count=1) in html


def test_one_bad_file_through_htmx_answers_the_line_with_both_results(client, area):
    dossier = ninhkieu_dossier(area)
    line = by_code(dossier)["label"]

    _r, html = post(client_for(client, area["officer"]), line_url(dossier, line),
                    {f"doc{line.pk}-file": [pdf("nhan.pdf"), pdf("setup.pdf", EXE)]},
                    HTTP_HX_REQUEST="true")

    assert html.lstrip().startswith(f'<li class="doc doc-state-submitted" id="doc-{line.pk}"')
    assert "setup.pdf" in html and 'class="field-error"' in html
    assert vi("“%(name)s” was attached.", name="nhan.pdf") in html
    assert names(line) == ["nhan.pdf"]


def test_whole_checklist_through_htmx_answers_the_checklist_section(client, area):
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)

    _r, html = post(client_for(client, area["officer"]), all_url(dossier), {
        f"doc{lines['label'].pk}-file": pdf("nhan.pdf"),
        f"doc{lines['photos'].pk}-file": pdf("setup.pdf", EXE),
    }, HTTP_HX_REQUEST="true")

    assert html.lstrip().startswith('<section class="panel" id="checklist">')
    assert "<html" not in html
    assert "setup.pdf" in row(html, lines["photos"].pk)
    assert "nhan.pdf" in row(html, lines["label"].pk)


def test_more_files_than_the_limit_refuses_the_post_and_stores_nothing(client, area,
                                                                      settings):
    settings.OCOP_UPLOAD_MAX_FILES = 3
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)

    response, html = post(client_for(client, area["officer"]), all_url(dossier), {
        f"doc{lines['label'].pk}-file": [pdf("1.pdf"), pdf("2.pdf")],
        f"doc{lines['photos'].pk}-file": [pdf("3.pdf"), pdf("4.pdf")],
    })

    assert response.status_code == 400
    assert vi("%(count)s files were sent at once; at most %(max)s files can be uploaded in "
              "one go. Nothing was attached: send them in smaller groups.",
              count=4, max=3) in html
    assert not DocumentFile.objects.filter(dossier=dossier).exists()


def test_more_files_than_the_limit_on_one_line_is_refused_too(client, area, settings):
    settings.OCOP_UPLOAD_MAX_FILES = 1
    dossier = ninhkieu_dossier(area)
    line = by_code(dossier)["label"]

    _r, html = post(client_for(client, area["officer"]), line_url(dossier, line),
                    {f"doc{line.pk}-file": [pdf("1.pdf"), pdf("2.pdf")]})

    assert vi("%(count)s files were sent at once; at most %(max)s files can be uploaded in "
              "one go. Nothing was attached: send them in smaller groups.",
              count=2, max=1) in row(html, line.pk)
    assert not line.files.exists()


def test_no_file_and_a_foreign_line_are_refused_with_a_message(client, area):
    dossier = ninhkieu_dossier(area)
    other = ninhkieu_dossier(area, name="Bánh pía", producer_name="Cơ sở Bánh pía")
    foreign = by_code(other)["label"]
    c = client_for(client, area["officer"])

    empty, empty_html = post(c, all_url(dossier), {})
    crafted, crafted_html = post(c, all_url(dossier), {f"doc{foreign.pk}-file": pdf()})

    assert empty.status_code == 400
    assert vi("Choose at least one file on a checklist line.") in empty_html
    assert crafted.status_code == 400
    assert vi("Files were sent for a checklist line that is not one of this dossier; "
              "nothing was attached.") in crafted_html
    assert not DocumentFile.objects.exists()


def test_colleague_of_the_area_uploads_the_outsider_gets_404(client, area):
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)
    mine = phongdien_dossier(area)   # the outsider's own data exists
    def data():
        return {f"doc{lines['label'].pk}-file": pdf("nhan.pdf")}

    outsider, _h = post(client_for(client, area["outsider"]), all_url(dossier), data())
    outsider_line, _h = post(client, line_url(dossier, lines["label"]), data())
    assert outsider.status_code == 404 and outsider_line.status_code == 404
    assert not DocumentFile.objects.exists()
    assert not DocumentFile.objects.filter(dossier=mine).exists()

    colleague, _h = post(client_for(client, area["staff"]), all_url(dossier), data())
    assert colleague.status_code == 302
    assert names(lines["label"]) == ["nhan.pdf"]


def test_owner_page_offers_multiple_inputs_and_the_upload_all_form(client, area):
    dossier = ninhkieu_dossier(area)
    line = by_code(dossier)["label"]

    response = client_for(client, area["officer"]).get(f"/dossiers/{dossier.pk}/")

    html = response.content.decode()
    assert f'name="doc{line.pk}-file"' in row(html, line.pk)
    assert "multiple" in row(html, line.pk)
    assert f'action="{all_url(dossier)}"' in html
    assert "js/uploads.js" in html


def test_refused_once_submitted(client, area):
    dossier = ninhkieu_dossier(area)
    lines = by_code(dossier)
    dossier.state = DossierState.SUBMITTED
    dossier.save(update_fields=["state"])

    response, _html = post(client_for(client, area["officer"]), all_url(dossier),
                           {f"doc{lines['label'].pk}-file": pdf()})

    assert response.status_code == 200
    assert not DocumentFile.objects.exists()


# --- Mẫu 01 and Mẫu 02 given online --------------------------------------------------------


def complete_online(officer, dossier):
    services.update_dossier(officer, dossier, registration={
        "production_address": "Ấp Mỹ Ái, xã Mỹ Khánh"})
    for criterion in Criterion.objects.filter(criteria_set=dossier.criteria_set):
        services.set_self_assessment(officer, dossier, criterion=criterion,
                                     option=criterion.options.first())


def test_form_lines_are_missing_until_the_online_forms_are_complete(area):
    dossier = ninhkieu_dossier(area)
    codes = {line.item.code for line in services.missing_documents(dossier)}
    assert {"form_01", "form_02"} <= codes

    dossier = services.update_dossier(area["officer"], dossier, registration={
        "production_address": "Ấp Mỹ Ái"})
    codes = {line.item.code for line in services.missing_documents(dossier)}
    assert "form_01" not in codes and "form_02" in codes

    first = Criterion.objects.filter(criteria_set=dossier.criteria_set).first()
    services.set_self_assessment(area["officer"], dossier, criterion=first,
                                 option=first.options.first())
    assert "form_02" in {line.item.code for line in services.missing_documents(dossier)}


def test_submit_needs_no_form_01_02_file_once_both_are_filled_in_online(area):
    from tests.dossiers import complete_checklist

    dossier = ninhkieu_dossier(area)
    others = [line.item.code for line in documents(dossier)
              if line.item.code not in ("form_01", "form_02")]
    complete_checklist(area["officer"], dossier, only=others)
    with pytest.raises(services.DossierError) as refused:
        services.submit(area["officer"], dossier)
    assert "Mẫu 01" in refused.value.message and "Mẫu 02" in refused.value.message

    complete_online(area["officer"], dossier)
    submitted = services.submit(area["officer"], dossier)

    assert submitted.state == DossierState.SUBMITTED
    # the copies generated from the online data are kept on their lines (docs/documents.md)
    assert sorted(DocumentFile.objects.filter(
        document__item__code__in=["form_01", "form_02"]).values_list(
        "original_name", flat=True)) == [f"mau-01-phieu-dang-ky-ho-so-{dossier.pk}.pdf",
                                         f"mau-02-tu-danh-gia-ho-so-{dossier.pk}.pdf"]


def test_page_shows_the_form_lines_filled_in_online(client, area):
    dossier = ninhkieu_dossier(area)
    complete_online(area["officer"], dossier)
    lines = by_code(dossier)

    response = client_for(client, area["officer"]).get(f"/dossiers/{dossier.pk}/",
                                                        HTTP_ACCEPT_LANGUAGE="vi")

    html = response.content.decode()
    assert vi("Filled in online") in row(html, lines["form_01"].pk)
    assert vi("Filled in online") in row(html, lines["form_02"].pk)
    assert vi("Filled in online") not in row(html, lines["label"].pk)


def test_a_rejected_form_line_needs_a_file_again(area):
    dossier = ninhkieu_dossier(area)
    complete_online(area["officer"], dossier)
    line = by_code(dossier)["form_01"]
    line.state = DocumentState.REJECTED
    line.reason = "Thiếu chữ ký"
    line.save(update_fields=["state", "reason"])

    assert [d.item.code for d in services.missing_documents(dossier)
            if d.item.code.startswith("form_")] == ["form_01"]
