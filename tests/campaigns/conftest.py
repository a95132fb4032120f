import pytest
from django.db import connection

from campaigns.tally import drain as tally
from tests.campaigns.folds import FOLDS, PYTHON, SQL_NEEDS_POSTGRESQL, python_tally_batch


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    # Every test client request comes from 127.0.0.1; the rate-limit test sets its own limits.
    settings.RATE_LIMIT_SITE_PER_MINUTE = 10**9
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 10**9


@pytest.fixture(params=FOLDS)
def tally_fold(request, monkeypatch) -> str:
    """Runs a tally test once with each fold: tally.tally_batch (and so tally_drain) folds with the one named.

    The SQL fold runs only on PostgreSQL; the Python fold runs on either, so CI (PostgreSQL) tests both.
    """
    if request.param == PYTHON:
        if connection.vendor == "postgresql":
            monkeypatch.setattr(tally, "tally_batch", python_tally_batch)
    elif connection.vendor != "postgresql":
        pytest.skip(SQL_NEEDS_POSTGRESQL)
    return request.param
