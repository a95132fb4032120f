"""Per-process copies of values cached in Redis, for the public endpoints' hot paths.

A copy is served as it is for `trust_seconds` after it was last checked; after that the caller checks it
against Redis again (and `touch`es it when it still holds). A change drops this process's copy at once (the
signals call `forget`) and the other processes' within `trust_seconds`.
"""

import time
from collections import OrderedDict


class LocalCopies:
    def __init__(self, *, trust_seconds: float, size: int = 1024) -> None:
        self.trust_seconds = trust_seconds
        self.size = size
        self._copies: OrderedDict[str, tuple[object, float]] = OrderedDict()

    def get(self, key: str, *, trust_seconds: float | None = None) -> tuple[object, bool] | None:
        """(value, trusted) or None: trusted while checked less than `trust_seconds` ago (the instance's unless
        given: a caller whose module setting may change at run time, as tests do, passes it)."""
        entry = self._copies.get(key)
        if entry is None:
            return None
        value, checked_at = entry
        trust = self.trust_seconds if trust_seconds is None else trust_seconds
        return value, time.monotonic() - checked_at < trust

    def keep(self, key: str, value) -> None:
        """Remember `value` as checked now (also what `touch` means)."""
        self._copies[key] = (value, time.monotonic())
        self._copies.move_to_end(key)
        while len(self._copies) > self.size:
            self._copies.popitem(last=False)

    def forget(self, key: str) -> None:
        self._copies.pop(key, None)
