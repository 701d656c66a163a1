"""Forms of the officer pages. They check the shape of the input (required fields, numbers,
dates) with Django's translated messages; every rule about what may happen to a dossier
stays in ``dossiers.services`` — its :class:`DossierError` is shown on the form
(:func:`show_service_error`).

The Mẫu 01 registration data is a short, fixed set of fields stored in
``Dossier.registration`` (JSON); :data:`REGISTRATION_FIELDS` lists the keys.
"""

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, IntegerField, Value, When
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from ocop.accounts.queries import area_signature, area_units, role_units
from ocop.lru import LRU
from ocop.regions.models import AdministrativeUnit, Level
from ocop.versioned_cache import reference
from scoring.models import CriteriaSet
from scoring.queries import grouped_by_product_group, regime_in_force

from . import uploads
from .models import (
    AssessmentVerdict,
    DocumentState,
    DossierState,
    Producer,
    ProducerType,
    RegistrationType,
)
from .queries import (
    INTAKE_ROLES,
    SEARCH_MAX_LENGTH,
    filing_rounds,
    producers_visible_to,
    products_visible_to,
    rounds_visible_to,
)
from .validators import normalise_registration_no

#: Dates are typed the Vietnamese way (31/12/2026) where the browser has no date picker; a
#: date picker sends ISO dates.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def show_service_error(request, form, error):
    """Put a :class:`dossiers.services.DossierError` on ``form``: next to the fields it
    names (``.fields``), at the top of the form for fields the form does not have, and as a
    message when it names no field. The user's input stays in the bound form."""
    fields = getattr(error, "fields", None) or {}
    if form is None or not fields:
        messages.error(request, getattr(error, "message", None) or str(error))
        return
    for name, errors in fields.items():
        if isinstance(errors, str):
            errors = [errors]
        key = (name or "").removeprefix("registration.")
        target = key if key in form.fields else None
        for message in errors:
            form.add_error(target, message)


# --- producer, product ----------------------------------------------------------------------


def _unit_choices(user):
    """The areas the user files for: provinces first, then districts, then communes."""
    rank = Case(When(level=Level.PROVINCE, then=Value(0)),
                When(level=Level.DISTRICT, then=Value(1)),
                default=Value(2), output_field=IntegerField())
    return area_units(user, *INTAKE_ROLES).order_by(rank, "name")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.valid_to is None else _("%(name)s (before 2025)") % {
            "name": obj.name}


class ProducerForm(forms.ModelForm):
    unit = UnitChoiceField(queryset=AdministrativeUnit.objects.none(),
                           label=_("administrative unit"))

    class Meta:
        model = Producer
        fields = ["type", "name", "registration_no", "representative_name",
                  "representative_gender", "representative_ethnicity", "address", "unit",
                  "phone", "email"]
        widgets = {"address": forms.TextInput(attrs={"size": 60})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        #: The producer of the user's area already registered with the typed number (the
        #: page links to it instead of letting the officer create a duplicate).
        self.existing = None
        self.fields["unit"].queryset = _unit_choices(user)
        self.fields["unit"].empty_label = _("— choose an administrative unit —")
        self.fields["type"].choices = [("", _("— choose a type —")), *ProducerType.choices]
        self.fields["representative_gender"].choices = [
            ("", _("— choose —")), *self.fields["representative_gender"].choices[1:]]
        mine = role_units(user, *INTAKE_ROLES)
        if len(mine) == 1 and not self.is_bound and not self.instance.pk:
            self.initial.setdefault("unit", mine[0].pk)

    def clean_registration_no(self):
        # Forgiving: "1801 234.567" is "1801234567".
        number = normalise_registration_no(self.cleaned_data["registration_no"])
        existing = (producers_visible_to(self.user).filter(registration_no=number)
                    .exclude(pk=self.instance.pk).first())
        if existing is not None:
            self.existing = existing
            raise forms.ValidationError(
                _("“%(name)s” is already registered with this number: use it rather than "
                  "registering the producer again.") % {"name": existing.name},
                code="duplicate")
        return number

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


class ProducerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.registration_no})"


class CriteriaSetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.regime.slug} · {obj.set_no:02d} {obj.name}"


def _criteria_sets():
    return CriteriaSet.objects.published().select_related("regime").order_by(
        "-regime__effective_from", "set_no")


def product_context(user, round_id=None, day=None):
    """``(regime, round)`` whose criteria sets a product is given: the round ``round_id``
    if it is one the user may file into on ``day`` (the dossier form passes its round
    along), else the user's only filing round (or rounds of one criteria regime), else
    the regime in force on ``day`` and no round (docs/regimes-and-levels.md)."""
    day = day or timezone.localdate()
    rounds = list(filing_rounds(user, day).select_related("regime__criteria_from", "unit"))
    chosen = next((r for r in rounds if str(r.pk) == str(round_id or "")), None)
    if chosen is None and len(rounds) == 1:
        chosen = rounds[0]
    if chosen is not None:
        return chosen.regime, chosen
    regimes = {r.regime.criteria_regime.pk: r.regime for r in rounds}
    if len(regimes) == 1:
        return next(iter(regimes.values())), None
    return regime_in_force(day), None


def grouped_set_choices(regime, empty_label):
    """The published sets of ``regime``'s criteria regime as ``<optgroup>`` choices, one
    group per product group (``scoring.queries.grouped_by_product_group``)."""
    sets = (CriteriaSet.objects.scorable_for(regime).select_related("group")
            .order_by("set_no")) if regime is not None else CriteriaSet.objects.none()
    return [("", empty_label)] + [
        (block["group"].name, [(cs.pk, f"{cs.set_no:02d} {cs.name}") for cs in block["sets"]])
        for block in grouped_by_product_group(sets)]


class ProductForm(forms.Form):
    """A new product (``product=None``) or the change of one (name; its criteria set while
    ``services.product_set_lock`` allows — otherwise the field is left out). The criteria
    sets offered are those of ``regime`` (:func:`product_context`), by product group; a
    set of another regime is refused here with a message."""

    producer = ProducerChoiceField(queryset=Producer.objects.none(), label=_("producer"),
                                   empty_label=_("— choose a producer —"))
    name = forms.CharField(label=_("product name"), max_length=255)
    criteria_set = CriteriaSetChoiceField(
        queryset=CriteriaSet.objects.none(), label=_("criteria set"),
        help_text=_("The criteria set (product group) the product is scored with."))

    def __init__(self, *args, user, regime=None, product=None, set_locked="", **kwargs):
        super().__init__(*args, **kwargs)
        self.regime = regime
        self.set_locked = set_locked
        if product is not None:
            del self.fields["producer"]
            self.initial.setdefault("name", product.name)
            self.initial.setdefault("criteria_set", product.criteria_set_id)
        else:
            self.fields["producer"].queryset = producers_visible_to(user).order_by("name")
        if set_locked:
            del self.fields["criteria_set"]
            return
        field = self.fields["criteria_set"]
        field.queryset = (CriteriaSet.objects.published().select_related("regime")
                          if regime is None else CriteriaSet.objects.scorable_for(regime)
                          .select_related("regime"))
        empty = _("— choose a criteria set —")
        if product is not None:
            # changing a product: an empty choice keeps its set (e.g. a set of an earlier
            # regime, which the list of the current regime does not hold)
            field.required = False
            empty = _("— keep the current set —")
        field.choices = grouped_set_choices(regime, empty)
        if regime is not None:
            field.help_text = _("The criteria sets of %(regime)s, by product group.") % {
                "regime": regime.code}
            field.error_messages["invalid_choice"] = _(
                "This criteria set is not one of %(regime)s, the regime of the evaluation "
                "round: choose a set of %(regime)s.") % {"regime": regime.code}

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


# --- dossier (Mẫu 01) ------------------------------------------------------------------------


