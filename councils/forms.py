"""Forms of the council member pages: the recusal form and the scoresheet posts.

The scoresheet is rendered from the cached criteria tree (``councils.member_views``), not
from a Django form; the classes below only read and check what the browser sends:

- :class:`AutosaveForm`: one criterion at a time (htmx autosave), ``criterion``, ``option``,
  ``note``, ``version``;
- :class:`ScoresheetForm`: the whole sheet at once (the page without JavaScript), one radio
  group ``c-<criterion id>`` and one note ``n-<criterion id>`` per criterion, and ``version``.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

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

    criterion = forms.IntegerField(min_value=1)
    option = forms.IntegerField(min_value=1, required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)
    version = forms.IntegerField(min_value=1)

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

    version = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[("save", "save"), ("submit", "submit")],
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
