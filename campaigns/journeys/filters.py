"""What a reader of the journey map asks for: the days and the segment (the selectors, rollups and SQL helpers take
it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class JourneyFilter:
    """The days (both included, in the site's time zone) and the segment a reader asks for; None: any."""

    start: dt.date
    end: dt.date
    source: str | None = None
    device: str | None = None
    returning: bool | None = None
    # An audience's id: only its visitors (campaigns/journeys/audiences.py says how the map reads them).
    audience: int | None = None
