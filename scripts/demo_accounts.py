"""Print the demo accounts, one line each, and their password: the end of ``make run``.

Run with the project's Python from the repository root (scripts/run.sh does):
``python scripts/demo_accounts.py``. Reads the accounts ``seed_demo`` wrote (ocop/demo.py,
councils/demo.py), so the list follows the data; labels in the interface's language.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def account_lines():
    """``[(username, description)]`` of the demo accounts: the superuser, the officers and
    staff (role and area), then the council members (role and council)."""
    from django.apps import apps

    from ocop.accounts.models import Role, RoleAssignment, User
    from ocop.demo import ACCOUNTS

    lines = []
    if User.objects.filter(username="admin", is_superuser=True).exists():
        lines.append(("admin", f"{Role.ADMIN.label} (Django admin)"))
    assignments = RoleAssignment.objects.filter(user__username__in=list(ACCOUNTS))
    roles = {}
    for a in assignments.select_related("user", "unit").order_by("pk"):
        roles.setdefault(a.user.username, []).append(f"{a.get_role_display()}, {a.unit.name}")
    lines += [(username, "; ".join(roles[username])) for username in ACCOUNTS if username in roles]
    if apps.is_installed("councils"):
        member = apps.get_model("councils", "CouncilMember")
        members = member.objects.filter(user__username__startswith="hd.").select_related(
            "user", "council").order_by("council__pk", "order", "pk")
        lines += [(m.user.username, f"{m.get_role_display()}, {m.council.name}")
                  for m in members]
    return lines


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    from ocop.demo import DEMO_PASSWORD

    translation.activate(settings.LANGUAGE_CODE)
    lines = account_lines()
    width = max((len(username) for username, _ in lines), default=0)
    print("Demo accounts:")
    for username, description in lines:
        print(f"  {username:<{width}}  {description}")
    print(f"Password (every account): {DEMO_PASSWORD}")


if __name__ == "__main__":
    main()
