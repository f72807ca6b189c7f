"""McpSettings: FastMCP's AuthKit variables, defaults, and errors that name the setting to fix."""

from __future__ import annotations

import pytest

from atoms_grpc.settings_loading import SettingsError
from atoms_mcp.settings import load_mcp_settings, require_authentication

SEED = {
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL": "https://mcp.atoms.tech",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN": "atoms.authkit.app",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES": "openid,profile",
}


def test_the_integration_plans_variables_alone_configure_an_authenticated_server() -> None:
    settings = load_mcp_settings(SEED)
    require_authentication(settings)
    assert settings.base_url == "https://mcp.atoms.tech"
    assert settings.authkit_domain == "https://atoms.authkit.app"
    assert settings.required_scopes == ("openid", "profile")
    assert settings.resource_url == "https://mcp.atoms.tech/api/mcp"
    assert not settings.runs_unauthenticated


def test_atoms_names_win_over_the_integration_plans_aliases() -> None:
    settings = load_mcp_settings(
        {
            **SEED,
            "ATOMS_MCP_BASE_URL": "https://mcp.example.test/",
            "AUTHKIT_DOMAIN": "https://other.authkit.app",
        }
    )
    assert (settings.base_url, settings.authkit_domain) == (
        "https://mcp.example.test",
        "https://other.authkit.app",
    )


def test_defaults_listen_on_loopback_with_a_sqlite_file_under_var() -> None:
    settings = load_mcp_settings({})
    assert (settings.host, settings.port, settings.path) == ("127.0.0.1", 8000, "/api/mcp")
    assert settings.auth_addr == "127.0.0.1:50051"
    assert settings.database_url.get_secret_value() == "sqlite+aiosqlite:///var/mcp/atoms.db"
    assert settings.required_scopes == ()


@pytest.mark.parametrize(
    ("raw", "scopes"),
    [("a b", ("a", "b")), ("a, b,,c", ("a", "b", "c")), ('["a", "b"]', ("a", "b")), ("", ())],
    ids=["spaces", "commas", "json list", "empty"],
)
def test_required_scopes_are_read_from_spaces_commas_or_json(raw: str, scopes: tuple[str, ...]) -> None:
    assert load_mcp_settings({"ATOMS_MCP_REQUIRED_SCOPES": raw}).required_scopes == scopes


def test_postgres_url_gets_the_async_driver_and_hides_its_password() -> None:
    settings = load_mcp_settings({"ATOMS_MCP_DATABASE_URL": "postgresql://atoms:s3cret@db.internal/atoms"})
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://atoms:s3cret@db.internal/atoms"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "setting", "hint"),
    [
        ({"ATOMS_MCP_BASE_URL": "http://mcp.atoms.tech"}, "ATOMS_MCP_BASE_URL", "https"),
        ({"ATOMS_MCP_BASE_URL": "https://mcp.atoms.tech/api/mcp"}, "ATOMS_MCP_BASE_URL", "origin only"),
        (
            {"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL": "ftp://x"},
            "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL",
            "https",
        ),
        ({"AUTHKIT_DOMAIN": "http://atoms.authkit.app"}, "AUTHKIT_DOMAIN", "https"),
        ({"ATOMS_MCP_PATH": "api/mcp"}, "ATOMS_MCP_PATH", "absolute URL path"),
        ({"ATOMS_MCP_PATH": "/api/mcp/"}, "ATOMS_MCP_PATH", "no trailing slash"),
        ({"ATOMS_AUTH_ADDR": "auth-service"}, "ATOMS_AUTH_ADDR", "host:port"),
        ({"ATOMS_MCP_DATABASE_URL": "mysql://db/atoms"}, "ATOMS_MCP_DATABASE_URL", "not supported"),
        ({"ATOMS_MCP_DATABASE_URL": "not a url"}, "ATOMS_MCP_DATABASE_URL", "not a database URL"),
        ({"ATOMS_MCP_AUTH_TIMEOUT_S": "0"}, "ATOMS_MCP_AUTH_TIMEOUT_S", "greater than 0"),
        ({"ATOMS_LOG_LEVEL": "LOUD"}, "ATOMS_LOG_LEVEL", "must be one of"),
    ],
    ids=[
        "plain http base url off loopback",
        "base url with a path",
        "integration plan alias with a bad url",
        "plain http authkit domain",
        "relative path",
        "path with trailing slash",
        "auth address without port",
        "unsupported database",
        "malformed database url",
        "zero auth timeout",
        "unknown log level",
    ],
)
def test_invalid_setting_is_refused_naming_the_variable(
    environ: dict[str, str], setting: str, hint: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_mcp_settings(environ)
    assert raised.value.setting == setting
    assert hint in str(raised.value)


def test_loopback_urls_may_use_plain_http_for_development() -> None:
    settings = load_mcp_settings(
        {"ATOMS_MCP_BASE_URL": "http://127.0.0.1:8000", "AUTHKIT_DOMAIN": "http://localhost:8100"}
    )
    assert (settings.base_url, settings.authkit_domain) == ("http://127.0.0.1:8000", "http://localhost:8100")


def test_start_without_authentication_is_refused_naming_what_is_missing() -> None:
    settings = load_mcp_settings({"ATOMS_MCP_BASE_URL": "https://mcp.atoms.tech"})
    with pytest.raises(SettingsError) as raised:
        require_authentication(settings)
    assert raised.value.setting == "AUTHKIT_DOMAIN"
    assert "--insecure-dev" in str(raised.value)


def test_insecure_dev_allows_a_start_without_authentication() -> None:
    settings = load_mcp_settings({}, overrides={"insecure_dev": True})
    require_authentication(settings)
    assert settings.runs_unauthenticated


def test_insecure_dev_is_ignored_when_authentication_is_configured() -> None:
    settings = load_mcp_settings(SEED, overrides={"insecure_dev": True})
    assert not settings.runs_unauthenticated


def test_flags_override_the_environment() -> None:
    settings = load_mcp_settings({"ATOMS_MCP_PORT": "9000"}, overrides={"port": 0, "host": None})
    assert (settings.port, settings.host) == (0, "127.0.0.1")
