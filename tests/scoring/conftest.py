import pytest


@pytest.fixture(scope="module")
def loaded_criteria(django_db_setup, django_db_blocker):
    """All 52 shipped criteria files loaded once per test module.

    The load runs inside an outer transaction that is rolled back after the module; each
    test's own ``db`` transaction is a savepoint inside it, so tests still see a clean
    loaded state and nothing leaks to other modules.
    """
    from django.db import transaction

    from scoring.loader import load_criteria_files

    with django_db_blocker.unblock():
        with transaction.atomic():
            report = load_criteria_files()
            yield report
            transaction.set_rollback(True)


@pytest.fixture
def criteria_files():
    """{(folder, set_no): path} of the shipped YAML files."""
    from scoring.loader import DATA_DIR

    files = {}
    for path in sorted(DATA_DIR.rglob("*.yaml")):
        files[(path.parent.name, int(path.name[:2]))] = path
    return files
