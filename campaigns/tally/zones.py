"""The time zones the SQL that dates events by their site's zone may name (the fold, the journey rollups' marking)."""

from datetime import UTC
from functools import lru_cache

from django.db import connection

from campaigns.rules import zone


@lru_cache(maxsize=1)
def known_zones() -> tuple[str, ...]:
    """Time zones both PostgreSQL and Python know (any other site zone counts in UTC); read once per process."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names")
        names = [row[0] for row in cursor.fetchall()]
    return tuple(sorted({name for name in names if zone(name) is not UTC}))
