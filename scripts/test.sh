#!/usr/bin/env bash
# Lint, migration check and the test suite. Run through scripts/services.sh (make test does),
# which exports DATABASE_URL / REDIS_URL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${OCOP_PYTHON:-.venv/bin/python}
VENV_BIN=$(dirname "$PY")
export DJANGO_SETTINGS_MODULE=ocop.settings

: "${DATABASE_URL:?DATABASE_URL is not set: run through scripts/services.sh exec (make test)}"
echo "==> Tests against DATABASE_URL=$DATABASE_URL REDIS_URL=${REDIS_URL:-}"

# The browser journeys keep a screenshot of each role's home (tests/e2e/helpers.py); CI keeps
# the directory (git-ignored: /test-results/).
export OCOP_SCREENSHOTS="${OCOP_SCREENSHOTS:-$PWD/test-results/screenshots}"

echo "==> ruff check ."
"$VENV_BIN/ruff" check .

echo "==> lint-imports (layers and contracts: [tool.importlinter] in pyproject.toml)"
"$VENV_BIN/lint-imports" --no-cache --no-logo

echo "==> manage.py makemigrations --check --dry-run"
"$PY" manage.py makemigrations --check --dry-run

echo "==> python -m pytest -p no:cacheprovider $*"
rc=0
"$PY" -m pytest -p no:cacheprovider -ra "$@" || rc=$?
shots=$(find "$OCOP_SCREENSHOTS" -maxdepth 1 -name '*.png' 2>/dev/null | wc -l || true)
echo "==> $shots screenshot(s) of the browser journeys in $OCOP_SCREENSHOTS"
if [ "$rc" -eq 0 ]; then
  echo "==> pytest passed"
else
  echo "==> pytest failed with exit code $rc (5 = no tests collected)" >&2
fi
exit "$rc"
