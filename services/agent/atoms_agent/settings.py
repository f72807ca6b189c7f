"""AgentSettings: everything the agent service is told, validated once at start-up.

The only reader of the environment for the agent. Flags (`atoms agent serve --port …`)
override it. Any problem raises `SettingsError` naming the setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from atoms_agent.egress_policy import IpNetwork, parse_allow_list
from atoms_agent.url_origin import origin_of
from atoms_grpc.auth_service_monitor import AuthHealthPolicy
from atoms_grpc.first_party_mcps import FirstPartyListError, FirstPartyMcp, load_first_party_mcps
from atoms_grpc.grpc_service import check_audience
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.settings_loading import (
    EnvironmentSettings,
    SettingsError,
    read_environment,
    tls_from_environment,
)
from atoms_grpc.tls_config import TlsConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/agent/registry.db"
# The audience the agent accepts (ATOMS_AGENT_AUDIENCE): a token whose `aud` names another
# resource or OAuth client is refused; AuthKit session tokens (no `aud`) and internal tokens pass.
DEFAULT_AGENT_AUDIENCE = "urn:atoms:agent"
_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


@dataclass(frozen=True, slots=True)
class ModelEndpoint:
    """An OpenAI-compatible chat-completions endpoint."""

    base_url: str
    model: str
    api_key: SecretStr | None = None


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """The validated configuration of one agent service process."""

    host: str = "127.0.0.1"
    port: int = 50052
    http_port: int | None = 3284
    metrics_port: int | None = None
    auth_address: str = "127.0.0.1:50051"
    audience: str = DEFAULT_AGENT_AUDIENCE
    auth_health: AuthHealthPolicy = dataclasses.field(default_factory=AuthHealthPolicy)
    database_url: str = DEFAULT_DATABASE_URL
    first_party_mcps: tuple[FirstPartyMcp, ...] = ()
    first_party_origins: frozenset[str] = frozenset()
    allow_loopback_mcp: bool = False
    # Where registered MCP servers may be (services/agent/atoms_agent/egress_policy.py): public addresses,
    # plus these operator exceptions. First-party servers are not subject to it.
    mcp_egress_allowed_networks: tuple[IpNetwork, ...] = ()
    mcp_egress_allowed_hosts: frozenset[str] = frozenset()
    mcp_resolve_timeout_s: float = 2.0
    allow_plaintext_first_party_mcp: bool = False
    model: ModelEndpoint | None = None
    max_servers_per_user: int = 20
    max_servers_per_org: int = 50
    mcp_call_timeout_s: float = 30.0
    mcp_session_idle_s: float = 300.0
    mcp_session_max_entries: int = 1000
    # What one MCP server may send back (services/agent/atoms_agent/mcp_client_limits.py says why each).
    mcp_max_response_bytes: int = 4 * 1024 * 1024
    mcp_max_tool_pages: int = 20
    mcp_max_tools_per_server: int = 200
    mcp_list_timeout_s: float = 10.0
    chat_max_tool_calls_per_turn: int = 16
    registry_cache_ttl_s: float = 5.0
    registry_cache_max_entries: int = 10_000
    # The agent's cache of the auth service's answers: one entry per active token, never
    # outliving the token. Sized for tens of thousands of users active within a minute.
    auth_cache_ttl_s: float = 60.0
    auth_cache_max_entries: int = 50_000
    shutdown_grace_s: float = 10.0
    log_level: str = "INFO"
    tls: TlsConfig | None = None
    auth_caller_token: SecretStr | None = None


class AgentEnvironment(EnvironmentSettings):
    """The raw environment variables the agent reads."""

    auth_address: str | None = Field(default=None, validation_alias="ATOMS_AUTH_ADDR")
    audience: str | None = Field(default=None, validation_alias="ATOMS_AGENT_AUDIENCE")
    database_url: str | None = Field(default=None, validation_alias="ATOMS_AGENT_DATABASE_URL")
    first_party_mcps_file: Path | None = Field(default=None, validation_alias="ATOMS_FIRST_PARTY_MCPS_FILE")
    atoms_mcp_url: str | None = Field(default=None, validation_alias="ATOMS_MCP_URL")
    first_party_origins: str | None = Field(default=None, validation_alias="ATOMS_FIRST_PARTY_MCP_ORIGINS")
    allow_loopback_mcp: bool = Field(default=False, validation_alias="ATOMS_AGENT_ALLOW_LOOPBACK_MCP")
    mcp_egress_allow: str | None = Field(default=None, validation_alias="ATOMS_AGENT_MCP_EGRESS_ALLOW")
    allow_plaintext_first_party_mcp: bool = Field(
        default=False, validation_alias="ATOMS_AGENT_ALLOW_PLAINTEXT_FIRST_PARTY_MCP"
    )
    llm_base_url: str | None = Field(default=None, validation_alias="ATOMS_LLM_BASE_URL")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="ATOMS_LLM_API_KEY")
    llm_model: str | None = Field(default=None, validation_alias="ATOMS_LLM_MODEL")
    log_level: str | None = Field(default=None, validation_alias="ATOMS_LOG_LEVEL")
    auth_caller_token: SecretStr | None = Field(default=None, validation_alias="ATOMS_AUTH_CALLER_TOKEN")


def load_agent_settings(
    environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> AgentSettings:
    """Build and validate the settings from the environment and flag overrides.

    Raises:
        SettingsError: a setting is missing or invalid.
    """
    env = read_environment(AgentEnvironment, environ)
    defaults = AgentSettings()
    settings = AgentSettings(
        auth_address=env.auth_address or defaults.auth_address,
        audience=_audience(env.audience),
        database_url=_database_url(env.database_url or DEFAULT_DATABASE_URL),
        first_party_mcps=_first_party_list(env),
        allow_loopback_mcp=env.allow_loopback_mcp,
        allow_plaintext_first_party_mcp=env.allow_plaintext_first_party_mcp,
        model=_model_endpoint(env),
        log_level=env.log_level or defaults.log_level,
        tls=tls_from_environment(environ),
        auth_caller_token=env.auth_caller_token,
    )
    networks, hosts = _egress_allow_list(env.mcp_egress_allow)
    settings = dataclasses.replace(
        settings,
        first_party_origins=_origins(env.first_party_origins, settings.first_party_mcps),
        mcp_egress_allowed_networks=networks,
        mcp_egress_allowed_hosts=hosts,
    )
    return dataclasses.replace(settings, **{k: v for k, v in (overrides or {}).items() if v is not None})


def _audience(configured: str | None) -> str:
    if configured is None:
        return DEFAULT_AGENT_AUDIENCE
    try:
        check_audience(configured)
    except ValueError as err:
        raise SettingsError("ATOMS_AGENT_AUDIENCE", str(err)) from err
    return configured


def _database_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise SettingsError("ATOMS_AGENT_DATABASE_URL", "is not a database URL") from err
    driver = _DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise SettingsError(
            "ATOMS_AGENT_DATABASE_URL", "must be sqlite+aiosqlite:///path or postgresql+asyncpg://…"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _first_party_list(env: AgentEnvironment) -> tuple[FirstPartyMcp, ...]:
    try:
        entries = load_first_party_mcps(env.first_party_mcps_file)
    except (FirstPartyListError, OSError) as err:
        raise SettingsError("ATOMS_FIRST_PARTY_MCPS_FILE", str(err)) from err
    if env.atoms_mcp_url:
        try:
            origin_of(env.atoms_mcp_url)
        except ValueError as err:
            raise SettingsError("ATOMS_MCP_URL", str(err)) from err
        entries = tuple(
            dataclasses.replace(entry, url=env.atoms_mcp_url) if entry.key == "atoms" else entry
            for entry in entries
        )
    _refuse_plaintext_off_loopback(env, entries)
    return entries


def _egress_allow_list(configured: str | None) -> tuple[tuple[IpNetwork, ...], frozenset[str]]:
    try:
        return parse_allow_list((configured or "").split(","))
    except ValueError as err:
        raise SettingsError("ATOMS_AGENT_MCP_EGRESS_ALLOW", str(err)) from err


def _refuse_plaintext_off_loopback(env: AgentEnvironment, entries: tuple[FirstPartyMcp, ...]) -> None:
    # The agent forwards the user's token to first-party servers: over plain http off this
    # machine anyone on the path reads it, unless a mesh (Istio mTLS) encrypts the hop.
    if env.allow_plaintext_first_party_mcp:
        return
    for entry in entries:
        parts = urlsplit(entry.url)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
            from_url = bool(env.atoms_mcp_url) and entry.key == "atoms"
            setting = "ATOMS_MCP_URL" if from_url else "ATOMS_FIRST_PARTY_MCPS_FILE"
            raise SettingsError(
                setting,
                f"first-party MCP {entry.key!r} is plain http off loopback ({origin_of(entry.url)}): the "
                "user's token would cross the network in clear text; use https, or set "
                "ATOMS_AGENT_ALLOW_PLAINTEXT_FIRST_PARTY_MCP=true only where a mesh encrypts the hop",
            )


def _origins(configured: str | None, entries: tuple[FirstPartyMcp, ...]) -> frozenset[str]:
    if configured is None:
        return frozenset(origin_of(entry.url) for entry in entries)
    try:
        return frozenset(origin_of(item) for item in configured.split(",") if item.strip())
    except ValueError as err:
        raise SettingsError("ATOMS_FIRST_PARTY_MCP_ORIGINS", str(err)) from err


def _model_endpoint(env: AgentEnvironment) -> ModelEndpoint | None:
    if not env.llm_base_url and not env.llm_model:
        return None
    if not env.llm_base_url or not env.llm_model:
        raise SettingsError("ATOMS_LLM_BASE_URL / ATOMS_LLM_MODEL", "set both, or neither")
    try:
        origin_of(env.llm_base_url)
    except ValueError as err:
        raise SettingsError("ATOMS_LLM_BASE_URL", str(err)) from err
    return ModelEndpoint(base_url=env.llm_base_url.rstrip("/"), model=env.llm_model, api_key=env.llm_api_key)
