"""Browser journeys with Playwright on Debian's Chromium (no browser download here)."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OCOP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


@pytest.fixture
def demo_live(transactional_db, live_server):
    """The demo units, accounts, regulations and open rounds (not the demo dossiers),
    visible to the live server thread. (A live-server test is flushed at its end, migration
    data included; the regulation steps put the regimes and checklists back.)"""
    from dossiers.demo import seed_rounds
    from ocop.demo import registered_steps, seed_demo

    seed_demo([*registered_steps(base=True), seed_rounds])
    return live_server



@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Marks the browser journeys ``e2e``. The accessibility module seeds the demo once and
    flushes the database when it ends (tests/e2e/test_accessibility.py): it runs after
    every other test — after the transactional tests pytest-django already puts last — so
    that no test after it misses the migrations' data (regimes, checklists)."""
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    last = [item for item in items if item.fspath.basename == "test_accessibility.py"]
    if last:
        items[:] = [item for item in items if item not in last] + last
