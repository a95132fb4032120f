"""What an unreachable service raises: the database or Redis down, restarting, or too slow to answer.

The public endpoints answer these with 503 and Retry-After (the widget keeps its events and sends them again);
any other exception is a bug and stays one.
"""

import redis
from django.db import InterfaceError, OperationalError

DATABASE_ERRORS = (OperationalError, InterfaceError)
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


class Unavailable(Exception):
    """A part of the app that could not reach its database or Redis said so (the collect writer's answer)."""


OUTAGE_ERRORS = (*DATABASE_ERRORS, *REDIS_ERRORS, Unavailable)
