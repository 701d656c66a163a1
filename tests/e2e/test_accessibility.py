"""Every role's main pages pass axe-core (issue "Every role's front door", Accessibility):
WCAG 2.1 A/AA, no violation of impact serious or critical (tests/e2e/axe.py).

As each demo role — ``sonn.cantho`` (department), ``canbo.phuongninhkieu`` (ward officer),
``hd.cantho.1`` (council chair), ``hd.cantho.2`` (council member) — and as an anonymous
visitor (the login page, the public verification page of a demo certificate): start at the
home page and reach the main pages by clicking links, at 1366×800 and at 390×844, checking
each page. Seeded with the whole demo (``seed_demo``: dossiers, councils, the expiry run and
the oversight), so every page has content.

A page whose known violations sit in a template another change is editing is listed in
``KNOWN`` with its reason: its violations make the test xfail (with the list) instead of
failing, while every other page must be clean.
"""

import os
import re

import pytest
from playwright.sync_api import expect

from dossiers.models import Rating
from tests.e2e.helpers import log_in

from .axe import describe, violations

# The test database is set up for these tests (their data come from ``full_demo``, committed
# once; each test's own transaction only wraps its reads).
pytestmark = pytest.mark.django_db

VIEWPORTS = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}

#: page key → why its violations are expected for now (fixed in a template being edited
#: elsewhere; see the report of this change).
KNOWN = {}


