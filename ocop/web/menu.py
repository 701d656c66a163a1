"""The main menu: which entries each user sees (the one place; ``templates/base.html`` only
draws them).

Who sees what (issue #13, "each role sees its own menu"):

=============================  ========================================================
entry                          shown to
=============================  ========================================================
Home, Criteria sets,           everybody logged in
Notifications
Dossiers, Decisions, Ratings   local officers, department staff, administrators
Councils                       those who manage councils: department staff, officers of
                               a province or district (under 148 the district runs its
                               own council, docs/councils.md), administrators
Inspections                    department staff, local officers, administrators
                               (docs/ratings-lifecycle.md)
My scoring sessions            members of a council (whatever their account roles)
Administration                 administrators
API                            administrators and department staff (the only roles with
                               an API use today: the province's exchanges)
=============================  ========================================================

Council membership lives in the councils app, which the kernel does not import: the app
registers a *fact* (``register_fact("council_member", fn)``). Facts are read when the user
logs in and again on the home page, and kept in the session, so that the menu costs no
query on any other page; a membership given while the user is logged in shows in the menu
from their next visit to the home page.
"""

from dataclasses import dataclass

from django.contrib.auth.signals import user_logged_in
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, role_units
from ocop.regions.models import Level

SESSION_KEY = "menu_facts"

_facts = {}


def register_fact(name, fn):
    """Add a fact ``fn(user) -> bool`` the menu may ask for (once per name)."""
    _facts[name] = fn
    return fn


def read_facts(user):
    return {name: bool(fn(user)) for name, fn in _facts.items()}


def refresh_facts(request, facts=None):
    """Store the user's facts in the session: ``facts`` (those a home panel learnt) over the
    ones kept; all of them read now when ``facts`` is None."""
    kept = request.session.get(SESSION_KEY) or {}
    values = read_facts(request.user) if facts is None else {**kept, **facts}
    if request.session.get(SESSION_KEY) != values:
        request.session[SESSION_KEY] = values


def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = read_facts(user)


user_logged_in.connect(_on_login, dispatch_uid="ocop.web.menu.facts")


#: Council member pages (councils namespace) that belong to "My scoring sessions".
MEMBER_PAGES = {"my-sessions", "member-agenda", "sheet", "recusal"}


@dataclass(frozen=True)
class Entry:
    key: str
    label: str
    url: str
    current: bool = False


def audiences(user, facts):
    """The set of audience names the user belongs to (the first column's "who")."""
    found = set()
    if is_admin(user):
        found.add("admin")
    roles = {}
    for role, unit in ((r, u) for r in (Role.DEPARTMENT_STAFF, Role.LOCAL_OFFICER)
                       for u in role_units(user, r)):
        roles.setdefault(role, []).append(unit)
    if Role.DEPARTMENT_STAFF in roles:
        found.add("department")
    if Role.LOCAL_OFFICER in roles:
        found.add("officer")
        if any(unit.level in (Level.PROVINCE, Level.DISTRICT)
               for unit in roles[Role.LOCAL_OFFICER]):
            found.add("council_manager")
    if found & {"admin", "department"}:
        found.add("council_manager")
    if facts.get("council_member"):
        found.add("member")
    return found


EVERYONE = None
STAFF = {"admin", "department", "officer"}

#: (key, label, url name, audiences or EVERYONE, namespaces marking the current page)
ENTRIES = [
    ("home", _("Home"), "home", EVERYONE, ()),
    ("dossiers", _("Dossiers"), "dossiers:list", STAFF, ("dossiers",)),
    ("councils", _("Councils"), "councils:council-list", {"council_manager"}, ("councils",)),
    ("my-sessions", _("My scoring sessions"), "councils:my-sessions", {"member"}, ()),
    ("decisions", _("Decisions"), "decisions:list", STAFF, ("decisions",)),
    ("ratings", _("Ratings"), "ratings:list", STAFF, ("ratings",)),
    ("inspections", _("Inspections"), "inspections:list", STAFF, ("inspections",)),
    ("stats", _("Statistics"), "stats:dashboard", STAFF, ("stats",)),
    ("criteria", _("Criteria sets"), "scoring:criteria-index", EVERYONE, ("scoring",)),
    ("admin", _("Administration"), "admin:index", {"admin"}, ("admin",)),
    ("api", _("API"), "api-docs", {"admin", "department"}, ()),
]


def _current(key, namespaces, match):
    if match is None:
        return False
    namespace = match.namespace or ""
    if key == "home":
        return match.url_name == "home" and not namespace
    if key == "my-sessions":
        return namespace == "councils" and match.url_name in MEMBER_PAGES
    if key == "councils" and match.url_name in MEMBER_PAGES:
        return False
    return any(namespace == ns or namespace.startswith(ns + ":") for ns in namespaces)


def menu_for(user, facts=None, match=None):
    """The menu entries of ``user`` (a list of :class:`Entry`, in menu order);
    ``facts`` as kept in the session, ``match`` the request's ``resolver_match``."""
    if not user.is_authenticated:
        return []
    who = audiences(user, facts or {})
    return [Entry(key, label, reverse(url_name), _current(key, namespaces, match))
            for key, label, url_name, audience, namespaces in ENTRIES
            if audience is EVERYONE or who & audience]
