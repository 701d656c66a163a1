#!/usr/bin/env bash
# PostgreSQL container init (docker-compose.yml mounts this folder on
# /docker-entrypoint-initdb.d; it runs once, when the data volume is created): create the
# application's role, which owns nothing. The owner of the database and of every table is
# POSTGRES_USER; only the one-shot `migrate` service connects as it (migrate, then
# `manage.py grant_app_role`). web, worker and beat connect as POSTGRES_APP_USER.
#
# Idempotent, so it also upgrades an existing volume (init scripts do not run again there):
#   docker compose exec db bash /docker-entrypoint-initdb.d/10-app-role.sh
# It (re)sets the role's password to POSTGRES_APP_PASSWORD.
set -euo pipefail

: "${POSTGRES_APP_USER:=ocop_app}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD (password of the application role)}"
: "${POSTGRES_DB:=${POSTGRES_USER:-postgres}}"

if [ "$POSTGRES_APP_USER" = "${POSTGRES_USER:-postgres}" ]; then
  echo "POSTGRES_APP_USER must differ from POSTGRES_USER (the owner)" >&2
  exit 1
fi

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "$POSTGRES_DB" \
     -v app_user="$POSTGRES_APP_USER" -v app_password="$POSTGRES_APP_PASSWORD" \
     -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS PASSWORD %L', :'app_user', :'app_password') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'app_user') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'app_user') \gexec
SQL
echo "Application role \"$POSTGRES_APP_USER\" is ready; the migrate service grants it the tables."
