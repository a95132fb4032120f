"""The REST API fuzzed from its own OpenAPI schema (schemathesis): never a 5xx, responses match the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from retarget.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def wsgi_in_test_transaction(db):
    """As Django's test client does: the test's transaction must outlive each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_without_a_server_error(
    case, wsgi_in_test_transaction, owner, site, campaign, outsider_campaign
):
    token, _ = Token.objects.get_or_create(user=owner)
    # Semantic validation (a rule's operator, an origin's shape) refuses some schema-valid bodies: by design.
    # Refusing anonymous callers is tested in test_api_sites.py.
    case.call_and_validate(
        headers={"Authorization": f"Token {token.key}"}, excluded_checks=[positive_data_acceptance, ignored_auth]
    )
