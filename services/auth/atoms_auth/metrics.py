"""Prometheus metrics of the auth service (RPC counts and latency come from the kit)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

VALIDATIONS = Counter(
    "atoms_auth_validations",
    "Token validations by principal kind (internal, user, none) and outcome (ok or the ErrorInfo reason).",
    ["kind", "outcome"],
)
TOKEN_CACHE_LOOKUPS = Counter(
    "atoms_auth_token_cache_lookups",
    "Verified-token cache lookups by result (hit or miss); hit ratio = hit / (hit + miss).",
    ["result"],
)
TOKEN_CACHE_ENTRIES = Gauge("atoms_auth_token_cache_entries", "Verified tokens currently cached.")
JWKS_FETCHES = Counter(
    "atoms_auth_jwks_fetches", "JWKS fetches by issuer and outcome (ok, error).", ["issuer", "outcome"]
)
JWKS_KEYS = Gauge("atoms_auth_jwks_keys", "Signing keys currently cached, by issuer.", ["issuer"])
JWKS_KEY_AGE = Gauge(
    "atoms_auth_jwks_key_age_seconds", "Seconds since the issuer's cached keys were fetched.", ["issuer"]
)
JWKS_UNKNOWN_KID_REJECTED = Counter(
    "atoms_auth_jwks_unknown_kid_rejected",
    "Tokens refused for an unknown kid without a refetch (cooldown or negative cache).",
    ["issuer"],
)
