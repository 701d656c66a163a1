"""``{% may_oversee "revoke" as may_revoke %}``: whether the signed-in user's role may do an
oversight action (``dossiers.rules.may_oversee``) — to show the "Inspect" and "Revoke"
buttons on pages whose views do not know about inspections (the rating's page)."""

from django import template

from dossiers import rules

register = template.Library()


@register.simple_tag(takes_context=True)
def may_oversee(context, action):
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and rules.may_oversee(user, action))
