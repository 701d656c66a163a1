"""Forms of the council pages: setting up a council, planning a session, its agenda and
attendance, reopening a sheet, closing an item (staff, chair and secretary); the recusal
form and the scoresheet posts (members).

The scoresheet is rendered from the cached criteria tree (``councils.sheets``), not
from a Django form; the classes below only read and check what the browser sends:

- :class:`AutosaveForm`: one criterion at a time (htmx autosave), ``criterion``, ``option``,
  ``note``, ``version``;
- :class:`ScoresheetForm`: the whole sheet at once (the page without JavaScript), one radio
  group ``c-<criterion id>`` and one note ``n-<criterion id>`` per criterion, and ``version``.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier
from dossiers.queries import rounds_visible_to
from ocop.input import MAX_ID, ModelMultipleChoiceField
from ocop.regions.models import AdministrativeUnit
from scoring.models import ProcessKind

from . import queries
from .models import Council, CouncilMember, MemberRole, SessionMode
from .services import AGENDA_STATES

#: Longest evidence note accepted for one criterion.
NOTE_MAX_LENGTH = 4000


def radio_name(criterion_id):
    return f"c-{criterion_id}"


def note_name(criterion_id):
    return f"n-{criterion_id}"


class RecusalForm(forms.Form):
    """A member declares a conflict of interest with the producer of one dossier.

    The council secretary may declare it for a member: pass ``members`` (the scoring
    members of the council) and the form asks whose recusal it is.
    """

    member = forms.TypedChoiceField(label=_("Council member"), coerce=int, required=True)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Your tie to the producer (family, work, ownership…). The council chair "
                    "and secretary see this reason; it is kept in the minutes."),
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is None:
            del self.fields["member"]
        else:
            self.fields["member"].choices = [("", "—")] + [
                (m.pk, f"{m.user.display_name} ({m.get_role_display()})") for m in members]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Please give the reason."))
        return reason


class AutosaveForm(forms.Form):
    """One autosaved change. The option and the note may also come under the names of
    the full form (``c-<id>``, ``n-<id>``), which is what the page's radios carry."""

    criterion = forms.IntegerField(min_value=1, max_value=MAX_ID)
    option = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)
    version = forms.IntegerField(min_value=1, max_value=MAX_ID)

    def __init__(self, data, **kwargs):
        data = data.copy()
        criterion = data.get("criterion", "")
        self.note_sent = "note" in data or note_name(criterion) in data
        if "option" not in data and radio_name(criterion) in data:
            data["option"] = data[radio_name(criterion)]
        if "note" not in data and note_name(criterion) in data:
            data["note"] = data[note_name(criterion)]
        super().__init__(data, **kwargs)

    def change(self):
        """``(criterion id, option id or None, note or None)``; ``None`` note = unchanged."""
        data = self.cleaned_data
        return (data["criterion"], data["option"], data["note"] if self.note_sent else None)


class ScoresheetForm(forms.Form):
    """The whole sheet posted at once. ``options`` maps each criterion id to the ids of its
    options; an option that is not one of its criterion's is an error on that criterion."""

    version = forms.IntegerField(min_value=1, max_value=MAX_ID)
    action = forms.ChoiceField(choices=[("save", "save"), ("submit", "submit"),
                                        ("confirm_submit", "confirm_submit")],
                               required=False)

    def __init__(self, data, *, options, **kwargs):
        super().__init__(data, **kwargs)
        self.options = options
        self.values = {}
        self.criterion_errors = {}

    def clean(self):
        cleaned = super().clean()
        for criterion_id, allowed in self.options.items():
            raw = (self.data.get(radio_name(criterion_id)) or "").strip()
            option_id = None
            if raw:
                try:
                    option_id = int(raw)
                except ValueError:
                    option_id = -1
                if option_id not in allowed:
                    self.criterion_errors[criterion_id] = _(
                        "The chosen option does not belong to this criterion.")
                    continue
            note = self.data.get(note_name(criterion_id))
            if note is not None:
                note = note.strip()
                if len(note) > NOTE_MAX_LENGTH:
                    self.criterion_errors[criterion_id] = _(
                        "The note is too long (at most %(max)d characters).") % {
                            "max": NOTE_MAX_LENGTH}
                    continue
            self.values[criterion_id] = (option_id, note)
        if self.criterion_errors:
            raise forms.ValidationError(
                _("Some answers could not be read; they are marked below."), code="invalid")
        return cleaned

    def changes(self, current):
        """The criteria whose option or note differ from ``current`` ({criterion id:
        (option id, note)}), in sheet order, as ``(criterion id, option id, note)``."""
        changed = []
        for criterion_id, (option_id, note) in self.values.items():
            old_option, old_note = current.get(criterion_id, (None, ""))
            if note is None:
                note = old_note
            if option_id != old_option or note != old_note:
                changed.append((criterion_id, option_id, note))
        return changed


