"""Home page panels: the hook through which the apps fill the one home page (the kernel
imports no app).

An app registers a panel function in its ``AppConfig.ready()``::

    from ocop.web.panels import register_panel
    register_panel(home_panel)

``home_panel(user, context)`` gets the logged-in user and the home page's context so far
(the kernel's ``department_units``, ``officer_units`` and ``show_admin``, plus what the
panels registered before it added) and returns a dict of context variables for
``web/home.html``, or None when it has nothing for this user. Panels run in the order they
were registered (the order of ``INSTALLED_APPS``).

A panel may return ``menu_facts`` (``{fact name: bool}``, see ``ocop.web.menu``): the home
view stores them in the session for the menu, so the menu follows a change of role (e.g. a
new council seat) from the next visit to the home page without a query of its own.
"""

_panels = []


def register_panel(fn):
    """Add ``fn(user, context) -> dict | None`` to the home page (once, whatever the number
    of calls: ``ready()`` may run more than once)."""
    if fn not in _panels:
        _panels.append(fn)
    return fn


def panel_context(user, context):
    """``context`` updated with the fragments of every registered panel."""
    for panel in _panels:
        fragment = panel(user, context)
        if fragment:
            context.update(fragment)
    return context
