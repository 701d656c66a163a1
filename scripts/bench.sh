#!/usr/bin/env bash
# Run every benchmarks/*.py with the project's Python, against the services that
# scripts/services.sh exports (make bench runs it that way). Fails on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${OCOP_PYTHON:-.venv/bin/python}
export DJANGO_SETTINGS_MODULE=ocop.settings
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

shopt -s nullglob
benches=(benchmarks/*.py)
if [ ${#benches[@]} -eq 0 ]; then
  echo "==> No benchmarks yet (benchmarks/*.py): nothing to run"
  exit 0
fi
ran=0
for bench in "${benches[@]}"; do
  case $(basename "$bench") in __init__.py | conftest.py) continue ;; esac
  echo "==> $PY $bench"
  "$PY" "$bench"
  ran=$((ran + 1))
done
echo "==> $ran benchmark file(s) done"
