"""schemathesis over the whole API schema, as department staff, a district officer and a
council member of the demo data: 0 server errors, 0 responses outside the schema.

A small run inside ``make test`` (a few examples per operation, valid and invalid data);
``make fuzz`` runs the same test with many more (``OCOP_FUZZ_EXAMPLES``, default 200).
The app is called in-process through its WSGI handler, inside the test's transaction
(nothing the fuzzer writes survives the test)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

pytestmark = pytest.mark.django_db

#: Examples per operation and generation mode (``make fuzz`` raises it).
EXAMPLES = int(os.environ.get("OCOP_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
#: The demo's accounts: department staff, a district officer, a council member (chair).
USERS = ["sonn.cantho", "canbo.ninhkieu", "hd.ninhkieu.1"]


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The whole demo (accounts, councils, dossiers in every state), seeded once for the
    module inside a transaction that is rolled back afterwards (each test's own
    transaction nests in it as a savepoint): the other tests never see it."""
    from django.db import transaction

    from ocop.demo import seed_demo
    from ocop.regions.loader import load_units

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_units([92])
            seed_demo()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def wsgi_app(demo_world):
    """The WSGI application, without closing the test's database connection after each
    request (Django's test client does the same)."""
    from ocop.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def fuzz_operation(operation, mode, headers, failures):
    """Up to :data:`EXAMPLES` cases of one operation; failures are appended, not raised
    (no shrinking: the report lists each failing request as a curl command)."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        status = None
        try:
            response = case.call(headers=headers)
            status = response.status_code
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis: FailureGroup
            failures.append(f"{operation.label} [{mode}] {status}: {type(failure).__name__} "
                            f"{str(failure)[:600]}\n  {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:  # e.g. no invalid data exists for an operation without inputs
        pass


def fuzz(schema, headers):
    """Every operation, valid and invalid data; the failures found (empty = clean)."""
    failures = []
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(result.ok(), mode, headers, failures)
    return failures


@pytest.mark.parametrize("username", USERS)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(wsgi_app, username):
    from rest_framework.authtoken.models import Token

    from ocop.accounts.models import User

    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)

    failures = fuzz(schema, {"Authorization": f"Token {token.key}"})

    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])
