from django.urls import path

from . import inspection_views as views

app_name = "inspections"

urlpatterns = [
    path("", views.inspection_list, name="list"),
    path("new/", views.inspection_create, name="create"),
    path("<int:pk>/", views.inspection_detail, name="detail"),
    path("<int:pk>/items/<int:item_pk>/findings/", views.findings, name="findings"),
    path("<int:pk>/conclude/", views.conclude, name="conclude"),
    path("<int:pk>/files/", views.upload, name="upload"),
    path("<int:pk>/files/<int:file_pk>/", views.inspection_file, name="file"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("revocations/", views.revocation_list, name="revocations"),
    path("revocations/pending/", views.pending, name="pending"),
    path("revocations/new/<int:rating_pk>/", views.revoke, name="revoke"),
    path("revocations/<int:pk>/", views.revocation_detail, name="revocation"),
    path("revocations/<int:pk>/issue/", views.revocation_issue, name="revocation-issue"),
    path("revocations/<int:pk>/withdraw/", views.revocation_withdraw,
         name="revocation-withdraw"),
    path("revocations/<int:pk>/pdf/", views.revocation_pdf, name="revocation-pdf"),
]
