"""What the councils let a user read in the dossier side: registered in
``CouncilsConfig.ready`` with ``dossiers.queries.register_reader`` (dossiers does not import
councils)."""

from .models import AgendaItem, Recusal


def agenda_dossier_ids(user):
    """The ids of the dossiers on the agenda of a council the user sits on, except the ones
    they recused themselves from (a subquery: ``.values("dossier_id")``)."""
    return AgendaItem.objects.filter(session__council__members__user=user).exclude(
        dossier__in=Recusal.objects.filter(member__user=user).values("dossier_id")
    ).values("dossier_id")
