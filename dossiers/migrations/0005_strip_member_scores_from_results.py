"""Results recorded before the council-integrity change kept each council member's name and
scores in the dossier's timeline (``Transition.details["members"]``), readable by everybody
who sees the dossier. The timeline keeps only the council's aggregate now
(docs/councils.md); this removes the per-member data from the rows written earlier. The
council's own record (``councils.ItemResultRecord``) keeps them, shown by its rules."""

from django.db import migrations

PRIVATE_KEYS = ("members", "recused")


def strip(apps, schema_editor):
    Transition = apps.get_model("dossiers", "Transition")
    for row in Transition.objects.filter(to_state="result_recorded").only("pk", "details"):
        details = row.details if isinstance(row.details, dict) else {}
        if any(key in details for key in PRIVATE_KEYS):
            row.details = {k: v for k, v in details.items() if k not in PRIVATE_KEYS}
            row.save(update_fields=["details"])


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0004_dossier_list_order_index")]

    operations = [migrations.RunPython(strip, migrations.RunPython.noop)]
