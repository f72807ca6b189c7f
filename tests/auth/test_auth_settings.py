"""Start-up configuration: WorkOS and AuthKit variables, the TOML file, refusals that name the setting."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from atoms_auth.settings import load_auth_settings
from atoms_grpc.settings_loading import SettingsError
from tests.support.token_factory import remember

GOOD_TOKEN = remember(secrets.token_urlsafe(36))


def test_workos_client_id_trusts_the_three_workos_issuers_as_first_party() -> None:
    settings = load_auth_settings({"WORKOS_CLIENT_ID": "client_123"})
    assert [issuer.issuer for issuer in settings.issuers] == [
        "https://api.workos.com",
        "https://api.workos.com/",
        "https://api.workos.com/user_management/client_123",
    ]
    assert {issuer.jwks_url for issuer in settings.issuers} == {"https://api.workos.com/sso/jwks/client_123"}
    assert all(issuer.first_party for issuer in settings.issuers)
    assert settings.first_party_client_ids == ("client_123",)


def test_workos_api_base_url_points_at_the_emulator() -> None:
    settings = load_auth_settings({"WORKOS_CLIENT_ID": "c", "WORKOS_API_BASE_URL": "http://127.0.0.1:8100/"})
    assert settings.issuers[0].issuer == "http://127.0.0.1:8100"
    assert settings.issuers[0].jwks_url == "http://127.0.0.1:8100/sso/jwks/c"


@pytest.mark.parametrize("variable", ["AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"])
def test_authkit_domain_and_its_fastmcp_alias_trust_the_authkit_issuer(variable: str) -> None:
    settings = load_auth_settings({variable: "https://atoms.authkit.app/"})
    (issuer,) = settings.issuers
    assert (issuer.issuer, issuer.jwks_url, issuer.first_party) == (
        "https://atoms.authkit.app",
        "https://atoms.authkit.app/oauth2/jwks",
        False,
    )


def test_authkit_domain_without_a_scheme_means_https() -> None:
    assert (
        load_auth_settings({"AUTHKIT_DOMAIN": "atoms.authkit.app"}).issuers[0].issuer
        == "https://atoms.authkit.app"
    )


def test_same_issuer_from_two_settings_is_trusted_once() -> None:
    settings = load_auth_settings(
        {
            "WORKOS_CLIENT_ID": "c",
            "WORKOS_API_BASE_URL": "http://127.0.0.1:8100",
            "AUTHKIT_DOMAIN": "http://127.0.0.1:8100",
        }
    )
    assert [issuer.issuer for issuer in settings.issuers].count("http://127.0.0.1:8100") == 1


def test_nothing_to_trust_refuses_to_start_with_a_clear_message() -> None:
    with pytest.raises(SettingsError, match="nothing to trust"):
        load_auth_settings({})


def test_short_internal_token_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_auth_settings({"ATOMS_INTERNAL_TOKEN": "too-short"})
    assert caught.value.setting == "ATOMS_INTERNAL_TOKEN"
    assert "at least 32" in str(caught.value)
    assert "too-short" not in str(caught.value)


@pytest.mark.parametrize(
    ("variables", "setting"),
    [
        pytest.param(
            {"AUTHKIT_DOMAIN": "http://atoms.authkit.app"}, "AUTHKIT_DOMAIN", id="plain http authkit domain"
        ),
        pytest.param(
            {"WORKOS_CLIENT_ID": "c", "WORKOS_API_BASE_URL": "http://workos.example/"},
            "WORKOS_API_BASE_URL",
            id="plain http workos base",
        ),
    ],
)
def test_issuer_url_not_https_outside_loopback_is_refused(variables: dict[str, str], setting: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_auth_settings(variables)
    assert caught.value.setting == setting


def test_plain_http_is_allowed_on_loopback() -> None:
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert load_auth_settings({"AUTHKIT_DOMAIN": f"http://{host}:8100"}).issuers


def _write_config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "auth.toml"
    path.write_text(text)
    return {"ATOMS_AUTH_CONFIG": str(path)}


def test_toml_config_sets_issuers_caches_and_internal_tokens(tmp_path: Path) -> None:
    env = _write_config(
        tmp_path,
        f"""
port = 6000
max_token_bytes = 4096
first_party_client_ids = ["client_web"]

[[issuers]]
issuer = "https://issuer.example"
jwks_url = "https://issuer.example/jwks"
algorithms = ["RS256", "ES256"]
audiences = ["https://api.example"]
leeway_s = 10

[jwks]
refresh_cooldown_s = 5
max_keys = 8

[token_cache]
max_entries = 50

[[internal_tokens]]
name = "agent"
token = "{GOOD_TOKEN}"
scopes = ["tokens:validate"]
""",
    )
    settings = load_auth_settings(env)
    (issuer,) = settings.issuers
    assert (issuer.algorithms, issuer.audiences, issuer.leeway_s) == (
        ("RS256", "ES256"),
        ("https://api.example",),
        10,
    )
    assert (settings.port, settings.max_token_bytes, settings.first_party_client_ids) == (
        6000,
        4096,
        ("client_web",),
    )
    assert (settings.jwks.refresh_cooldown_s, settings.jwks.max_keys, settings.token_cache.max_entries) == (
        5,
        8,
        50,
    )
    assert settings.internal_tokens[0].scopes == ("tokens:validate",)


@pytest.mark.parametrize("algorithm", ["HS256", "none", "RS1024"])
def test_unknown_or_unsafe_algorithm_stops_start_up_naming_the_issuer(tmp_path: Path, algorithm: str) -> None:
    env = _write_config(
        tmp_path,
        '[[issuers]]\nissuer = "https://i.example"\njwks_url = "https://i.example/jwks"\n'
        f'algorithms = ["{algorithm}"]\n',
    )
    with pytest.raises(SettingsError) as caught:
        load_auth_settings(env)
    assert caught.value.setting == "issuer 'https://i.example' algorithms"


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    env = _write_config(tmp_path, "prot = 1\n")
    with pytest.raises(SettingsError, match="unknown keys: prot"):
        load_auth_settings(env)


def test_internal_tokens_file_gives_several_named_tokens(tmp_path: Path) -> None:
    second = remember(secrets.token_urlsafe(36))
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            {
                "tokens": [
                    {"name": "agent", "token": GOOD_TOKEN, "scopes": ["a"]},
                    {"name": "mcp", "token": second},
                ]
            }
        )
    )
    settings = load_auth_settings({"ATOMS_INTERNAL_TOKENS_FILE": str(path)})
    assert [(spec.name, spec.scopes) for spec in settings.internal_tokens] == [("agent", ("a",)), ("mcp", ())]


def test_duplicate_internal_token_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text(
        f'[[tokens]]\nname = "a"\ntoken = "{GOOD_TOKEN}"\n[[tokens]]\nname = "a"\ntoken = "{GOOD_TOKEN}x"\n'
    )
    with pytest.raises(SettingsError, match="defined twice"):
        load_auth_settings({"ATOMS_INTERNAL_TOKENS_FILE": str(path)})


def test_missing_tokens_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ATOMS_INTERNAL_TOKENS_FILE"):
        load_auth_settings({"ATOMS_INTERNAL_TOKENS_FILE": str(tmp_path / "absent.toml")})


def test_settings_repr_never_shows_a_token() -> None:
    settings = load_auth_settings({"ATOMS_INTERNAL_TOKEN": GOOD_TOKEN})
    assert GOOD_TOKEN not in repr(settings)
