#!/usr/bin/env bash
# `make run`: the embedded demo (SQLite db.sqlite3, Celery in-process, e-mail on the console)
# with OCOP_DEMO=1 (ocop/settings.py): DEBUG off, so visitors see the project's own 404/500
# pages; static files served by whitenoise; errors still logged here. Prints a few lines and
# ends with the address, the demo accounts and their password, then starts the server.
# Usage: scripts/run.sh [ADDR]   (default 127.0.0.1:8000; the Makefile passes RUN_ADDR)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${OCOP_PYTHON:-.venv/bin/python}
ADDR=${1:-127.0.0.1:8000}
# The embedded default whatever the shell exports.
unset DATABASE_URL REDIS_URL DEBUG
export OCOP_DEMO=1 OCOP_RUN_ADDR="$ADDR"

echo "==> Embedded demo: SQLite db.sqlite3, Celery in-process"
# The set-up steps log warnings and errors only (not every in-process task).
setup_env=(env LOG_LEVEL="${LOG_LEVEL:-WARNING}")
"${setup_env[@]}" "$PY" manage.py migrate --noinput -v0
echo "==> Database migrated"
"${setup_env[@]}" "$PY" manage.py load_units | sed 's/^/==> /'
"${setup_env[@]}" "$PY" manage.py seed_demo >/dev/null
echo "==> Demo data ready (seed_demo)"
echo
"${setup_env[@]}" "$PY" scripts/demo_accounts.py
echo
echo "OCOP demo: http://$ADDR/   (Ctrl-C to stop)"
echo
exec "$PY" manage.py runserver "$ADDR"
