"""Prometheus metrics of the kit's `AuthClient`: its cache of positive answers and its calls.

Every service that authenticates callers through the kit exports them on its metrics port.
The children are bound once, here: `validate()` runs on every RPC a service serves, and
`Metric.labels(...)` validates, builds a tuple and takes a lock on every call.
"""

from __future__ import annotations

from prometheus_client import Counter

AUTH_CLIENT_CACHE_LOOKUPS = Counter(
    "atoms_auth_client_cache_lookups",
    "AuthClient.validate() lookups in the local cache of positive answers, by result (hit, miss).",
    ["result"],
)
AUTH_CLIENT_CALLS = Counter(
    "atoms_auth_client_calls",
    "Validations the AuthClient sent to the auth service (cache misses), by outcome: ok (a principal), "
    "refused (the auth service answered with an error status), unavailable (not reached in time).",
    ["outcome"],
)

CACHE_HIT = AUTH_CLIENT_CACHE_LOOKUPS.labels("hit")
CACHE_MISS = AUTH_CLIENT_CACHE_LOOKUPS.labels("miss")
CALL_OK = AUTH_CLIENT_CALLS.labels("ok")
CALL_REFUSED = AUTH_CLIENT_CALLS.labels("refused")
CALL_UNAVAILABLE = AUTH_CLIENT_CALLS.labels("unavailable")
