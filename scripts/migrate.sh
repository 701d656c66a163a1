#!/usr/bin/env bash
# Apply the migrations as the owner of the tables, then grant the application's role what it
# needs (manage.py grant_app_role): the one-shot `migrate` service of docker-compose.yml, and
# the first step of scripts/web-start.sh outside Docker.
#
#   MIGRATION_DATABASE_URL  the owner (schema changes); DATABASE_URL  the application role
#                           (web and workers), which owns nothing: it may read and write the
#                           tables but not alter them, and only read and append the audit log.
#
# Without MIGRATION_DATABASE_URL the migrations run as DATABASE_URL's own role (a single-role
# set-up, e.g. development): that role then owns the tables and could disable the audit log's
# trigger. Production sets both (README, "Database roles").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${OCOP_PYTHON:-python}

if [ -z "${MIGRATION_DATABASE_URL:-}" ]; then
  echo "==> manage.py migrate (MIGRATION_DATABASE_URL unset: as the application's own role)"
  exec "$PY" manage.py migrate --noinput
fi

APP_ROLE=$("$PY" -c 'import os, dj_database_url
print(dj_database_url.parse(os.environ["DATABASE_URL"])["USER"])')
OWNER=$(MIGRATION_DATABASE_URL="$MIGRATION_DATABASE_URL" "$PY" -c 'import os, dj_database_url
print(dj_database_url.parse(os.environ["MIGRATION_DATABASE_URL"])["USER"])')
if [ -z "$APP_ROLE" ] || [ "$APP_ROLE" = "$OWNER" ]; then
  echo "ERROR: DATABASE_URL must name the application role, another role than the owner" \
       "in MIGRATION_DATABASE_URL (\"$OWNER\")." >&2
  exit 1
fi

echo "==> manage.py migrate (as the owner \"$OWNER\")"
DATABASE_URL="$MIGRATION_DATABASE_URL" "$PY" manage.py migrate --noinput
echo "==> manage.py grant_app_role $APP_ROLE"
DATABASE_URL="$MIGRATION_DATABASE_URL" "$PY" manage.py grant_app_role "$APP_ROLE"
