#!/usr/bin/env bash
# Create the virtualenv if missing and install the project (editable, with test extras)
# only when pyproject.toml is newer than the stamp file, so repeat runs take milliseconds.
# Usage: scripts/venv.sh [VENV_DIR] [run]   (default .venv, relative to the repository root)
# With "run" (make run) only what running needs is installed (pip install -e ., quietly),
# under its own stamp; a venv with the test extras already up to date serves as well.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${1:-${VENV:-.venv}}
mode=${2:-test}
python="$venv/bin/python"
stamp="$venv/.ocop-installed"
run_stamp="$venv/.ocop-installed-run"

venv_ok() {
  [ -x "$python" ] && "$python" -c \
    'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

if ! venv_ok; then
  if [ -e "$venv" ]; then
    echo "==> $venv exists but has no working Python >= 3.12: recreating it"
    rm -rf "$venv"
  fi
  base=$(scripts/find-python.sh)
  echo "==> Creating $venv with $base ($("$base" -V 2>&1))"
  "$base" -m venv "$venv"
  rm -f "$stamp"
fi

current() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }

if [ "$mode" = run ]; then
  if current "$stamp" || current "$run_stamp"; then
    exit 0
  fi
  echo "==> Installing the project into $venv (pip install -e .; a minute on the first run)"
  "$python" -m pip install --quiet --disable-pip-version-check --progress-bar off -e .
  touch "$run_stamp"
  exit 0
fi

if current "$stamp"; then
  echo "==> $venv is up to date ($("$python" -V 2>&1); pyproject.toml unchanged since last install)"
  exit 0
fi

echo "==> Installing the project and its test extras into $venv (pip install -e '.[test]')"
pip_flags=(--disable-pip-version-check)
if [ -n "${CI:-}" ]; then
  pip_flags+=(--progress-bar off --no-input)
fi
"$python" -m pip install "${pip_flags[@]}" -e '.[test]'
touch "$stamp"
echo "==> $venv ready"
