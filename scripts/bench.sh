#!/usr/bin/env bash
# Run every benchmarks/*.py with the project's Python, against the services that
# scripts/services.sh exports (make bench runs it that way). Runs them all; fails at the
# end if any missed its target.
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
missed=()
for bench in "${benches[@]}"; do
  # _*.py are shared helpers (benchmarks/_common.py), not benchmarks
  case $(basename "$bench") in __init__.py | conftest.py | _*.py) continue ;; esac
  echo "==> $PY $bench"
  "$PY" "$bench" || missed+=("$bench")
  ran=$((ran + 1))
done
echo "==> $ran benchmark file(s) done"
if [ ${#missed[@]} -gt 0 ]; then
  echo "==> missed its target or failed: ${missed[*]}" >&2
  exit 1
fi
