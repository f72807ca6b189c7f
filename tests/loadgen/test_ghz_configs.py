"""The ghz configs in loadtest/ are valid ghz config files for methods that exist.

ghz itself is not installed here; the checks follow its config schema (bojand/ghz
runner/config.go): known keys only, Go durations, string metadata, and a `call` and `data`
that fit the method in loadtest/atoms.protoset (the same descriptors reflection serves).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

LOADTEST = Path(__file__).resolve().parents[2] / "loadtest"
GHZ_CONFIG_KEYS = frozenset(
    {
        "proto",
        "protoset",
        "call",
        "cacert",
        "cert",
        "key",
        "skipTLS",
        "skipFirst",
        "cname",
        "authority",
        "insecure",
        "total",
        "async",
        "concurrency",
        "concurrency-schedule",
        "concurrency-start",
        "concurrency-end",
        "concurrency-step",
        "concurrency-step-duration",
        "concurrency-max-duration",
        "connections",
        "rps",
        "duration",
        "duration-stop",
        "max-duration",
        "timeout",
        "data",
        "data-file",
        "binary-file",
        "metadata",
        "metadata-file",
        "stream-interval",
        "output",
        "format",
        "connect-timeout",
        "keepalive",
        "cpus",
        "import-paths",
        "name",
        "tags",
        "reflect-metadata",
        "debug",
        "host",
        "enable-compression",
        "load-schedule",
        "load-start",
        "load-end",
        "load-step",
        "load-step-duration",
        "load-max-duration",
    }
)
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
CONFIGS = sorted(LOADTEST.glob("*.json"))


def _pool() -> descriptor_pool.DescriptorPool:
    files = descriptor_pb2.FileDescriptorSet.FromString((LOADTEST / "atoms.protoset").read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool


def _config(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_the_configs_issue_6_asks_for_are_there() -> None:
    calls = {(c["call"], json.dumps(c.get("data"), sort_keys=True)) for c in map(_config, CONFIGS)}
    names = {path.name for path in CONFIGS}
    assert {
        "validate-token-internal.json",
        "validate-token-user-jwt.json",
        "validate-token-invalid.json",
        "agent-call-tool-whoami.json",
    } <= names
    assert len(calls) == len(CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_uses_only_ghz_keys_and_go_durations(path: Path) -> None:
    config = _config(path)
    assert set(config) <= GHZ_CONFIG_KEYS, set(config) - GHZ_CONFIG_KEYS
    for key in ("duration", "timeout", "max-duration", "connect-timeout"):
        if key in config:
            assert GO_DURATION.match(config[key]), f"{key}: {config[key]!r} is not a Go duration"
    assert all(isinstance(v, str) for v in config.get("metadata", {}).values())
    assert config["insecure"] is True
    assert config["host"].startswith("127.0.0.1:")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_calls_a_method_of_the_protoset_with_data_that_fits_its_request(path: Path) -> None:
    config = _config(path)
    service_name, _, method_name = config["call"].replace("/", ".").rpartition(".")
    method = _pool().FindServiceByName(service_name).methods_by_name[method_name]
    request = message_factory.GetMessageClass(method.input_type)()
    json_format.ParseDict(config["data"], request)  # raises on an unknown field or a wrong type
