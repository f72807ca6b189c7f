"""McpSettings: everything the MCP service is told, validated once at start-up.

This module is the only reader of the environment for the MCP service. FastMCP 4 reads none
of the AuthKit integration plan's `FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_*` variables (a server configured only
that way would run with no authentication at all), so they are mapped here explicitly, as
aliases of our own names; when both are set, the `ATOMS_*` / `AUTHKIT_DOMAIN` name wins.

| setting            | variables (first found wins)                                                    |
|--------------------|---------------------------------------------------------------------------------|
| `base_url`         | ATOMS_MCP_BASE_URL, FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL                |
| `required_scopes`  | ATOMS_MCP_REQUIRED_SCOPES, FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES  |
| `authkit_domain`   | AUTHKIT_DOMAIN, FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN              |
| `auth_addr`        | ATOMS_AUTH_ADDR (default 127.0.0.1:50051)                                       |
| `database_url`     | ATOMS_MCP_DATABASE_URL (default: SQLite file var/mcp/atoms.db)                  |
| `path`             | ATOMS_MCP_PATH (default /api/mcp)                                               |

Any problem raises `SettingsError` naming the variable and saying how to fix it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import NoDecode
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.settings_loading import EnvironmentSettings, SettingsError, read_environment
from atoms_grpc.tls_config import TlsConfig

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/mcp/atoms.db"
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_SEED_PREFIX = "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class McpSettings(EnvironmentSettings):
    """The validated configuration of one MCP service process."""

    host: str = Field(default="127.0.0.1", validation_alias=_env("ATOMS_MCP_HOST"))
    port: int = Field(default=8000, ge=0, le=65535, validation_alias=_env("ATOMS_MCP_PORT"))
    # Prometheus /metrics on its own port (off by default), like the auth service and the agent:
    # the MCP port faces the internet, the metrics port only the monitoring system.
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, validation_alias=_env("ATOMS_MCP_METRICS_PORT")
    )
    path: str = Field(default="/api/mcp", validation_alias=_env("ATOMS_MCP_PATH"))
    base_url: str | None = Field(
        default=None, validation_alias=_env("ATOMS_MCP_BASE_URL", f"{_SEED_PREFIX}BASE_URL")
    )
    required_scopes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("ATOMS_MCP_REQUIRED_SCOPES", f"{_SEED_PREFIX}REQUIRED_SCOPES")
    )
    authkit_domain: str | None = Field(
        default=None, validation_alias=_env("AUTHKIT_DOMAIN", f"{_SEED_PREFIX}AUTHKIT_DOMAIN")
    )
    auth_addr: str = Field(default="127.0.0.1:50051", validation_alias=_env("ATOMS_AUTH_ADDR"))
    auth_timeout_s: float = Field(default=2.0, gt=0, le=30, validation_alias=_env("ATOMS_MCP_AUTH_TIMEOUT_S"))
    auth_cache_ttl_s: float = Field(
        default=30.0, ge=0, le=300, validation_alias=_env("ATOMS_MCP_AUTH_CACHE_TTL_S")
    )
    retry_after_s: int = Field(default=5, ge=1, le=300, validation_alias=_env("ATOMS_MCP_RETRY_AFTER_S"))
    # How often the auth service's health is checked for `/ready` (not from the environment).
    auth_health_interval_s: float = Field(default=2.0, gt=0, le=60)
    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL), validation_alias=_env("ATOMS_MCP_DATABASE_URL")
    )
    insecure_dev: bool = False
    log_level: str = Field(default="INFO", validation_alias=_env("ATOMS_LOG_LEVEL"))
    auth_caller_token: SecretStr | None = Field(
        default=None, validation_alias=_env("ATOMS_AUTH_CALLER_TOKEN")
    )
    tls_cert_file: str | None = Field(default=None, validation_alias=_env("ATOMS_TLS_CERT_FILE"))
    tls_key_file: str | None = Field(default=None, validation_alias=_env("ATOMS_TLS_KEY_FILE"))
    tls_ca_file: str | None = Field(default=None, validation_alias=_env("ATOMS_TLS_CA_FILE"))

    def auth_tls(self) -> TlsConfig | None:
        """TLS for the channel to the auth service (this process's certificate for mutual TLS), or None.

        Raises:
            TlsConfigError: the certificate files are incomplete or unreadable.
        """
        variables = {
            "ATOMS_TLS_CERT_FILE": self.tls_cert_file or "",
            "ATOMS_TLS_KEY_FILE": self.tls_key_file or "",
            "ATOMS_TLS_CA_FILE": self.tls_ca_file or "",
        }
        tls = TlsConfig.from_environment(variables)
        return tls if tls.enabled else None

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        if not value.startswith("/") or value == "/" or value.endswith("/") or any(c in value for c in "?#"):
            raise ValueError("must be an absolute URL path such as /api/mcp (no trailing slash, query or #)")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        base = value.strip().rstrip("/")
        parts = urlsplit(base)
        _require_https_or_loopback(base)
        if parts.path or parts.query or parts.fragment:
            raise ValueError(
                f"{value!r} must be the public origin only, such as https://mcp.atoms.tech "
                "(the MCP path comes from ATOMS_MCP_PATH)"
            )
        return base

    @field_validator("authkit_domain")
    @classmethod
    def _check_authkit_domain(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        base = value.strip().rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        _require_https_or_loopback(base)
        return base

    @field_validator("required_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return tuple(json.loads(text))
            except ValueError as err:
                raise ValueError("is not a valid JSON list of scopes") from err
        return tuple(scope for scope in text.replace(",", " ").split() if scope)

    @field_validator("auth_addr")
    @classmethod
    def _check_auth_addr(cls, value: str) -> str:
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise ValueError(f"{value!r} must be host:port, such as 127.0.0.1:50051")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError as err:
            raise ValueError("is not a database URL") from err
        driver = _DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"scheme {url.drivername!r} is not supported; use sqlite+aiosqlite:///path/to/file.db "
                "or postgresql+asyncpg://user:password@host/database"
            )
        if driver.startswith("sqlite") and not url.database:
            raise ValueError("a SQLite URL needs a file path, such as sqlite+aiosqlite:///var/mcp/atoms.db")
        return SecretStr(url.set(drivername=driver).render_as_string(hide_password=False))

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(sorted(_LOG_LEVELS))}")
        return value.upper()

    @property
    def resource_url(self) -> str | None:
        """The URL of the MCP endpoint as clients reach it: the audience tokens are checked for."""
        return None if self.base_url is None else f"{self.base_url}{self.path}"

    @property
    def missing_auth_settings(self) -> tuple[str, ...]:
        """The variables that must still be set for the server to authenticate callers."""
        missing = []
        if self.base_url is None:
            missing.append("ATOMS_MCP_BASE_URL")
        if self.authkit_domain is None:
            missing.append("AUTHKIT_DOMAIN")
        return tuple(missing)

    @property
    def runs_unauthenticated(self) -> bool:
        """True when auth is not configured and `--insecure-dev` allowed starting anyway."""
        return self.insecure_dev and bool(self.missing_auth_settings)


def load_mcp_settings(
    environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> McpSettings:
    """Build and validate the settings from the environment and command-line overrides.

    Args:
        environ: the variables to read; the process environment when None.
        overrides: values from command-line flags (McpSettings field names); None values are ignored.

    Returns:
        The settings. They may still lack authentication: see `require_authentication`.

    Raises:
        SettingsError: a setting is invalid.
    """
    return read_environment(McpSettings, environ, flags=overrides)


def require_authentication(settings: McpSettings) -> None:
    """Refuse to run without authentication unless `--insecure-dev` was given.

    Raises:
        SettingsError: authentication is not configured and `insecure_dev` is False.
    """
    missing = settings.missing_auth_settings
    if missing and not settings.insecure_dev:
        raise SettingsError(
            " and ".join(missing),
            "authentication is not configured, so the server would accept anyone; set "
            f"{', '.join(missing)} (the auth service is reached at ATOMS_AUTH_ADDR, now "
            f"{settings.auth_addr}), or pass --insecure-dev for local development only",
        )


def _require_https_or_loopback(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise ValueError(f"{url!r} must be an https URL (plain http is allowed only on loopback)")