@pytest.fixture(scope="module")
def full_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole demo (every registered step: accounts, rounds, dossiers, councils, the
    expiry run, the oversight), seeded ONCE for this module — it takes half a minute — and
    served by a live server of this module; flushed at the end like any live-server test.

    Not pytest-django's ``live_server``: a test using it gets ``transactional_db``, which
    flushes the database after each test. The pages are only read here, so the tests share
    the data."""
    from django.core.management import call_command
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    from ocop.demo import seed_demo

    with django_db_blocker.unblock():
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        overrides = override_settings(
            MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), CELERY_TASK_ALWAYS_EAGER=True,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            PUBLIC_BASE_URL=server.url)
        overrides.enable()
        try:
            seed_demo()
            yield server
        finally:
            overrides.disable()
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


class Checker:
    """Runs axe on each page reached; collects the violations of the KNOWN pages apart."""

    def __init__(self, page, base):
        self.page, self.base = page, base
        self.failures, self.expected, self.checked, self.typed = [], [], [], []

    def check(self, key):
        self.page.wait_for_load_state("load")
        status = self.page.evaluate(
            "performance.getEntriesByType('navigation')[0].responseStatus")
        assert status == 200, f"{key}: {self.page.url} answered {status}"
        found = violations(self.page)
        name = f"{key} ({self.viewport}, {self.page.url.removeprefix(self.base)})"
        self.checked.append(name)
        if found:
            text = describe(found, name)
            if os.environ.get("OCOP_AXE_DUMP"):
                print("\n" + text)
            (self.expected if key in KNOWN else self.failures).append(text)

    def follow(self, pattern, *, within="body", fallback=None):
        """Click the first link whose path matches ``pattern`` (a visible one if any; on a
        phone a collapsed menu may hide it, then its address is followed)."""
        regex = re.compile(pattern)
        links = self.page.locator(within).locator("a[href]")
        hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        hits = [i for i, href in enumerate(hrefs)
                if regex.fullmatch(href.split("?")[0].split("#")[0])]
        if not hits and fallback:
            # not linked from the home page yet (another part of the issue adds it)
            self.typed.append(f"{fallback} ({self.page.url.removeprefix(self.base)})")
            self.page.goto(self.base + fallback)
            return
        assert hits, f"no link matching {pattern} on {self.page.url}"
        for i in hits:
            link = links.nth(i)
            if link.is_visible():
                link.click()
                break
        else:
            self.page.goto(self.base + hrefs[hits[0]])
        expect(self.page).to_have_url(re.compile(re.escape(self.base) + pattern))

    def home(self):
        self.page.goto(self.base + "/")  # the start of each walk: the home page

    def visit(self, key, *steps):
        """From the home page, follow ``steps`` (path patterns) and check the page."""
        self.home()
        for i, step in enumerate(steps):
            # the first link may be missing from a home page: then its path is typed
            self.follow(step, fallback=step if i == 0 else None)
        self.check(key)

    def finish(self):
        if self.typed and os.environ.get("OCOP_AXE_DUMP"):
            print("\nnot linked from the home page:", *self.typed, sep="\n  ")
        assert not self.failures, "\n\n".join(self.failures)
        if self.expected:
            pytest.xfail("known violations (templates edited elsewhere):\n\n"
                         + "\n\n".join(self.expected))


def walk(page, base, username, visits):
    checker = Checker(page, base)
    page.set_default_timeout(15_000)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        checker.viewport = viewport
        if username:
            page.context.clear_cookies()
            log_in(page, base, username)
        for key, *steps in visits(checker):
            checker.visit(key, *steps)
    checker.finish()
    return checker


def test_department_pages(page, full_demo):
    def visits(c):
        return [
            ("home",),
            ("dossier-list", r"/dossiers/"),
            ("dossier", r"/dossiers/", r"/dossiers/\d+/"),
            ("rating-list", r"/ratings/"),
            ("rating", r"/ratings/", r"/ratings/\d+/"),
            ("decision-list", r"/decisions/"),
            ("decision", r"/decisions/", r"/decisions/\d+/"),
            ("decisions-pending", r"/decisions/pending/"),
            ("inspection-list", r"/inspections/"),
            ("inspection", r"/inspections/", r"/inspections/\d+/"),
            ("revocation-list", r"/inspections/revocations/"),
            ("notifications", r"/notifications/"),
            ("council-list", r"/councils/"),
            ("council", r"/councils/", r"/councils/\d+/"),
            ("session", r"/councils/", r"/councils/\d+/", r"/councils/sessions/\d+/"),
            ("criteria-index", r"/criteria/"),
            ("criteria-set", r"/criteria/", r"/criteria/\d+/"),
        ]
    walk(page, full_demo.url, "sonn.cantho", visits)


def test_ward_officer_pages(page, full_demo):
    def visits(c):
        return [
            ("home",),
            ("dossier-list", r"/dossiers/"),
            ("dossier", r"/dossiers/", r"/dossiers/\d+/"),
            ("rating-list", r"/ratings/"),
            ("notifications", r"/notifications/"),
            ("criteria-index", r"/criteria/"),
        ]
    walk(page, full_demo.url, "canbo.phuongninhkieu", visits)


def test_council_chair_pages(page, full_demo):
    def visits(c):
        return [
            ("home",),
            ("council-list", r"/councils/"),
            ("session", r"/councils/", r"/councils/\d+/", r"/councils/sessions/\d+/"),
            ("tracker", r"/councils/", r"/councils/\d+/", r"/councils/sessions/\d+/",
             r"/councils/sessions/\d+/tracker/"),
            ("results", r"/councils/", r"/councils/\d+/", r"/councils/sessions/\d+/",
             r"/councils/sessions/\d+/results/"),
            ("my-sessions", r"/councils/sessions/mine/"),
        ]
    walk(page, full_demo.url, "hd.cantho.1", visits)


def test_council_member_pages(page, full_demo):
    def visits(c):
        return [
            ("home",),
            ("my-sessions", r"/councils/sessions/mine/"),
            ("agenda", r"/councils/sessions/mine/", r"/councils/sessions/\d+/agenda/"),
            ("scoresheet", r"/councils/sessions/mine/", r"/councils/sessions/\d+/agenda/",
             r"/councils/sessions/\d+/dossiers/\d+/sheet/"),
            ("criteria-index", r"/criteria/"),
            ("criteria-set", r"/criteria/", r"/criteria/\d+/"),
        ]
    walk(page, full_demo.url, "hd.cantho.2", visits)


def test_anonymous_pages(page, full_demo):
    base = full_demo.url
    rating = Rating.objects.exclude(verification_code="").order_by("pk").first()
    assert rating is not None

    def visits(c):
        return [("login",), ("verification",)]

    checker = Checker(page, base)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        checker.viewport = viewport
        page.goto(f"{base}/")
        expect(page).to_have_url(re.compile(r"/login/"))
        checker.check("login")
        page.goto(f"{base}/xac-minh/{rating.verification_code}/")
        expect(page.locator("body")).to_contain_text(rating.product.name)
        checker.check("verification")
    checker.finish()