# --- Council and session forms (department staff, chair, secretary) ------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CouncilForm(forms.ModelForm):
    """The council itself: name, level, area, establishing decision, term and the settings
    that come from its rules (quorum, chair required, divergence threshold, visibility)."""

    unit = UnitChoiceField(label=_("Area"), queryset=None)

    class Meta:
        model = Council
        fields = ["name", "level", "unit", "decision_number", "decision_date",
                  "decision_signer", "term_start", "term_end", "quorum_ratio",
                  "chair_required", "divergence_threshold", "peer_visibility"]
        widgets = {"decision_date": DateInput(), "term_start": DateInput(),
                   "term_end": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = queries.manageable_units(user).order_by(
            "level", "name")
        for name in ("decision_date", "term_start", "term_end"):
            self.fields[name].input_formats = DATE_FORMATS


class MemberRowForm(forms.Form):
    """One member of the council, chosen by user name."""

    username = forms.CharField(label=_("User name"), max_length=150,
                               required=False)
    role = forms.ChoiceField(label=_("Role"), choices=MemberRole.choices,
                             initial=MemberRole.MEMBER)
    organisation = forms.CharField(label=_("Organisation"), max_length=200,
                                   required=False)
    advisory = forms.BooleanField(label=_("Advisory team"), required=False)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return ""
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(gettext("No active user “%(name)s”.")
                                        % {"name": username})
        self.cleaned_data["user"] = user
        return username


MemberFormSet = forms.formset_factory(MemberRowForm, extra=0, min_num=1, max_num=40)


def member_rows(formset):
    """The filled rows of the members formset as ``services.create_council`` takes them."""
    rows = []
    for order, form in enumerate(f for f in formset.forms if f.cleaned_data.get("username")):
        data = form.cleaned_data
        rows.append({"user": data["user"], "role": data["role"],
                     "organisation": data.get("organisation", ""),
                     "advisory": data.get("advisory", False), "order": order})
    return rows


class SessionForm(forms.Form):
    round = forms.ModelChoiceField(label=_("Evaluation round"), queryset=None)
    date = forms.DateField(label=_("Date"), widget=DateInput(),
                           input_formats=DATE_FORMATS)
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    mode = forms.ChoiceField(
        label=_("How the council decides"), choices=SessionMode.choices,
        initial=SessionMode.MEETING, required=False,
        help_text=_("Written opinions without a meeting: re-evaluation dossiers only "
                    "(26/2026)."))
    opinions_due = forms.DateField(label=_("Written opinions due by"), required=False,
                                   widget=DateInput(), input_formats=DATE_FORMATS)

    def __init__(self, *args, user, council, **kwargs):
        super().__init__(*args, **kwargs)
        # the rounds a council of this level and area evaluates (the service checks again)
        self.fields["round"].queryset = rounds_visible_to(user).filter(
            unit__in=AdministrativeUnit.objects.within([council.unit]),
            level__kind=ProcessKind.COUNCIL, level__admin_level=council.level,
        ).select_related("unit").order_by("-year", "-number")
        # written opinions are offered where a round's regime allows them (26/2026)
        if not self.fields["round"].queryset.filter(regime__written_reevaluation=True).exists():
            del self.fields["mode"]
            del self.fields["opinions_due"]

    def clean(self):
        data = super().clean()
        if data.get("mode") == SessionMode.WRITTEN and not data.get("opinions_due"):
            self.add_error("opinions_due", _("Give the date by which the members send their "
                                             "written opinions."))
        return data


class AgendaForm(forms.Form):
    dossiers = ModelMultipleChoiceField(
        label=_("Products to evaluate"), queryset=Dossier.objects.none(),
        widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        on_agenda = session.agenda.values("dossier_id")
        self.fields["dossiers"].queryset = (
            Dossier.objects.filter(round_id=session.round_id)
            .filter(Q(state__in=AGENDA_STATES) | Q(pk__in=on_agenda))
            .select_related("product__producer", "criteria_set").order_by("product__name"))
        self.fields["dossiers"].label_from_instance = lambda d: (
            f"{d.product.name} — {d.product.producer.name} "
            f"({gettext('set %(no)02d') % {'no': d.criteria_set.set_no}}, "
            f"{d.get_state_display()})")


class AttendanceForm(forms.Form):
    present = ModelMultipleChoiceField(
        label=_("Members present"), queryset=CouncilMember.objects.none(),
        widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["present"]
        field.queryset = CouncilMember.objects.filter(
            council_id=session.council_id).select_related("user").order_by("order", "id")
        field.label_from_instance = lambda m: f"{m.user.display_name} ({m.get_role_display()})"


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reopening"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log and shown to the member, e.g. the "
                               "council discussed a divergence of the totals."))




class CloseItemForm(forms.Form):
    """Close one product's scoring. When the members' totals diverge above the council's
    threshold, the chair records that the council discussed it and the members confirm
    their scores (or reopens the divergent sheets instead)."""

    statement = forms.CharField(
        label=_("Statement on the divergence"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed only when the totals diverge above the threshold: e.g. “The "
                    "council discussed the difference; the members confirm their scores.” "
                    "Printed in the minutes."))
