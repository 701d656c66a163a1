from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def sample_pdf(request):
    return HttpResponse(b"", content_type="application/pdf")
