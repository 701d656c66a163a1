#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with a clear message.
# Order: $OCOP_BOOTSTRAP_PYTHON, python3.13 / python3.12 / python3 on PATH (each one is
# actually run, because a pyenv shim can exist for a version that is not active), then
# pyenv's installed 3.12.* / 3.13.* versions.
set -euo pipefail

ok() {
  # True when "$1" runs and is Python >= 3.12 (a pyenv shim for an inactive version fails).
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
    >/dev/null 2>&1
}

candidates=()
if [ -n "${OCOP_BOOTSTRAP_PYTHON:-}" ]; then
  candidates+=("$OCOP_BOOTSTRAP_PYTHON")
fi
for name in python3.13 python3.12 python3; do
  if path=$(command -v "$name" 2>/dev/null); then
    candidates+=("$path")
  fi
done

pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
  pyenv_root=$(pyenv root 2>/dev/null || true)
fi
pyenv_root=${pyenv_root:-${PYENV_ROOT:-$HOME/.pyenv}}
if [ -d "$pyenv_root/versions" ]; then
  # Newest patch release first within each minor version; 3.12 before 3.13.
  for minor in 3.12 3.13; do
    while IFS= read -r dir; do
      candidates+=("$dir/bin/python$minor")
    done < <(ls -d "$pyenv_root"/versions/"$minor".* 2>/dev/null | sort -rV)
  done
fi

for candidate in "${candidates[@]}"; do
  if ok "$candidate"; then
    # Resolve pyenv shims to the real interpreter so the venv does not depend on them.
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

{
  echo "ERROR: no Python >= 3.12 found (tried: ${candidates[*]:-nothing})."
  echo "The project needs Python 3.12 or newer (vietnam-provinces >= 2026.9)."
  echo "Install one (e.g. 'pyenv install 3.12' or Debian/Ubuntu's python3.12 + python3.12-venv),"
  echo "or point OCOP_BOOTSTRAP_PYTHON at an interpreter: make run OCOP_BOOTSTRAP_PYTHON=/path/to/python3.12"
} >&2
exit 1
