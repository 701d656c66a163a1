"""``{% page_header %}``: the header of every page (``web/_header.html``: brand, menu twice,
notifications link, the user's roles, language and logout forms), rendered once per
process for what it shows and kept (``ocop.lru``).

Rendering it took about 2 ms of every signed-in page (issue #14, docs/performance.md);
kept, it costs a key and two replacements. The key holds everything the header reads: the
language, the user's id, name and roles (with their units' names), the menu's entries and
the current one, whether the notifications are the current page. What differs per request
— the CSRF token of its two forms and the address the language form returns to — is
rendered as a placeholder and put in afterwards.
"""

from django import template
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from ocop.lru import LRU

register = template.Library()

_HEADERS = LRU(512)
CSRF_SLOT = "csrf0slot0header0c4e7a91"
NEXT_SLOT = "next0slot0header0c4e7a91"


def _key(context):
    request = context.get("request")
    user = context.get("user")
    match = getattr(request, "resolver_match", None)
    if user is None or not user.is_authenticated:
        return (get_language(), None)
    return (get_language(), user.pk, user.display_name, user.is_superuser,
            tuple((a.role, a.unit.name) for a in context.get("my_roles") or ()),
            tuple((e.key, e.url, e.current) for e in context.get("menu") or ()),
            getattr(match, "namespace", None) == "notices")


def _with_token(context):
    """False where the page carries no CSRF token (the public verification page, shared by
    proxies, sets ``csrf_token`` to ``"NOTPROVIDED"``). ``type``, not ``isinstance``: the
    usual value is a lazy token, which a check must not create."""
    token = context.get("csrf_token")
    return token is not None and not (type(token) is str and token == "NOTPROVIDED")


@register.simple_tag(takes_context=True)
def page_header(context):
    request = context.get("request")
    with_token = _with_token(context)
    key = (*_key(context), with_token)
    html = _HEADERS.get(key)
    if html is None:
        header = context.template.engine.get_template("web/_header.html")
        with context.push(csrf_token=CSRF_SLOT if with_token else "NOTPROVIDED",
                          language_next=NEXT_SLOT):
            html = _HEADERS.put(key, header.render(context).strip())
    path = escape(request.get_full_path()) if request is not None else ""
    if with_token and request is not None:
        html = html.replace(CSRF_SLOT, get_token(request))
    return mark_safe(html.replace(NEXT_SLOT, path))  # noqa: S308 - rendered, path escaped
