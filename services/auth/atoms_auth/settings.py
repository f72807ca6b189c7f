"""AuthSettings: everything the auth service is told, validated once at start-up.

This module is the only reader of the environment for the auth service. Sources, lowest
precedence first: built-in defaults, the TOML file named by `ATOMS_AUTH_CONFIG`, the
environment variables of the AuthKit integration plan (`WORKOS_*`, `AUTHKIT_DOMAIN`, `ATOMS_INTERNAL_TOKEN*`),
then command-line flags. Any problem raises `SettingsError` naming the setting.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr

from atoms_auth.jwks_cache import JwksCachePolicy
from atoms_grpc.log_format import UnknownLogLevelError, check_log_level
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.settings_loading import (
    EnvironmentSettings,
    SettingsError,
    read_environment,
    tls_from_environment,
)
from atoms_grpc.tls_config import TlsConfig

logger = logging.getLogger(__name__)

SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MIN_INTERNAL_TOKEN_LENGTH = 32
DEFAULT_WORKOS_API_BASE_URL = "https://api.workos.com/"
INTERNAL_ISSUER = "atoms-internal"


CALLER_TOKEN_PREFIX = "token:"  # noqa: S105 - a prefix, not a secret
CALLER_MTLS_PREFIX = "mtls:"


@dataclass(frozen=True, slots=True)
class CallerAllowList:
    """Internal token names and mutual-TLS identities that may call the auth service."""

    token_names: frozenset[str]
    tls_identities: frozenset[str]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> CallerAllowList:
        """Read `token:<name>` and `mtls:<identity>` entries.

        Raises:
            ValueError: an entry has neither prefix.
        """
        names, identities = set(), set()
        for entry in (e.strip() for e in entries if e.strip()):
            if entry.startswith(CALLER_TOKEN_PREFIX):
                names.add(entry.removeprefix(CALLER_TOKEN_PREFIX))
            elif entry.startswith(CALLER_MTLS_PREFIX):
                identities.add(entry.removeprefix(CALLER_MTLS_PREFIX))
            else:
                raise ValueError(
                    f"caller {entry!r} must start with {CALLER_TOKEN_PREFIX} or {CALLER_MTLS_PREFIX}"
                )
        return cls(frozenset(names), frozenset(identities))

    @property
    def enabled(self) -> bool:
        """False when nobody is listed: every caller may ask."""
        return bool(self.token_names or self.tls_identities)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer whose JWTs are accepted when signed by a key from its JWKS."""

    issuer: str
    jwks_url: str
    algorithms: tuple[str, ...] = ("RS256",)
    audiences: tuple[str, ...] = ()
    leeway_s: float = 30.0
    first_party: bool = False


