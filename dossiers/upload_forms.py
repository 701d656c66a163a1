"""The checklist's upload fields: several files per line, and one form for the whole
checklist (docs/documents.md, "Filing with few clicks").

Each line's input is named ``doc<line id>-file`` (the prefix of
:class:`dossiers.forms.UploadForm`, so a single file posted the old way is read the same)
and accepts several files. The files of one request are counted first: more than
:func:`max_files` refuses the whole request and stores nothing.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import uploads

#: At most this many files in one request (all lines together); setting
#: ``OCOP_UPLOAD_MAX_FILES``. Fourteen lines with a paper or two each fit.
DEFAULT_MAX_FILES = 30


def max_files():
    return int(getattr(settings, "OCOP_UPLOAD_MAX_FILES", DEFAULT_MAX_FILES))


def field_name(document):
    """The name of a checklist line's file input."""
    return f"doc{document.pk}-file"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiUploadForm(forms.Form):
    """Several files for one checklist line (prefix ``doc<id>``). The files themselves are
    checked one by one by ``services.upload_file``; this form only renders the input (what it
    accepts, the limit); the view reads ``request.FILES.getlist(field_name(line))``."""

    file = forms.FileField(label=gettext_lazy("files"), required=False,
                           widget=MultipleFileInput(attrs={"multiple": True}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = uploads.accepted_help()
        self.fields["file"].widget.attrs["accept"] = uploads.ACCEPT


def too_many_files(count):
    return _("%(count)s files were sent at once; at most %(max)s files can be uploaded "
             "in one go. Nothing was attached: send them in smaller groups.") % {
        "count": count, "max": max_files()}
