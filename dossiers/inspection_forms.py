"""Forms of the inspection and revocation pages: the shape of the input only; what may
happen stays in ``dossiers.inspections`` and ``dossiers.revocations`` (their
``DossierError`` is shown on the form with ``forms.show_service_error``)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .decision_forms import SIGNATURE_CHOICES
from .forms import DATE_INPUT_FORMATS, DateInput
from .models import (
    InspectionConclusion,
    InspectionKind,
    InspectionState,
    RevocationGround,
)

CHOICE_ERRORS = {"invalid_choice": _("This choice is not available here; choose one from "
                                     "the list.")}


def _date(label, *, required=True, help_text=""):
    return forms.DateField(label=label, required=required, input_formats=DATE_INPUT_FORMATS,
                           widget=DateInput(), help_text=help_text)


class InspectionFilterForm(forms.Form):
    """GET filters of the inspections list; an unusable value is reported and ignored."""

    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000,
                              max_value=2100, error_messages={
                                  "invalid": _("Enter a year of four digits."),
                                  "min_value": _("Enter a year of four digits."),
                                  "max_value": _("Enter a year of four digits.")})
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All kinds")), *InspectionKind.choices],
                             error_messages=CHOICE_ERRORS)
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All states")), *InspectionState.choices],
                              error_messages=CHOICE_ERRORS)

    def filters(self):
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items()
                if name not in self.errors and value not in (None, "")}


class PlanForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Province"), queryset=None, empty_label=None,
                                  error_messages=CHOICE_ERRORS)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=300, required=False,
                            help_text=_("Leave empty for “Inspection plan <year> — "
                                        "<province>”."))
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, provinces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = provinces
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)


class InspectionForm(forms.Form):
    """A new inspection: of the rated product ``rating`` (fixed by the page) or of an
    area."""

    kind = forms.ChoiceField(label=_("Kind"), choices=InspectionKind.choices,
                             widget=forms.RadioSelect, error_messages=CHOICE_ERRORS)
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=None, required=False,
                                  empty_label=_("— none (ad hoc) —"),
                                  error_messages=CHOICE_ERRORS)
    unit = forms.ModelChoiceField(label=_("Area inspected"), queryset=None, required=False,
                                  empty_label=_("— choose an area —"),
                                  error_messages=CHOICE_ERRORS,
                                  help_text=_("Every product of the area holding a valid "
                                              "rating is inspected."))
    planned_on = _date(_("Planned for"), required=False)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    inspectors = forms.CharField(label=_("Inspection team"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, plans, units, rating=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating = rating
        self.fields["plan"].queryset = plans
        if rating is not None:
            del self.fields["unit"]
        else:
            self.fields["unit"].queryset = units
            self.fields["unit"].required = True


class FindingsForm(forms.Form):
    """One "still meets?" choice and a note per criterion of the product's scoresheet;
    criteria left unanswered are not recorded."""

    MEETS_CHOICES = [("", _("— not checked —")), ("yes", _("Still meets")),
                     ("no", _("Does not meet"))]

    def __init__(self, *args, criteria, findings=None, **kwargs):
        super().__init__(*args, **kwargs)
        findings = findings or {}
        self.criteria = criteria
        for criterion in criteria:
            found = findings.get(criterion.pk)
            self.fields[f"meets_{criterion.pk}"] = forms.ChoiceField(
                label=f"{criterion.code} {criterion.title}", required=False,
                choices=self.MEETS_CHOICES, error_messages=CHOICE_ERRORS,
                initial="" if found is None else ("yes" if found.meets else "no"))
            self.fields[f"note_{criterion.pk}"] = forms.CharField(
                label=_("Finding"), required=False,
                initial=found.note if found is not None else "")

    def rows(self):
        return [(c, self[f"meets_{c.pk}"], self[f"note_{c.pk}"]) for c in self.criteria]

    def findings(self):
        data = self.cleaned_data
        return [{"criterion": c.pk, "meets": data[f"meets_{c.pk}"] == "yes",
                 "note": data.get(f"note_{c.pk}", "")}
                for c in self.criteria if data.get(f"meets_{c.pk}")]


class ConcludeForm(forms.Form):
    conclusion_date = _date(_("Date of the conclusion"),
                            help_text=_("The revocation deadline runs from this date."))
    inspected_on = _date(_("Inspected on"), required=False)
    reference = forms.CharField(label=_("Conclusion document"), max_length=120,
                                required=False, help_text=_("Number of the written conclusion "
                                                            "(biên bản / kết luận), if any."))
    note = forms.CharField(label=_("General conclusion"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.rating.product.name, choices=InspectionConclusion.choices,
                widget=forms.RadioSelect, error_messages=CHOICE_ERRORS)
            self.fields[f"item_note_{item.pk}"] = forms.CharField(
                label=_("Note"), required=False)

    def item_rows(self):
        return [(item, self[f"item_{item.pk}"], self[f"item_note_{item.pk}"])
                for item in self.items]

    def conclusions(self):
        data = self.cleaned_data
        return {item.pk: (data[f"item_{item.pk}"], data.get(f"item_note_{item.pk}", ""))
                for item in self.items}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))


class RevocationForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground (26/2026 Điều 8)"),
                               choices=[("", _("— choose the ground —")),
                                        *RevocationGround.choices],
                               error_messages=CHOICE_ERRORS, required=False)
    inspection_item = forms.ModelChoiceField(
        label=_("Inspection conclusion cited"), queryset=None, required=False,
        empty_label=_("— another body's conclusion (below) —"), error_messages=CHOICE_ERRORS)
    conclusion_reference = forms.CharField(
        label=_("Other conclusion cited"), max_length=300, required=False,
        help_text=_("The body, number and date of the conclusion, when it is not an "
                    "inspection recorded here."))
    conclusion_date = _date(_("Date of the conclusion"), required=False,
                            help_text=_("For an inspection cited, its conclusion date is "
                                        "used."))
    reason = forms.CharField(label=_("Reason"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection_item"].queryset = items
        self.fields["inspection_item"].label_from_instance = lambda item: (
            f"{item.inspection} — {item.get_conclusion_display()} "
            f"({item.inspection.conclusion_date:%d/%m/%Y})")


class RevocationIssueForm(forms.Form):
    number = forms.IntegerField(label=_("Decision number"), min_value=1, max_value=999_999,
                                help_text=_("In the sequence of the People's Committee's "
                                            "decisions of the year; the next free number is "
                                            "proposed."))
    date = _date(_("Decision date"))
    signer_name = forms.CharField(label=_("Signer"), max_length=150)
    signature_form = forms.ChoiceField(label=_("Signature form"), choices=SIGNATURE_CHOICES,
                                       widget=forms.RadioSelect)