@dataclass(frozen=True, slots=True)
class InternalTokenSpec:
    """A named static token held by an internal service, with the scopes it grants."""

    name: str
    token: SecretStr
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenCacheSettings:
    """Bounds of the verified-token cache."""

    max_entries: int = 100_000
    ttl_s: float = 300.0


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The validated configuration of one auth service process."""

    host: str = "127.0.0.1"
    port: int = 50051
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = 9464
    issuers: tuple[TrustedIssuer, ...] = ()
    internal_tokens: tuple[InternalTokenSpec, ...] = ()
    first_party_client_ids: tuple[str, ...] = ()
    jwks: JwksCachePolicy = field(default_factory=JwksCachePolicy)
    token_cache: TokenCacheSettings = field(default_factory=TokenCacheSettings)
    max_token_bytes: int = 8192
    shutdown_grace_s: float = 10.0
    warmup_timeout_s: float = 10.0
    log_level: str = "INFO"
    envoy_remove_authorization: bool = False  # Envoy Check: drop `authorization` on allow
    tls: TlsConfig = field(default_factory=TlsConfig)
    allowed_callers: tuple[str, ...] = ()  # `token:<name>` / `mtls:<identity>`; empty = anyone may call


class AuthEnvironment(EnvironmentSettings):
    """The raw environment variables the auth service reads (names kept from the AuthKit integration plan)."""

    workos_client_id: str | None = Field(default=None, validation_alias="WORKOS_CLIENT_ID")
    workos_api_base_url: str | None = Field(default=None, validation_alias="WORKOS_API_BASE_URL")
    workos_api_key: SecretStr | None = Field(default=None, validation_alias="WORKOS_API_KEY")
    authkit_domain: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"),
    )
    internal_token: SecretStr | None = Field(default=None, validation_alias="ATOMS_INTERNAL_TOKEN")
    internal_tokens_file: Path | None = Field(default=None, validation_alias="ATOMS_INTERNAL_TOKENS_FILE")
    config_file: Path | None = Field(default=None, validation_alias="ATOMS_AUTH_CONFIG")
    log_level: str | None = Field(default=None, validation_alias="ATOMS_LOG_LEVEL")
    allowed_callers: str | None = Field(default=None, validation_alias="ATOMS_AUTH_ALLOWED_CALLERS")


def load_auth_settings(
    environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> AuthSettings:
    """Build and validate the settings from the TOML file, the environment and flag overrides.

    Args:
        environ: the variables to read; the process environment when None.
        overrides: values from command-line flags (AuthSettings field names); None values are ignored.

    Raises:
        SettingsError: a setting is missing or invalid.
    """
    env = read_environment(AuthEnvironment, environ)
    settings = _from_toml(env.config_file) if env.config_file else AuthSettings()
    settings = _apply_environment(settings, env)
    settings = replace(settings, tls=tls_from_environment(environ) or TlsConfig())
    settings = replace(settings, **{k: v for k, v in (overrides or {}).items() if v is not None})
    _validate(settings)
    return settings


def _apply_environment(settings: AuthSettings, env: AuthEnvironment) -> AuthSettings:
    issuers = list(settings.issuers)
    first_party_client_ids = list(settings.first_party_client_ids)
    if env.workos_client_id:
        issuers += _workos_issuers(
            env.workos_client_id, env.workos_api_base_url or DEFAULT_WORKOS_API_BASE_URL
        )
        first_party_client_ids.append(env.workos_client_id)
    if env.authkit_domain:
        issuers.append(_authkit_issuer(env.authkit_domain))
    tokens = list(settings.internal_tokens)
    if env.internal_token is not None:
        tokens.append(InternalTokenSpec(name="internal", token=env.internal_token))
    if env.internal_tokens_file is not None:
        tokens += _read_internal_tokens_file(env.internal_tokens_file)
    callers = settings.allowed_callers
    if env.allowed_callers is not None:
        callers = tuple(entry.strip() for entry in env.allowed_callers.split(",") if entry.strip())
    return replace(
        settings,
        allowed_callers=callers,
        issuers=_deduplicate_issuers(issuers),
        internal_tokens=tuple(tokens),
        first_party_client_ids=tuple(dict.fromkeys(first_party_client_ids)),
        log_level=env.log_level or settings.log_level,
    )


def _workos_issuers(client_id: str, base_url: str) -> list[TrustedIssuer]:
    base = base_url.strip().rstrip("/")
    _check_url("WORKOS_API_BASE_URL", base)
    jwks_url = f"{base}/sso/jwks/{client_id}"
    names = (base, f"{base}/", f"{base}/user_management/{client_id}")
    return [TrustedIssuer(issuer=name, jwks_url=jwks_url, first_party=True) for name in names]


def _authkit_issuer(domain: str) -> TrustedIssuer:
    base = domain.strip().rstrip("/")
    if "://" not in base:
        base = f"https://{base}"
    _check_url("AUTHKIT_DOMAIN", base)
    return TrustedIssuer(issuer=base, jwks_url=f"{base}/oauth2/jwks")


def _deduplicate_issuers(issuers: list[TrustedIssuer]) -> tuple[TrustedIssuer, ...]:
    kept: dict[str, TrustedIssuer] = {}
    for issuer in issuers:
        if issuer.issuer in kept:
            logger.info("issuer %s is configured twice; the first definition is used", issuer.issuer)
            continue
        kept[issuer.issuer] = issuer
    return tuple(kept.values())


def _read_internal_tokens_file(path: Path) -> list[InternalTokenSpec]:
    setting = f"ATOMS_INTERNAL_TOKENS_FILE ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError(setting, f"cannot be read: {err.strerror}") from err
    try:
        document = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(setting, f"is not valid {'JSON' if path.suffix == '.json' else 'TOML'}") from err
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SettingsError(setting, 'must hold a "tokens" list of {name, token, scopes}')
    return [_internal_token_from(entry, setting) for entry in entries]


def _internal_token_from(entry: object, setting: str) -> InternalTokenSpec:
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("name"), str)
        or not isinstance(entry.get("token"), str)
    ):
        raise SettingsError(setting, "each token needs a string name and a string token")
    scopes = entry.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise SettingsError(f"{setting} token {entry['name']!r}", "scopes must be a list of strings")
    return InternalTokenSpec(name=entry["name"], token=SecretStr(entry["token"]), scopes=tuple(scopes))


def _from_toml(path: Path) -> AuthSettings:
    setting = f"ATOMS_AUTH_CONFIG ({path})"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SettingsError(setting, f"cannot be read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(setting, f"is not valid TOML: {err}") from err
    try:
        return _settings_from_document(document, setting)
    except (TypeError, ValueError) as err:
        if isinstance(err, SettingsError):
            raise
        raise SettingsError(setting, str(err)) from err


def _settings_from_document(document: dict[str, Any], setting: str) -> AuthSettings:
    document = dict(document)
    issuers = tuple(
        TrustedIssuer(
            **{
                **entry,
                "algorithms": tuple(entry.get("algorithms", ("RS256",))),
                "audiences": tuple(entry.get("audiences", ())),
            }
        )
        for entry in document.pop("issuers", [])
    )
    tokens = tuple(_internal_token_from(entry, setting) for entry in document.pop("internal_tokens", []))
    jwks = JwksCachePolicy(**document.pop("jwks", {}))
    token_cache = TokenCacheSettings(**document.pop("token_cache", {}))
    if "allowed_callers" in document:
        document["allowed_callers"] = tuple(document["allowed_callers"])
    if "first_party_client_ids" in document:
        document["first_party_client_ids"] = tuple(document["first_party_client_ids"])
    known = {f.name for f in fields(AuthSettings)}
    unknown = sorted(set(document) - known)
    if unknown:
        raise SettingsError(setting, f"unknown keys: {', '.join(unknown)}")
    return AuthSettings(
        **document, issuers=issuers, internal_tokens=tokens, jwks=jwks, token_cache=token_cache
    )


def _validate(settings: AuthSettings) -> None:
    if not settings.issuers and not settings.internal_tokens:
        raise SettingsError(
            "WORKOS_CLIENT_ID / AUTHKIT_DOMAIN / ATOMS_INTERNAL_TOKEN",
            "nothing to trust: set a trusted issuer (WORKOS_CLIENT_ID or AUTHKIT_DOMAIN) "
            "or an internal token (ATOMS_INTERNAL_TOKEN or ATOMS_INTERNAL_TOKENS_FILE)",
        )
    for issuer in settings.issuers:
        _validate_issuer(issuer)
    _validate_internal_tokens(settings.internal_tokens)
    if not 0 <= settings.port <= 65535:
        raise SettingsError("--port", f"{settings.port} is not a TCP port")
    try:
        check_log_level(settings.log_level)
    except UnknownLogLevelError as err:
        raise SettingsError("--log-level / ATOMS_LOG_LEVEL", str(err)) from err
    try:
        CallerAllowList.parse(settings.allowed_callers)
    except ValueError as err:
        raise SettingsError("ATOMS_AUTH_ALLOWED_CALLERS", str(err)) from err
    listed = CallerAllowList.parse(settings.allowed_callers).token_names
    unknown = sorted(listed - {spec.name for spec in settings.internal_tokens})
    if unknown:
        raise SettingsError("ATOMS_AUTH_ALLOWED_CALLERS", f"no internal token is named {', '.join(unknown)}")
    if not isinstance(settings.envoy_remove_authorization, bool):
        raise SettingsError("envoy_remove_authorization", "must be true or false")
    if settings.max_token_bytes < 1024:
        raise SettingsError("max_token_bytes", "must be at least 1024")
    if settings.token_cache.max_entries < 0 or settings.token_cache.ttl_s < 0:
        raise SettingsError("token_cache", "max_entries and ttl_s must not be negative")


def _validate_issuer(issuer: TrustedIssuer) -> None:
    where = f"issuer {issuer.issuer!r}"
    _check_url(f"{where} issuer", issuer.issuer)
    _check_url(f"{where} jwks_url", issuer.jwks_url)
    if not issuer.algorithms:
        raise SettingsError(f"{where} algorithms", "must name at least one algorithm")
    for algorithm in issuer.algorithms:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise SettingsError(
                f"{where} algorithms",
                f"{algorithm!r} is not allowed; choose from {', '.join(sorted(SUPPORTED_ALGORITHMS))} "
                "(none and HMAC are never accepted for a JWKS issuer)",
            )
    if not 0 <= issuer.leeway_s <= 300:
        raise SettingsError(f"{where} leeway_s", "must be between 0 and 300 seconds")


def _validate_internal_tokens(tokens: tuple[InternalTokenSpec, ...]) -> None:
    names: set[str] = set()
    for spec in tokens:
        setting = "ATOMS_INTERNAL_TOKEN" if spec.name == "internal" else f"internal token {spec.name!r}"
        if len(spec.token.get_secret_value()) < MIN_INTERNAL_TOKEN_LENGTH:
            raise SettingsError(
                setting,
                f"is {len(spec.token.get_secret_value())} characters; at least {MIN_INTERNAL_TOKEN_LENGTH} "
                "are required (generate one with `atoms dev internal-token`)",
            )
        if spec.name in names:
            raise SettingsError(setting, "is defined twice; token names must be unique")
        names.add(spec.name)


def _check_url(setting: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise SettingsError(setting, f"{url!r} must be an https URL (plain http is allowed only on loopback)")
