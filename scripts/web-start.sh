#!/usr/bin/env bash
# Start command of the `web` container (docker-compose.yml): apply migrations (unless
# MIGRATE_ON_START=0), collect static files (whitenoise serves them), then hand the process
# over to gunicorn.
# Works outside Docker too, with the production variables set and the venv's bin on PATH
# (or OCOP_PYTHON=.venv/bin/python).
#
# collectstatic with hashed + compressed files takes about a minute on 2 cores, and the image
# already ran it at build time. COLLECTSTATIC_ON_START=auto (default) runs it only when no
# manifest exists or a project static file is newer than it (e.g. code bind-mounted in);
# 1 always runs it, 0 never does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${OCOP_PYTHON:-python}
MANIFEST=staticfiles/staticfiles.json
MODE=${COLLECTSTATIC_ON_START:-auto}

# Migrations run as the owner role (MIGRATION_DATABASE_URL) in scripts/migrate.sh, which then
# grants the application role (DATABASE_URL) its privileges. MIGRATE_ON_START=0 skips this
# (docker compose: the one-shot `migrate` service has done it, and web never sees the owner).
if [ "${MIGRATE_ON_START:-1}" = 1 ]; then
  OCOP_PYTHON="$PY" bash scripts/migrate.sh
else
  echo "==> MIGRATE_ON_START=0: skipping migrate"
fi

static_is_current() {
  [ -f "$MANIFEST" ] || return 1
  [ -z "$(find . \( -path ./.venv -o -path ./staticfiles -o -path ./.git \) -prune -o \
          -path '*/static/*' -type f -newer "$MANIFEST" -print -quit)" ]
}
if [ "$MODE" = 1 ] || { [ "$MODE" = auto ] && ! static_is_current; }; then
  echo "==> manage.py collectstatic"
  "$PY" manage.py collectstatic --noinput
elif [ "$MODE" = auto ]; then
  echo "==> Static files already collected ($MANIFEST is newer than every static file); skipping collectstatic"
else
  echo "==> COLLECTSTATIC_ON_START=0: skipping collectstatic"
fi

echo "==> gunicorn -c gunicorn.conf.py ocop.wsgi:application"
exec "$PY" -m gunicorn -c gunicorn.conf.py ocop.wsgi:application
