"""TLS, mutual TLS, and who may call the auth service, with a CA made at test time."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import grpc
import pytest
from pydantic import SecretStr

from atoms_auth.settings import AuthSettings, InternalTokenSpec, load_auth_settings
from atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from atoms_grpc.service_error import ServiceError
from atoms_grpc.settings_loading import SettingsError
from atoms_grpc.tls_config import TlsConfig, TlsConfigError
from tests.support.test_ca import TestCertificateAuthority
from tests.support.token_factory import remember

AGENT_TOKEN = remember(secrets.token_urlsafe(36))
MCP_TOKEN = remember(secrets.token_urlsafe(36))
USER_SERVICE_TOKEN = remember(secrets.token_urlsafe(36))
QUICK = AuthClientPolicy(retry_initial_backoff_s=0.01, retry_max_backoff_s=0.05)


@pytest.fixture
def ca(tmp_path: Path) -> TestCertificateAuthority:
    return TestCertificateAuthority(tmp_path)


def _settings(**fields: object) -> AuthSettings:
    tokens = (
        InternalTokenSpec(name="agent", token=SecretStr(AGENT_TOKEN)),
        InternalTokenSpec(name="mcp", token=SecretStr(MCP_TOKEN)),
        InternalTokenSpec(name="reports", token=SecretStr(USER_SERVICE_TOKEN)),
    )
    return dataclasses.replace(AuthSettings(internal_tokens=tokens, metrics_port=None), **fields)


async def _validate(port: int, *, tls: TlsConfig | None = None, caller_token: str | None = None):
    client = AuthClient(
        target=f"localhost:{port}",
        policy=QUICK,
        tls=tls,
        caller_token=SecretStr(caller_token) if caller_token else None,
    )
    try:
        return await client.validate(USER_SERVICE_TOKEN, timeout_s=2)
    finally:
        await client.close()


async def test_tls_server_answers_a_client_that_trusts_its_ca(start_auth_server, ca) -> None:
    server_cert = ca.issue("auth")
    server = await start_auth_server(_settings(tls=TlsConfig.from_environment(server_cert.environment())))
    client_tls = TlsConfig.from_environment({"ATOMS_TLS_CA_FILE": str(ca.ca_file)})
    assert (await _validate(server.port, tls=client_tls)).service_name == "reports"


async def test_plaintext_client_cannot_talk_to_a_tls_server(start_auth_server, ca) -> None:
    server = await start_auth_server(
        _settings(tls=TlsConfig.from_environment(ca.issue("auth").environment()))
    )
    with pytest.raises(ServiceError) as caught:
        await _validate(server.port)
    assert caught.value.reason == "AUTH_SERVICE_UNAVAILABLE"


async def test_client_with_another_ca_refuses_the_server(start_auth_server, ca, tmp_path) -> None:
    server = await start_auth_server(
        _settings(tls=TlsConfig.from_environment(ca.issue("auth").environment()))
    )
    (tmp_path / "other").mkdir()
    stranger_ca = TestCertificateAuthority(tmp_path / "other", name="Stranger CA")
    with pytest.raises(ServiceError) as caught:
        await _validate(
            server.port, tls=TlsConfig.from_environment({"ATOMS_TLS_CA_FILE": str(stranger_ca.ca_file)})
        )
    assert caught.value.status_code == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_refuses_a_client_without_a_certificate(start_auth_server, ca) -> None:
    server_env = ca.issue("auth").environment(require_client_cert=True)
    server = await start_auth_server(_settings(tls=TlsConfig.from_environment(server_env)))
    with pytest.raises(ServiceError) as caught:
        await _validate(server.port, tls=TlsConfig.from_environment({"ATOMS_TLS_CA_FILE": str(ca.ca_file)}))
    assert caught.value.status_code == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_accepts_a_client_with_a_certificate_from_the_ca(start_auth_server, ca) -> None:
    server_env = ca.issue("auth").environment(require_client_cert=True)
    server = await start_auth_server(_settings(tls=TlsConfig.from_environment(server_env)))
    client_tls = TlsConfig.from_environment(ca.issue("agent").environment())
    assert (await _validate(server.port, tls=client_tls)).service_name == "reports"


async def test_listed_caller_token_may_ask(start_auth_server) -> None:
    server = await start_auth_server(_settings(allowed_callers=("token:agent", "token:mcp")))
    assert (await _validate(server.port, caller_token=MCP_TOKEN)).service_name == "reports"


async def test_caller_without_credentials_is_unauthenticated(start_auth_server) -> None:
    server = await start_auth_server(_settings(allowed_callers=("token:agent",)))
    with pytest.raises(ServiceError) as caught:
        await _validate(server.port)
    assert (caught.value.status_code, caught.value.reason) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "CALLER_NOT_ALLOWED",
    )


async def test_valid_but_unlisted_caller_is_permission_denied(start_auth_server) -> None:
    server = await start_auth_server(_settings(allowed_callers=("token:agent",)))
    with pytest.raises(ServiceError) as caught:
        await _validate(server.port, caller_token=MCP_TOKEN)
    assert (caught.value.status_code, caught.value.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "CALLER_NOT_ALLOWED",
    )


async def test_listed_mutual_tls_identity_may_ask(start_auth_server, ca) -> None:
    server_env = ca.issue("auth").environment(require_client_cert=True)
    server = await start_auth_server(
        _settings(tls=TlsConfig.from_environment(server_env), allowed_callers=("mtls:spiffe://atoms/agent",))
    )
    agent_tls = TlsConfig.from_environment(ca.issue("agent", uris=("spiffe://atoms/agent",)).environment())
    assert (await _validate(server.port, tls=agent_tls)).service_name == "reports"


async def test_unlisted_mutual_tls_identity_is_permission_denied(start_auth_server, ca) -> None:
    server_env = ca.issue("auth").environment(require_client_cert=True)
    server = await start_auth_server(
        _settings(tls=TlsConfig.from_environment(server_env), allowed_callers=("mtls:spiffe://atoms/agent",))
    )
    intruder_tls = TlsConfig.from_environment(
        ca.issue("intruder", uris=("spiffe://atoms/intruder",)).environment()
    )
    with pytest.raises(ServiceError) as caught:
        await _validate(server.port, tls=intruder_tls)
    assert caught.value.status_code == grpc.StatusCode.PERMISSION_DENIED


def test_tls_settings_come_from_the_environment(ca) -> None:
    env = {**ca.issue("auth").environment(require_client_cert=True), "ATOMS_INTERNAL_TOKEN": AGENT_TOKEN}
    settings = load_auth_settings(
        {**env, "ATOMS_AUTH_ALLOWED_CALLERS": "token:internal, mtls:spiffe://atoms/agent"}
    )
    assert settings.tls.enabled
    assert settings.tls.require_client_cert
    assert settings.allowed_callers == ("token:internal", "mtls:spiffe://atoms/agent")
    assert "BEGIN" not in repr(settings)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param({"ATOMS_TLS_CERT_FILE": "/x.crt"}, "set together", id="certificate without a key"),
        pytest.param(
            {"ATOMS_TLS_REQUIRE_CLIENT_CERT": "1"}, "needs ATOMS_TLS_CA_FILE", id="mtls without a CA"
        ),
        pytest.param({"ATOMS_TLS_CA_FILE": "/no/such/ca.pem"}, "cannot read", id="unreadable CA file"),
    ],
)
def test_incomplete_tls_settings_stop_start_up(variables: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_auth_settings({**variables, "ATOMS_INTERNAL_TOKEN": AGENT_TOKEN})
    with pytest.raises(TlsConfigError):
        TlsConfig.from_environment(variables)


def test_a_caller_entry_without_a_prefix_or_naming_no_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="must start with"):
        load_auth_settings({"ATOMS_INTERNAL_TOKEN": AGENT_TOKEN, "ATOMS_AUTH_ALLOWED_CALLERS": "agent"})
    with pytest.raises(SettingsError, match="no internal token is named nobody"):
        load_auth_settings(
            {"ATOMS_INTERNAL_TOKEN": AGENT_TOKEN, "ATOMS_AUTH_ALLOWED_CALLERS": "token:nobody"}
        )
