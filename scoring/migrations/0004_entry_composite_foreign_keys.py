"""On PostgreSQL, make the database itself refuse an entry whose option is not of its
criterion, or whose criterion is not of the sheet's criteria set (composite foreign keys;
Django has no composite ForeignKey). The services check the same on every database."""

from django.db import migrations

from ocop.migration_ops import postgresql_only

CREATE = """
ALTER TABLE scoring_scoreentry
    ADD CONSTRAINT scoreentry_sheet_same_set
    FOREIGN KEY (sheet_id, criteria_set_id)
    REFERENCES scoring_scoresheet (id, criteria_set_id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE scoring_scoreentry
    ADD CONSTRAINT scoreentry_criterion_same_set
    FOREIGN KEY (criterion_id, criteria_set_id)
    REFERENCES scoring_criterion (id, criteria_set_id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE scoring_scoreentry
    ADD CONSTRAINT scoreentry_option_of_criterion
    FOREIGN KEY (option_id, criterion_id, criteria_set_id)
    REFERENCES scoring_option (id, criterion_id, criteria_set_id) DEFERRABLE INITIALLY DEFERRED;
"""

DROP = """
ALTER TABLE scoring_scoreentry DROP CONSTRAINT IF EXISTS scoreentry_option_of_criterion;
ALTER TABLE scoring_scoreentry DROP CONSTRAINT IF EXISTS scoreentry_criterion_same_set;
ALTER TABLE scoring_scoreentry DROP CONSTRAINT IF EXISTS scoreentry_sheet_same_set;
"""


class Migration(migrations.Migration):
    dependencies = [("scoring", "0003_scoreentry_scoresheet_and_more")]
    operations = [postgresql_only(CREATE, DROP)]
