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



#: The module that runs after every other browser journey (see the hook below).
LAST_MODULE = "test_role_journeys.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Marks the browser journeys ``e2e`` and runs them after every other test (after the
    other hooks' ordering): a live-server test flushes the database when it ends, the
    migrations' data (regimes, checklists) included, which the tests after it would miss.
    The role journeys, which seed the demo once and flush at their end
    (tests/e2e/test_role_journeys.py), run last of all."""
    browser, last = [], []
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            (last if item.fspath.basename == LAST_MODULE else browser).append(item)
    if browser or last:
        chosen = set(browser) | set(last)
        items[:] = [item for item in items if item not in chosen] + browser + last
