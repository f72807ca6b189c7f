"""EgressPolicy and the settings that feed it: which addresses are public, what operators may allow."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from atoms_agent.egress_policy import EgressPolicy, is_public_address, parse_allow_list
from atoms_agent.settings import load_agent_settings
from atoms_grpc.settings_loading import SettingsError


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("10.1.2.3", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("::", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::", False),
        ("2002:5db8:d70e::", True),
        ("2001:db8::1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_loopback_is_allowed_only_when_asked_even_behind_an_ipv4_mapping() -> None:
    mapped = ipaddress.ip_address("::ffff:127.0.0.1")
    assert not EgressPolicy().address_permitted(mapped)
    assert EgressPolicy(allow_loopback=True).address_permitted(mapped)
    assert not EgressPolicy(allow_loopback=True).address_permitted(ipaddress.ip_address("10.0.0.1"))


@pytest.mark.parametrize(
    "host",
    ["localhost", "db", "api.svc", "api.ns.svc.cluster.local", "meta.internal", "nas.local", "x.home.arpa"],
)
def test_internal_host_names_are_refused_unless_allow_listed(host: str) -> None:
    assert EgressPolicy().host_name_problem(host) is not None
    assert EgressPolicy(allowed_hosts=frozenset({host})).host_name_problem(host) is None


def test_host_names_must_be_plain_dns_names() -> None:
    policy = EgressPolicy()
    assert policy.host_name_problem("mcp.example.com") is None
    assert policy.host_name_problem("MCP.Example.com.") is None
    assert policy.host_name_problem("bücher.example") is not None
    assert policy.host_name_problem("a_b.example") is not None


def test_a_wildcard_matches_names_below_it_only() -> None:
    policy = EgressPolicy(allowed_hosts=frozenset({"*.tools.corp"}))
    assert policy.host_is_allow_listed("jira.tools.corp")
    assert policy.host_is_allow_listed("a.b.tools.corp")
    assert not policy.host_is_allow_listed("tools.corp")
    assert not policy.host_is_allow_listed("eviltools.corp")


def test_an_allow_list_splits_into_networks_and_names() -> None:
    networks, hosts = parse_allow_list(
        [" 10.20.0.0/16", "fd00:1::/32", "10.9.9.9", "MCP.corp.internal", "*.x.y"]
    )
    assert networks == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("fd00:1::/32"),
        ipaddress.ip_network("10.9.9.9/32"),
    )
    assert hosts == frozenset({"mcp.corp.internal", "*.x.y"})


@pytest.mark.parametrize("entry", ["10.20.0.1/16", "10.0.0.0/33", "*", "a..b", "x.*.y", "http://x.y"])
def test_a_malformed_allow_list_entry_stops_the_agent_naming_the_variable(entry: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_agent_settings({"ATOMS_AGENT_MCP_EGRESS_ALLOW": f"10.1.0.0/16,{entry}"})
    assert caught.value.setting == "ATOMS_AGENT_MCP_EGRESS_ALLOW"


def test_the_allow_list_reaches_the_settings() -> None:
    settings = load_agent_settings({"ATOMS_AGENT_MCP_EGRESS_ALLOW": "10.20.0.0/16, mcp.corp.internal"})
    assert settings.mcp_egress_allowed_networks == (ipaddress.ip_network("10.20.0.0/16"),)
    assert settings.mcp_egress_allowed_hosts == frozenset({"mcp.corp.internal"})
    assert load_agent_settings({}).mcp_egress_allowed_networks == ()


def test_a_plain_http_first_party_url_off_loopback_stops_the_agent() -> None:
    with pytest.raises(SettingsError) as caught:
        load_agent_settings({"ATOMS_MCP_URL": "http://atoms-mcp:8000/api/mcp"})
    assert caught.value.setting == "ATOMS_MCP_URL"
    assert "clear text" in str(caught.value)


def test_a_plain_http_entry_of_the_first_party_file_stops_the_agent(tmp_path: Path) -> None:
    listed = tmp_path / "mcps.json"
    listed.write_text(json.dumps({"atoms": {"url": "http://10.0.0.7:8000/api/mcp"}}), encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_agent_settings({"ATOMS_FIRST_PARTY_MCPS_FILE": str(listed)})
    assert caught.value.setting == "ATOMS_FIRST_PARTY_MCPS_FILE"


@pytest.mark.parametrize(
    "environ",
    [
        {"ATOMS_MCP_URL": "https://mcp.atoms.tech/api/mcp"},
        {"ATOMS_MCP_URL": "http://127.0.0.1:8000/api/mcp"},
        {"ATOMS_MCP_URL": "http://localhost:8000/api/mcp"},
        {
            "ATOMS_MCP_URL": "http://atoms-mcp:8000/api/mcp",
            "ATOMS_AGENT_ALLOW_PLAINTEXT_FIRST_PARTY_MCP": "true",
        },
        {},
    ],
)
def test_tls_loopback_or_an_explicit_mesh_setting_is_accepted(environ: dict[str, str]) -> None:
    load_agent_settings(environ)
