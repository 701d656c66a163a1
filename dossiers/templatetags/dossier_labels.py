"""``{{ dossier|state_label }}``: the dossier's state as ``dossiers.rules.state_label``
names it (a label that follows the level, docs/regimes-and-levels.md)."""

from django import template

from dossiers import rules

register = template.Library()


@register.filter
def state_label(dossier):
    return rules.state_label(dossier)
