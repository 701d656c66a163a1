from django.urls import path

from . import form_views, views

app_name = "dossiers"

urlpatterns = [
    path("", views.dossier_list, name="list"),
    path("new/", views.dossier_create, name="create"),
    path("producers/new/", views.producer_create, name="producer-create"),
    path("products/new/", views.product_create, name="product-create"),
    path("producers/", views.producer_list, name="producer-list"),
    path("producers/<int:pk>/edit/", views.producer_edit, name="producer-edit"),
    path("producers/<int:pk>/delete/", views.producer_delete, name="producer-delete"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product-delete"),
    path("files/<int:pk>/", views.file_download, name="file-download"),
    path("<int:pk>/", views.dossier_detail, name="detail"),
    path("<int:pk>/registration/", views.registration_edit, name="registration"),
    path("<int:pk>/samples/", views.samples_update, name="samples"),
    path("<int:pk>/self-assessment/", views.self_assessment, name="self-assessment"),
    path("<int:pk>/self-assessment/<int:criterion_id>/", views.self_assessment_item,
         name="self-assessment-item"),
    path("<int:pk>/documents/<int:document_pk>/upload/", views.document_upload,
         name="upload"),
    path("<int:pk>/documents/upload/", views.checklist_upload, name="upload-all"),
    path("<int:pk>/documents/<int:document_pk>/review/", views.document_review,
         name="review"),
    path("<int:pk>/files/<int:file_pk>/remove/", views.file_remove, name="file-remove"),
    path("<int:pk>/return/", views.return_for_completion, name="return"),
    path("<int:pk>/pre-assessment/", views.pre_assessment, name="pre-assessment"),
    path("<int:pk>/pre-assessment.pdf", views.pre_assessment_pdf, name="pre-assessment-pdf"),
    path("<int:pk>/form-01.pdf", form_views.form_01_pdf, name="form-01-pdf"),
    path("<int:pk>/form-02.pdf", form_views.form_02_pdf, name="form-02-pdf"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/<slug:action>/", views.dossier_action, name="action"),
]