class RegistrationForm(forms.Form):
    """The Mẫu 01 data kept in ``Dossier.registration``."""

    production_address = forms.CharField(
        label=_("production address"), max_length=300,
        help_text=_("Where the product is made (village, commune, district)."))
    product_description = forms.CharField(
        label=_("product description"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Main ingredients, packaging, shelf life."))
    raw_materials = forms.CharField(
        label=_("raw materials and their origin"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}))
    annual_capacity = forms.CharField(
        label=_("production capacity per year"), required=False, max_length=200,
        help_text=_("For example: 20 tonnes/year, 5,000 bottles/year."))
    workers = forms.IntegerField(label=_("number of workers"), required=False, min_value=0,
                                 max_value=100000)
    markets = forms.CharField(
        label=_("markets"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the product is sold: province, other provinces, export."))
    expected_stars = forms.TypedChoiceField(
        label=_("star rating sought"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), (3, "3★"), (4, "4★"), (5, "5★")])

    def registration(self):
        """The cleaned Mẫu 01 data as JSON-ready values (empty answers left out)."""
        data = {}
        for name in REGISTRATION_FIELDS:
            value = self.cleaned_data.get(name)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                data[name] = value
        return data


#: The keys of ``Dossier.registration`` the form writes, in display order.
REGISTRATION_FIELDS = list(RegistrationForm.base_fields)


class RoundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} · {obj.regime.slug}"


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} — {obj.producer.name}"


class RatingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(product)s: %(stars)s★, decision %(number)s of %(date)s") % {
            "product": obj.product.name, "stars": obj.stars, "number": obj.decision_number,
            "date": obj.decision_date.strftime("%d/%m/%Y")}


