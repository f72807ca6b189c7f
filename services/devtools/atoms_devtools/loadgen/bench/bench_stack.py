"""BenchStack: the processes `make bench` measures, each a child with its output in a log file.

The AuthKit emulator, auth services (one or several workers), the ceiling and reference
servers, the Atoms MCP service and the agent, on loopback ports. Every child is stopped
(SIGTERM, graceful) when the stack closes, in reverse order of start.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from atoms_devtools.demo.child_process import ServiceProcess

BENCH_CLIENT_ID = "client_bench"
# Not passed on from the bench's own environment: the stack sets what it needs. OTEL_ too, so
# that a shell with tracing variables cannot turn tracing on in a measurement that says "off".
_INHERITED_PREFIXES = ("ATOMS_", "WORKOS_", "AUTHKIT_", "FASTMCP_SERVER_AUTH", "OTEL_")


@dataclass
class AuthHandle:
    """One running auth service (a single process or a pool of workers)."""

    process: ServiceProcess
    port: int
    metrics_port: int | None
    workers: int
    name: str

    @property
    def address(self) -> str:
        """`127.0.0.1:port`."""
        return f"127.0.0.1:{self.port}"


@dataclass
class ServerHandle:
    """A running comparison server (ceiling or reference)."""

    process: ServiceProcess
    port: int

    @property
    def address(self) -> str:
        """`127.0.0.1:port`."""
        return f"127.0.0.1:{self.port}"


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BenchStack:
    """Starts and stops the bench's child processes."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.keys_file = workdir / "authkit-keys.json"
        self.internal_token = secrets.token_urlsafe(36)
        self.issuer = ""
        self._env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
        self._started: list[ServiceProcess] = []

    @property
    def jwks_url(self) -> str:
        """The WorkOS-shaped JWKS URL the auth service and the reference validator use."""
        return f"{self.issuer}/sso/jwks/{BENCH_CLIENT_ID}"

    async def start_emulator(self) -> str:
        """Start the AuthKit emulator; return its issuer URL."""
        process = await self._start(
            "authkit-emulator", "dev", "authkit", "--port", "0", "--keys-file", str(self.keys_file)
        )
        self.issuer = (await process.wait_for(r"listening on (http://\S+?);")).group(1)
        return self.issuer

    async def start_auth(
        self, name: str, *, port: int | None = None, workers: int = 1, env: dict[str, str] | None = None
    ) -> AuthHandle:
        """Start `atoms auth serve` trusting the emulator, with metrics; wait until every worker listens."""
        port = port or free_port()
        variables = {
            "WORKOS_CLIENT_ID": BENCH_CLIENT_ID,
            "WORKOS_API_BASE_URL": f"{self.issuer}/",
            "ATOMS_INTERNAL_TOKEN": self.internal_token,
            **(env or {}),
        }
        args = ["auth", "serve", "--port", str(port), "--metrics-port", "0", "--workers", str(workers)]
        process = await self._start(name, *args, env=variables)
        metrics_port: int | None = None
        if workers > 1:
            await process.wait_for(r'"workers": \d+')  # the pool's line: every worker listens
        else:
            metrics_port = int((await process.wait_for(r'"metrics_port": (\d+)')).group(1))
        handle = AuthHandle(process=process, port=port, metrics_port=metrics_port, workers=workers, name=name)
        await wait_until_keys_loaded(handle)
        return handle

    async def restart_auth(self, handle: AuthHandle) -> AuthHandle:
        """Stop an auth service (gracefully) and start it again on the same port."""
        await self.stop(handle.process)
        return await self.start_auth(f"{handle.name}-restarted", port=handle.port, workers=handle.workers)

    async def start_ceiling(self) -> ServerHandle:
        """Start the bare grpc.aio server (the ceiling)."""
        process = await self._start_loadgen("ceiling", "serve-ceiling")
        return ServerHandle(process, int((await process.wait_for(r'"grpc_port": (\d+)')).group(1)))

    async def start_reference(self) -> ServerHandle:
        """Start the PyJWKClient + jwt.decode validator (the reference)."""
        process = await self._start_loadgen("reference", "serve-reference", "--jwks-url", self.jwks_url)
        return ServerHandle(process, int((await process.wait_for(r'"grpc_port": (\d+)')).group(1)))

    async def start_mcp(self, auth: AuthHandle) -> str:
        """Start the Atoms MCP service against `auth`; return its MCP URL."""
        url, _ = await self.start_mcp_server(auth)
        return url

    async def start_mcp_server(
        self, auth: AuthHandle, *, name: str = "atoms-mcp", env: dict[str, str] | None = None
    ) -> tuple[str, ServiceProcess]:
        """Start the Atoms MCP service against `auth` (`env` added); return its MCP URL and process."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = await self._start(
            name,
            "mcp",
            "serve",
            "--port",
            str(port),
            env={
                "ATOMS_MCP_BASE_URL": base,
                "AUTHKIT_DOMAIN": self.issuer,
                "ATOMS_AUTH_ADDR": auth.address,
                "ATOMS_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / f'{name}.db'}",
                **(env or {}),
            },
        )
        await process.wait_for(r"(Atoms MCP service listening)")
        return f"{base}/api/mcp", process

    async def start_agent(self, auth: AuthHandle, mcp_url: str) -> str:
        """Start the agent against `auth` and the MCP service; return its gRPC address."""
        return (await self.start_agent_server(auth, mcp_url)).address

    async def start_agent_server(
        self, auth: AuthHandle, mcp_url: str, *, name: str = "agent", env: dict[str, str] | None = None
    ) -> ServerHandle:
        """Start the agent against `auth` and the MCP service (`env` added); return its process and port."""
        process = await self._start(
            name,
            "agent",
            "serve",
            "--port",
            "0",
            "--http-port",
            "0",
            env={
                "ATOMS_AUTH_ADDR": auth.address,
                "ATOMS_MCP_URL": mcp_url,
                "ATOMS_AGENT_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / f'{name}.db'}",
                **(env or {}),
            },
        )
        return ServerHandle(process, int((await process.wait_for(r'"grpc_port": (\d+)')).group(1)))

    async def stop(self, process: ServiceProcess) -> None:
        """Stop one child now (gracefully)."""
        await process.stop()
        if process in self._started:
            self._started.remove(process)

    async def aclose(self) -> None:
        """Stop every child, newest first."""
        while self._started:
            await self._started.pop().stop()

    async def _start(self, name: str, *args: str, env: dict[str, str] | None = None) -> ServiceProcess:
        process = await ServiceProcess.start(
            name, *args, log_dir=self.workdir, env={**self._env, **(env or {})}
        )
        self._started.append(process)
        return process

    async def _start_loadgen(self, name: str, *args: str) -> ServiceProcess:
        # The comparison servers are loadgen commands: run them through the package itself, so
        # the bench does not depend on how the umbrella `atoms` program registers them.
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as sink:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "atoms_devtools.loadgen",
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env,
            )
        process = ServiceProcess(child, name=name, log_path=log_path)
        self._started.append(process)
        return process


async def scrape_metrics(handle: AuthHandle) -> dict[str, float]:
    """The auth service's metrics as `{name{label=value,...}: value}` (empty without an endpoint)."""
    if handle.metrics_port is None:
        return {}
    async with httpx.AsyncClient(timeout=5.0) as http:
        text = (await http.get(f"http://127.0.0.1:{handle.metrics_port}/metrics")).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def metric_sum(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum the samples of `name` whose labels include `labels`."""
    wanted = [f"{k}={v}" for k, v in labels.items()]
    total = 0.0
    for key, value in samples.items():
        metric, _, label_text = key.partition("{")
        if metric == name and all(item in label_text.rstrip("}").split(",") for item in wanted):
            total += value
    return total


async def wait_until_keys_loaded(handle: AuthHandle, *, timeout_s: float = 20.0) -> None:
    """Wait until the service has fetched the issuer's keys (first JWKS fetch logged)."""
    await handle.process.wait_for(r"JWKS fetched for issuer", timeout_s=timeout_s)
