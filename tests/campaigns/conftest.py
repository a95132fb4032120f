import pytest


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    # Every test client request comes from 127.0.0.1; the rate-limit test sets its own limits.
    settings.RATE_LIMIT_SITE_PER_MINUTE = 10**9
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 10**9
