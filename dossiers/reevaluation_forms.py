"""The form of the re-evaluation confirmation page (``dossiers.reevaluation_views``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import RoundChoiceField


class ReevaluateForm(forms.Form):
    """The round of the new dossier: offered only when more than one round fits (one
    round is taken without asking; ``dossiers.reevaluation.candidate_rounds``)."""

    round = RoundChoiceField(queryset=None, label=_("evaluation round"), required=False,
                             error_messages={"invalid_choice": _(
                                 "This round cannot take the re-evaluation; choose one "
                                 "from the list.")})

    def __init__(self, *args, rounds, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import EvaluationRound

        self.rounds = rounds
        field = self.fields["round"]
        field.queryset = EvaluationRound.objects.filter(
            pk__in=[r.pk for r in rounds]).select_related("unit", "regime")
        if len(rounds) > 1:
            field.required = True
        else:
            del self.fields["round"]

    def chosen_round(self):
        if "round" in self.fields:
            return self.cleaned_data["round"]
        return self.rounds[0] if self.rounds else None
