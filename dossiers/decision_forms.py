"""Forms of the decision pages: the shape of the input only; what may happen stays in
``dossiers.decisions`` and ``dossiers.forwarding`` (their ``DossierError`` is shown on the
form with ``forms.show_service_error``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .decisions import SIGNATURE_FORMS
from .forms import DATE_INPUT_FORMATS, DateInput


def _text(label, *, rows=None, required=True, max_length=None, help_text=""):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=widget, help_text=help_text, strip=True)


class DraftTextsForm(forms.Form):
    """The texts of a draft decision, composed by the system and editable until issued."""

    subject = _text(_("Subject"), rows=2)
    authority = _text(_("Deciding authority"), max_length=300)
    legal_bases = _text(_("Legal bases"), rows=5, required=False,
                        help_text=_("One “Căn cứ …;” per line."))
    article_2 = _text(_("Article 2"), rows=4, required=False)
    article_3 = _text(_("Article 3"), rows=3, required=False)
    recipients = _text(_("Recipients"), rows=4,
                       help_text=_("One per line; the last is “Lưu: VT, …”."))
    place = _text(_("Place on the date line"), max_length=120)
    signature_authority = _text(_("Signing on behalf (KT./TM.)"), max_length=80,
                                required=False)
    signature_title = _text(_("Signer's title"), max_length=80, required=False)
    signer_name = _text(_("Signer"), max_length=150, required=False)


SIGNATURE_CHOICES = [
    ("kt", " / ".join(SIGNATURE_FORMS["kt"])),
    ("tm", " / ".join(SIGNATURE_FORMS["tm"])),
]


class IssueForm(forms.Form):
    number = forms.IntegerField(label=_("Decision number"), min_value=1, max_value=999_999,
                                help_text=_("Numbers restart at 1 every 1 January for each "
                                            "issuer; the next free number is proposed."))
    date = forms.DateField(label=_("Decision date"), input_formats=DATE_INPUT_FORMATS,
                           widget=DateInput())
    signer_name = forms.CharField(label=_("Signer"), max_length=150)
    signature_form = forms.ChoiceField(label=_("Signature form"), choices=SIGNATURE_CHOICES,
                                       widget=forms.RadioSelect)


class CentralResultForm(forms.Form):
    # a text: "92,5" and "92.5" are both accepted (the service parses and checks it)
    score = forms.CharField(label=_("Ministry's score"), max_length=10,
                            help_text=_("From 0 to 100, e.g. 92,5."))
    stars = forms.TypedChoiceField(label=_("Stars"), coerce=int,
                                   choices=[(n, f"{n}★") for n in range(1, 6)])
    decision_number = forms.CharField(label=_("Ministry's decision number"), max_length=60,
                                      help_text=_("As printed, e.g. “1234/QĐ-BNNMT”."))
    decision_date = forms.DateField(label=_("Decision date"), input_formats=DATE_INPUT_FORMATS,
                                    widget=DateInput())


class ReceiveForm(forms.Form):
    round = forms.ModelChoiceField(label=_("Evaluation round"), queryset=None,
                                   empty_label=None)

    def __init__(self, *args, rounds=(), **kwargs):
        super().__init__(*args, **kwargs)
        from .models import EvaluationRound

        self.fields["round"].queryset = EvaluationRound.objects.filter(
            pk__in=[r.pk for r in rounds]).select_related("unit")
