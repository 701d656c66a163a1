import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cantho(db):
    """Cần Thơ in both structures (pre-2025 with its 9 districts, and current)."""
    from ocop.regions.loader import load_units
    from ocop.regions.models import AdministrativeUnit, Level

    load_units([92])
    units = AdministrativeUnit.objects
    return {
        "province_old": units.get(level=Level.PROVINCE, code="92", valid_to__isnull=False),
        "province": units.get(level=Level.PROVINCE, code="92", valid_to__isnull=True),
        "ninhkieu": units.get(level=Level.DISTRICT, code="916"),
        "phongdien": units.get(level=Level.DISTRICT, code="926"),
    }


@pytest.fixture
def make_user(db):
    from ocop.accounts.models import RoleAssignment, User

    def make(username, role=None, unit=None, password="pw-Test-2026", **extra):
        user = User.objects.create_user(username=username, password=password, **extra)
        if role:
            RoleAssignment.objects.create(user=user, role=role, unit=unit)
        return user

    return make


@pytest.fixture(scope="session", autouse=True)
def _celery_in_process():
    """Tasks run in-process in tests, also when REDIS_URL is set (``make test`` sets it for
    the cache): a test must see a task's result, not a message left in a queue."""
    from ocop.celery import app

    app.conf.update(task_always_eager=True, task_eager_propagates=True)


@pytest.fixture(autouse=True)
def _fresh_cache_versions():
    """Every test starts at new versions of the cached reference data and statistics
    (``ocop/versioned_cache.py``): the shared cache (Redis under ``make test``) outlives a
    test and a run, and the ids of a new test database are those of the last one."""
    from dossiers.stats import statistics
    from ocop.versioned_cache import reference

    reference.bump_now()
    statistics.bump_now()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Tests create hundreds of users; the production hasher (PBKDF2, ~0.3 s a password on
    this machine) would dominate the run."""
    from django.test import override_settings

    with override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Uploaded and generated files of the test run go to a temporary folder, never to the
    project's media/ (tests may still override MEDIA_ROOT themselves)."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture
def demo(db):
    """The demo units, accounts and regulations as ``seed_demo`` creates them (without the
    demo dossiers, which ``tests/dossiers/test_demo.py`` covers)."""
    from ocop.demo import seed_demo

    return seed_demo(base=True)


@pytest.fixture
def criteria(db):
    """The 148 criteria set 09 (fish sauce) and 26/2026 set 01, enough for most tests."""
    from scoring.loader import DATA_DIR, load_criteria_files

    load_criteria_files([
        DATA_DIR / "148" / "09-tuong-nuoc-mam-gia-vi-dang-long-khac.yaml",
        DATA_DIR / "26-2026" / "01-rau-cu-qua-hat-tuoi.yaml",
    ])



@pytest.fixture
def era_148(request):
    """The test (from this fixture's set-up to its teardown) runs on ``factories.DAY_148``
    (10/06/2024 10:00 in Việt Nam), a day 148 was in force and the districts existed, so
    that dossiers may be created and submitted in the factories' 148 district rounds (the
    law in force at the date, docs/regimes-and-levels.md). The clock ticks from there.
    A module: ``pytestmark = pytest.mark.usefixtures("era_148")``; a fixture of 148
    dossiers: take ``era_148`` as an argument; a block: ``with factories.era_148():``.
    Never with a live server: the browser keeps the real clock (the e2e tests use the
    demo, coherent with today)."""
    if "live_server" in request.fixturenames:
        pytest.fail("era_148 moves the server's clock, not the browser's: not for e2e tests")
    from tests.factories import era_148 as travel

    with travel():
        yield
