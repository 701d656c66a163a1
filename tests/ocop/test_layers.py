"""The layers hold: ``ocop`` ← ``scoring`` ← ``dossiers`` ← ``councils``, nothing imports
upward, and ``scoring.rules`` stays pure — the import-linter contracts of
``[tool.importlinter]`` in ``pyproject.toml`` (``lint-imports`` also runs in
``scripts/test.sh``). The contracts are shown to bite on a copy of the four packages with a
deliberately added backward import. The kernel's hooks that replace the upward imports are
wired by the apps' ``AppConfig.ready()``."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ocop", "scoring", "dossiers", "councils")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd, **env):
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: pip install -e '.[test]'"
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd, capture_output=True,
        text=True, timeout=60, env={**os.environ, **env})
    return result.returncode, result.stdout + result.stderr


def importlinter_config():
    """The ``[tool.importlinter]`` tables of the project's pyproject.toml, as written."""
    lines, inside = [], False
    for line in (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            inside = line.lstrip("[").startswith("tool.importlinter")
        if inside:
            lines.append(line)
    assert lines, "pyproject.toml has no [tool.importlinter]"
    return "\n".join(lines) + "\n"


def _python_only(directory, names):
    """shutil.copytree ignore: the sources only (no caches, migrations or data files)."""
    return [name for name in names
            if name in ("__pycache__", "migrations")
            or (not name.endswith(".py") and not (Path(directory) / name).is_dir())]


@pytest.fixture
def copy(tmp_path):
    """The four packages' sources and the same contracts, in ``tmp_path``."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_python_only)
    (tmp_path / "pyproject.toml").write_text(importlinter_config(), encoding="utf-8")
    return tmp_path


def lint_copy(copy):
    return lint_imports(copy, PYTHONPATH=str(copy))


def test_the_project_keeps_its_import_contracts():
    returncode, output = lint_imports(ROOT)

    assert returncode == 0, output


@pytest.mark.parametrize(("module", "line", "expected"), [
    # the layers: scoring sits below councils
    ("scoring/queries.py", "from councils import models", "scoring.queries -> councils"),
    # the pure scoring rules import no framework
    ("scoring/rules.py", "from django.db import models",
     "scoring.rules is not allowed to import django"),
])
def test_a_backward_import_breaks_a_contract(copy, module, line, expected):
    _before, output_before = lint_copy(copy)
    with open(copy / module, "a", encoding="utf-8") as source:
        source.write(f"\n{line}  # noqa\n")

    returncode, output = lint_copy(copy)

    assert expected not in output_before
    assert returncode != 0
    assert expected in output


def test_the_apps_register_the_demo_steps_in_order():
    from ocop.demo import registered_steps

    def names(steps):
        return [f"{step.__module__}.{step.__name__}" for step in steps]

    assert names(registered_steps()) == [
        "ocop.demo.seed_units", "ocop.demo.seed_accounts", "scoring.demo.seed_regulations",
        "dossiers.demo.seed_checklists", "dossiers.demo.seed_dossiers",
        "councils.demo.seed_councils", "dossiers.demo.seed_expiry",
        "dossiers.demo_oversight.seed_oversight"]
    assert names(registered_steps(base=True)) == names(registered_steps())[:4]


def test_a_demo_step_order_is_unambiguous():
    from ocop.demo import register_step

    def another_step(ctx):
        pass

    with pytest.raises(ValueError, match="order 30"):
        register_step(another_step, order=30)


def test_the_apps_register_their_home_panel_and_dossier_reader():
    from councils.readers import agenda_dossier_ids
    from dossiers.home import home_panel
    from dossiers.queries import _readers
    from ocop.web.panels import _panels

    assert home_panel in _panels
    assert agenda_dossier_ids in _readers
