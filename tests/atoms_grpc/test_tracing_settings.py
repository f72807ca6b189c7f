"""Tracing is off unless the standard OTEL_* variables ask for it, and a wrong ask is a clear refusal.

The spans themselves are checked across real processes in tests/e2e/test_trace_across_services.py;
here: the switch, what it adds when off (nothing), and what each program says about a bad value.
"""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from starlette.applications import Starlette

from atoms_grpc.access_log_interceptor import AccessLogInterceptor
from atoms_grpc.grpc_service import standard_interceptors
from atoms_grpc.request_id_interceptor import RequestIdInterceptor
from atoms_grpc.settings_loading import SettingsError
from atoms_grpc.status_mapping import StatusMappingInterceptor
from atoms_grpc.tracing import (
    add_tracing_middleware,
    client_interceptors,
    current_trace_ids,
    server_interceptors,
    tracing_enabled,
)
from atoms_grpc.tracing_setup import TracingSettings, start_tracing
from tests.support.token_factory import remember

PYTHON = sys.executable


def settings(**variables: str) -> TracingSettings:
    return TracingSettings.from_environment("atoms-test", variables)


def test_nothing_set_means_tracing_off() -> None:
    off = settings()
    assert not off.enabled
    assert off.service_name == "atoms-test"


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"},
        {"OTEL_TRACES_EXPORTER": "otlp"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    ],
)
def test_a_collector_endpoint_or_the_otlp_exporter_turns_tracing_on(variables: dict[str, str]) -> None:
    on = settings(**variables)
    assert on.enabled
    assert on.exporters == {"otlp"}


def test_console_and_otlp_may_be_asked_for_together() -> None:
    assert settings(OTEL_TRACES_EXPORTER="otlp, console").exporters == {"otlp", "console"}


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "TRUE"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "  "},
    ],
)
def test_none_or_a_disabled_sdk_keeps_tracing_off(variables: dict[str, str]) -> None:
    assert not settings(**variables).enabled


def test_otel_service_name_names_the_spans() -> None:
    named = settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4317", OTEL_SERVICE_NAME="auth-eu-1")
    assert named.service_name == "auth-eu-1"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "otlp,jaeger"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
            },
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ),
    ],
)
def test_an_exporter_or_protocol_not_shipped_is_refused_naming_the_variable(
    variables: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        settings(**variables)
    assert refused.value.setting == named


def test_off_adds_no_interceptor_no_middleware_and_no_log_field() -> None:
    # This test process never starts tracing.
    assert start_tracing("atoms-test", {}) is None
    assert not tracing_enabled()
    assert server_interceptors() == ()
    assert tuple(client_interceptors()) == ()
    chain = standard_interceptors(None, audience="urn:atoms:test")
    assert [type(interceptor) for interceptor in chain] == [
        RequestIdInterceptor,
        AccessLogInterceptor,
        StatusMappingInterceptor,
    ]
    app = Starlette()
    add_tracing_middleware(app, known_paths=("/health",))
    assert app.user_middleware == []
    assert current_trace_ids() is None


async def _serve_exit(command: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "atoms_cli",
        *command.split(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, err.decode()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("command", "env"),
    [
        ("auth serve --port 0 --no-metrics", {"ATOMS_INTERNAL_TOKEN": remember("t" * 40)}),
        ("agent serve --port 0 --http-port 0", {"ATOMS_AUTH_ADDR": "127.0.0.1:1"}),
        (
            "mcp serve --port 0",
            {
                "ATOMS_MCP_BASE_URL": "http://127.0.0.1:1",
                "AUTHKIT_DOMAIN": "http://127.0.0.1:2",
                "ATOMS_AUTH_ADDR": "127.0.0.1:1",
            },
        ),
    ],
)
async def test_each_service_exits_2_naming_an_exporter_it_does_not_ship(
    command: str, env: dict[str, str]
) -> None:
    code, err = await _serve_exit(command, {**env, "OTEL_TRACES_EXPORTER": "zipkin"})
    assert code == 2
    assert "configuration error: OTEL_TRACES_EXPORTER: zipkin is not shipped" in err