class DossierCreateForm(RegistrationForm):
    round = RoundChoiceField(queryset=None, label=_("evaluation round"))
    product = ProductChoiceField(queryset=None, label=_("product"))
    registration_type = forms.ChoiceField(label=_("registration type"),
                                          choices=RegistrationType.choices,
                                          initial=RegistrationType.FIRST)
    current_rating = RatingChoiceField(
        queryset=None, label=_("current rating"), required=False,
        help_text=_("For an upgrade or a re-evaluation: the rating it builds on."))

    field_order = ["round", "product", "registration_type", "current_rating"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Rating

        products = products_visible_to(user)
        # only the rounds a dossier may be filed into today (docs/regimes-and-levels.md)
        self.fields["round"].queryset = (filing_rounds(user, timezone.localdate())
                                         .select_related("unit", "regime"))
        self.fields["round"].empty_label = _("— choose a round —")
        self.fields["product"].empty_label = _("— choose a product —")
        self.fields["current_rating"].empty_label = _("— none (first evaluation) —")
        if not self.is_bound and not self.initial.get("round"):
            # the only open round is preselected
            only = list(self.fields["round"].queryset.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["round"] = only[0]
        self.fields["product"].queryset = products.select_related("producer").order_by(
            "name")
        self.fields["current_rating"].queryset = (
            Rating.objects.filter(product__in=products).select_related("product")
            .order_by("-decision_date"))


# --- files, samples, self-assessment -----------------------------------------------------------


class UploadForm(forms.Form):
    """One file for one checklist line; each line has its own small form (prefix
    ``doc<id>``) so that a refused file touches nothing else. It says the accepted types
    and the size limit; ``refused`` is the refusal left by the upload handler when the body
    was too large (``uploads.refused_in(request)``), shown as the file's error."""

    file = forms.FileField(label=_("file"))

    def __init__(self, *args, refused=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = refused
        self.fields["file"].help_text = uploads.accepted_help()
        self.fields["file"].widget.attrs["accept"] = uploads.ACCEPT

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.refused is not None:
            self._errors["file"] = self.error_class([self.refused.message])
            self.cleaned_data.pop("file", None)


#: The one rule on a dossier's number of samples, shared by :class:`SamplesForm` and the API
#: (``dossiers.api.DossierUpdateSerializer``): 0 to 1,000 (the column is a small integer).
SAMPLES_COUNT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(1000)]


class SamplesForm(forms.Form):
    samples_count = forms.IntegerField(
        label=_("samples received"), validators=SAMPLES_COUNT_VALIDATORS,
        widget=forms.NumberInput(attrs={"min": SAMPLES_COUNT_VALIDATORS[0].limit_value,
                                        "max": SAMPLES_COUNT_VALIDATORS[1].limit_value}))
    samples_received_on = forms.DateField(label=_("samples received on"),
                                          input_formats=DATE_INPUT_FORMATS,
                                          widget=DateInput())


class SelfAssessmentForm(forms.Form):
    """Mẫu 02: per criterion an option (radio buttons), a note and an evidence file.

    Fields are ``c<criterion id>``, ``note<id>`` and ``evidence<id>``; all optional so that
    a half-finished report can be saved and completed later.
    """

    def __init__(self, *args, tree, entries, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = []
        for part in tree["parts"]:
            for section in part["sections"]:
                for criterion in section["criteria"]:
                    self._add(criterion, entries.get(criterion["id"]))

    def _add(self, criterion, entry):
        cid = criterion["id"]
        choices = []
        for option in criterion["options"]:
            points = option["points_raw"] or (
                "" if option["points"] is None else floatformat(option["points"], -2))
            label = option["label"]
            if points:
                label = _("%(label)s (%(points)s points)") % {"label": label,
                                                               "points": points}
            choices.append((str(option["id"]), label))
        self.fields[f"c{cid}"] = forms.ChoiceField(
            label=criterion["title"], choices=choices, required=False,
            widget=forms.RadioSelect, error_messages={"invalid_choice": _(
                "The chosen option does not belong to this criterion.")},
            initial=str(entry.option_id) if entry and entry.option_id else None)
        self.fields[f"note{cid}"] = forms.CharField(
            label=_("note"), required=False, max_length=2000,
            initial=entry.note if entry else "")
        self.fields[f"evidence{cid}"] = forms.FileField(label=_("evidence"), required=False)
        self.criteria.append(cid)

    @classmethod
    def for_criterion(cls, data, *, criterion, entry):
        """The form of one criterion (its option and note, autosaved on their own):
        ``criterion`` is a :class:`~scoring.models.Criterion` with its ``options``, ``entry``
        its stored answer or None. A note left out of ``data`` keeps the stored one."""
        data = data.copy()
        data.setdefault(f"note{criterion.pk}", entry.note if entry else "")
        node = {"id": criterion.pk, "title": criterion.title, "options": [
            {"id": o.pk, "label": o.label, "points": o.points, "points_raw": o.points_raw}
            for o in criterion.options.all()]}
        return cls(data, tree={"parts": [{"sections": [{"criteria": [node]}]}]},
                   entries={criterion.pk: entry} if entry else {})

    def first_error(self):
        """The first error message of the form (one criterion's), or ``""``."""
        for errors in self.errors.values():
            return str(errors[0])
        return ""

    def changes(self, entries):
        """``[(criterion id, option id or None, note, uploaded file or None)]`` for the
        criteria whose answer differs from ``entries`` or that carry a new file."""
        changed = []
        for cid in self.criteria:
            option = self.cleaned_data.get(f"c{cid}") or None
            option = int(option) if option else None
            note = (self.cleaned_data.get(f"note{cid}") or "").strip()
            upload = self.cleaned_data.get(f"evidence{cid}")
            entry = entries.get(cid)
            old_option = entry.option_id if entry else None
            old_note = entry.note if entry else ""
            if upload or option != old_option or note != old_note:
                changed.append((cid, option, note, upload))
        return changed


# --- workflow forms ---------------------------------------------------------------------------


class ReturnForm(forms.Form):
    """Return for completion: a reason per checklist line (``reason<document id>``) and a
    note; at least one reason."""

    note = forms.CharField(label=_("note to the producer"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = list(documents)
        for document in self.documents:
            self.fields[f"reason{document.pk}"] = forms.CharField(
                label=_("What is missing or wrong in “%(item)s”") % {
                    "item": document.item.title},
                required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=document.reason if document.state == DocumentState.REJECTED else "")

    def clean(self):
        cleaned = super().clean()
        if not self.reasons():
            raise forms.ValidationError(
                _("Give a reason for at least one checklist item, so that the producer knows "
                  "what to complete."), code="no_reason")
        return cleaned

    def reasons(self):
        return {d.pk: (self.cleaned_data.get(f"reason{d.pk}") or "").strip()
                for d in self.documents
                if (self.cleaned_data.get(f"reason{d.pk}") or "").strip()}

    def rows(self):
        return [(document, self[f"reason{document.pk}"]) for document in self.documents]


def _verdict():
    return forms.ChoiceField(label=_("verdict"), choices=AssessmentVerdict.choices,
                             widget=forms.RadioSelect)


def _text():
    return forms.CharField(label=_("findings"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))


#: The four items of the commune report (Mẫu 03): (field, label).
PRE_ASSESSMENT_ITEMS = [
    ("raw_materials", _("local raw materials")),
    ("labour", _("local labour")),
    ("idea_origin", _("origin of the idea")),
    ("local_identity", _("local identity")),
]


class PreAssessmentForm(forms.Form):
    """Mẫu 03 (26/2026, 1489): the four items with a verdict each and a conclusion; with
    ``items=False`` (148: district acceptance) the conclusion only."""

    conclusion = forms.CharField(label=_("conclusion"), max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 3}))

    # The printed report (Decree 30): its number and who signs it, all optional.
    report_number = forms.CharField(
        label=_("report number"), required=False, max_length=30,
        help_text=_("The number in the register of outgoing documents, e.g. “12”; leave "
                    "empty to write it by hand on the printed report."))
    signer_name = forms.CharField(label=_("signed by"), required=False, max_length=150)
    signer_title = forms.CharField(
        label=_("signer's title"), required=False, max_length=80,
        help_text=_("E.g. “CHỦ TỊCH” or “PHÓ CHỦ TỊCH”; empty means the chair."))

    #: The fields of the printed report (shown apart on the page).
    REPORT_FIELDS = ("report_number", "signer_name", "signer_title")

    def __init__(self, *args, items=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_items = items
        if items:
            report = [(name, self.fields.pop(name)) for name in self.REPORT_FIELDS]
            conclusion = self.fields.pop("conclusion")
            for name, _label in PRE_ASSESSMENT_ITEMS:
                self.fields[name] = _text()
                self.fields[f"{name}_verdict"] = _verdict()
            self.fields["conclusion"] = conclusion
            self.fields.update(report)

    def report_fields(self):
        return [self[name] for name in self.REPORT_FIELDS]

    def item_rows(self):
        if not self.has_items:
            return []
        return [(label, self[name], self[f"{name}_verdict"])
                for name, label in PRE_ASSESSMENT_ITEMS]

    def data_for_service(self):
        return {name: (value.strip() if isinstance(value, str) else value)
                for name, value in self.cleaned_data.items()}


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    state = forms.ChoiceField(
        label=_("check result"), widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in (DocumentState.VERIFIED, DocumentState.REJECTED)])
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000,
                             widget=forms.TextInput(attrs={
                                 "placeholder": _("Reason (needed to reject)")}))


# --- list filters -----------------------------------------------------------------------------


def round_label(number, year, unit_name):
    """``str(EvaluationRound)`` from its values (``models.EvaluationRound.__str__``)."""
    from django.utils.translation import gettext

    return gettext("Round %(number)s/%(year)s — %(unit)s") % {
        "number": number, "year": year, "unit": unit_name}


class _LazyChoices(BaseChoiceIterator):
    """Choices read from the database once, when first iterated (rendering or
    validating), then kept for the form's life (``BaseChoiceIterator``: Django leaves
    it unevaluated until then)."""

    def __init__(self, load):
        self.load = load
        self.rows = None

    def __iter__(self):
        if self.rows is None:
            self.rows = self.load()
        return iter(self.rows)


def _html_attrs(attrs):
    """``django/forms/widgets/attrs.html`` in Python."""
    from django.utils.html import escape

    return "".join(f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
                   for name, value in attrs.items() if value is not False)


class FastSelect(forms.Select):
    """A ``Select`` that writes Django's own select HTML (``select.html`` and
    ``select_option.html``, byte for byte) in Python instead of rendering one template per
    option: the dossier list's filters hold ~40 rounds and the 52 criteria sets, and their
    templates took most of the page's time (issue #14)."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.utils.html import conditional_escape, escape
        from django.utils.safestring import mark_safe

        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{escape(widget["name"])}"{_html_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            out.extend(f'\n  <option value="{escape(option["value"])}"'
                       f'{_html_attrs(option["attrs"])}>{conditional_escape(option["label"])}'
                       "</option>\n" for option in options)
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


#: the filter fields' HTML per process (``DossierFilterForm.fields_html``): a typed search
#: is a new entry, so it has its own store, not the reference data's
_FILTER_FIELDS = LRU(256)


class DossierFilterForm(forms.Form):
    """GET filters of the dossier list; an unusable value is reported and ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=SEARCH_MAX_LENGTH,
                        widget=forms.TextInput(attrs={
                            "type": "search",
                            "placeholder": _("Product or producer name")}))
    # Rounds and criteria sets are offered from plain rows (``values_list``), not model
    # instances: the value is the id, which is all ``filter_dossiers`` needs.
    round = forms.TypedChoiceField(label=_("evaluation round"), required=False, coerce=int,
                                   empty_value=None, widget=FastSelect)
    state = forms.ChoiceField(label=_("state"), required=False, widget=FastSelect,
                              choices=[("", _("All states")), *DossierState.choices])
    criteria_set = forms.TypedChoiceField(label=_("criteria set"), required=False,
                                          coerce=int, empty_value=None, widget=FastSelect)
    registration_type = forms.ChoiceField(
        label=_("registration type"), required=False, widget=FastSelect,
        choices=[("", _("All types")), *RegistrationType.choices])
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    #: "Near their deadline" as the home page's card counts it (``deadlines.due_soon_q``).
    due_soon = forms.BooleanField(label=_("Near their deadline only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The rounds and sets offered change a few times a year: kept per process at the
        # reference data's version (ocop/versioned_cache.py), per area for the rounds.
        self.version = reference.version()
        self.area = area_signature(user, *INTAKE_ROLES)
        self.fields["round"].choices = _LazyChoices(lambda: [
            ("", _("All rounds")), *reference.local(self.version, lambda: [
                (pk, f"{round_label(number, year, unit)} · {slug}")
                for pk, number, year, unit, slug in rounds_visible_to(user).values_list(
                    "pk", "number", "year", "unit__name", "regime__slug")],
                "round-choices", self.area)])
        self.fields["criteria_set"].choices = _LazyChoices(lambda: [
            ("", _("All criteria sets")), *reference.local(self.version, lambda: [
                (pk, f"{slug} · {set_no:02d} {name}")
                for pk, slug, set_no, name in _criteria_sets().values_list(
                    "pk", "regime__slug", "set_no", "name")], "criteria-set-choices")])

    def fields_html(self):
        """The fields as the list page writes them (``dossiers/_filter_fields.html``),
        kept per process under what they show: the values asked for, the area's choices at
        the reference version and the language. Rendering the 52 criteria sets and the
        rounds took 2.5 ms of every list page (issue #14)."""
        data = self.is_bound and tuple(
            (name, tuple(self.data.getlist(name))) for name in self.fields
            if name in self.data)
        return reference.local(
            self.version, lambda: render_to_string("dossiers/_filter_fields.html",
                                                    {"form": self}),
            "filter-fields", self.area, data, store=_FILTER_FIELDS)

    def filters(self):
        """The valid filters only (``{}`` for an unbound form)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items()
                if name not in self.errors and value not in (None, "", False)}
