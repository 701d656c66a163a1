"""Forms of the register import pages (docs/register-import.md)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RowOutcome


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Register file (.xlsx or .csv)"),
        help_text=_("The columns of the template; one row per rating. The rows are checked "
                    "first: nothing is saved before you confirm."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))


class RowFilterForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Show"), required=False,
                                choices=[("", _("All rows")), *RowOutcome.choices])

    def cleaned_outcome(self):
        if not self.is_bound or not self.is_valid():
            return ""
        return self.cleaned_data["outcome"]
