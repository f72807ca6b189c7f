"""LineBudget: at most so many log lines a second per kind of line, and a count of the rest.

A service that logs one line per request spends most of its time logging once requests come
by the thousand (or once someone floods it with bad tokens). With a budget per kind of line
(per method and status, per refusal reason) every line is written while traffic is light,
and under load the lines that were not written are counted and reported on the next one.
Metrics count every request either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

DEFAULT_LINES_PER_S = 20.0
DEFAULT_BURST = 200


class LineBudget:
    """A token bucket per key: `per_s` lines a second, up to `burst` at once.

    Keys must come from a small set (methods, codes, reasons): one bucket is kept per key.
    """

    def __init__(
        self,
        *,
        per_s: float = DEFAULT_LINES_PER_S,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_s = per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[Hashable, list[float]] = {}

    def take(self, key: Hashable) -> int | None:
        """Spend one line of `key`'s budget.

        Returns:
            None when the budget is spent (do not log); otherwise how many lines of this key
            were refused since the last one that was allowed (usually 0).
        """
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [self._burst, now, 0.0]
        tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._per_s)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            bucket[2] += 1
            return None
        bucket[0] = tokens - 1.0
        refused, bucket[2] = int(bucket[2]), 0.0
        return refused
