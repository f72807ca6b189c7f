"""The whole stack with the web app: local AuthKit, auth, Atoms MCP, dev model, agent and Next.js.

`make web` runs it for a developer on the usual development ports (the web app on
http://127.0.0.1:3000 in `next dev`); the browser test runs it on free loopback ports with the
built app (`next start`) and a short access-token lifetime. Every process logs to a file under
the work directory; all are stopped (SIGTERM, reverse order) when the context ends, on
SIGTERM/SIGINT included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import uvloop

from atoms_devtools.demo.child_process import ServiceProcess
from atoms_devtools.demo.walkthrough import DEMO_USER_EMAIL, free_port

REPO_ROOT = Path(__file__).resolve().parents[4]
WEB_DIR = REPO_ROOT / "clients" / "web"
WEB_CLIENT_ID = "client_web"
DEV_MODEL_NAME = "atoms-dev-model"
_NEXT_READY = r"(Ready in|✓ Ready)"
_CLEAN_EXITS = (0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGINT)
# Settings of the parent that must not leak into the stack (each process gets its own below).
_ENV_TO_DROP = (
    "WORKOS_CLIENT_ID",
    "WORKOS_API_KEY",
    "WORKOS_API_BASE_URL",
    "WORKOS_API_HOSTNAME",
    "WORKOS_API_HTTPS",
    "WORKOS_API_PORT",
    "WORKOS_COOKIE_PASSWORD",
    "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
    "ATOMS_AUTHKIT_KEYS_FILE",
    "ATOMS_AUTHKIT_USERS_FILE",
    "AUTHKIT_DOMAIN",
    "ATOMS_INTERNAL_TOKEN",
    "ATOMS_INTERNAL_TOKENS_FILE",
    "ATOMS_AUTH_CONFIG",
    "ATOMS_AUTH_ADDR",
    "ATOMS_MCP_BASE_URL",
    "ATOMS_MCP_DATABASE_URL",
    "ATOMS_MCP_URL",
    "ATOMS_AGENT_DATABASE_URL",
    "ATOMS_AGENT_HTTP_URL",
    "ATOMS_LLM_BASE_URL",
    "ATOMS_LLM_MODEL",
    "ATOMS_LLM_API_KEY",
)


@dataclass(frozen=True)
class WebStackPorts:
    """Where each piece listens; 0 picks a free loopback port."""

    emulator: int = 0
    auth: int = 0
    mcp: int = 0
    model: int = 0
    agent: int = 0
    agent_http: int = 0
    web: int = 0


DEV_PORTS = WebStackPorts(emulator=8100, auth=50051, mcp=8000, agent=50052, agent_http=3284, web=3000)


@dataclass(frozen=True)
class WebStack:
    """The running stack: the URLs a browser or a test talks to."""

    workdir: Path
    issuer: str
    auth_address: str
    mcp_url: str
    model_url: str
    agent_http_url: str
    web_url: str
    client_id: str


class WebStackError(RuntimeError):
    """A piece of the stack did not start or did not stop cleanly."""


@contextlib.asynccontextmanager
async def running_web_stack(
    workdir: Path,
    *,
    ports: WebStackPorts = WebStackPorts(),
    access_token_ttl_s: int | None = None,
    next_command: str = "start",
    tracing_env: Mapping[str, str] | None = None,
) -> AsyncIterator[WebStack]:
    """Start the six processes in dependency order; stop them all in reverse order on exit.

    Args:
        workdir: logs, key and user files, databases.
        ports: where each piece listens (0: a free loopback port).
        access_token_ttl_s: the local AuthKit's access-token lifetime (its default when None).
        next_command: `start` (the built app, `next build` first) or `dev`.
        tracing_env: OTEL_* variables for every process, the web app's included.

    Raises:
        WebStackError: a process exited or did not get ready; its log is named.
    """
    if not (WEB_DIR / "node_modules" / ".bin" / "next").exists():
        raise WebStackError(f"the web app's packages are not installed: run `npm ci --prefix {WEB_DIR}`")
    base_env = {key: value for key, value in os.environ.items() if key not in _ENV_TO_DROP}
    base_env.update(tracing_env or {})
    started: list[ServiceProcess] = []

    async def start(name: str, *args: str, ready: str, **variables: str) -> str:
        process = await ServiceProcess.start(name, *args, log_dir=workdir, env={**base_env, **variables})
        started.append(process)
        return "|".join((await process.wait_for(ready)).groups())

    api_key = f"sk_test_web_{secrets.token_urlsafe(24)}"
    try:
        ttl = () if access_token_ttl_s is None else ("--access-token-ttl", str(access_token_ttl_s))
        issuer = await start(
            "authkit-emulator",
            *("dev", "authkit", "--port", str(ports.emulator), "--client-id", WEB_CLIENT_ID, *ttl),
            *("--keys-file", str(workdir / "authkit-keys.json")),
            *("--users-file", str(workdir / "authkit-users.json")),
            ready=r"listening on (http://\S+?);",
            WORKOS_API_KEY=api_key,
        )
        auth_port = await start(
            "auth",
            *("auth", "serve", "--port", str(ports.auth), "--no-metrics"),
            ready=r'"grpc_port": (\d+)',
            WORKOS_CLIENT_ID=WEB_CLIENT_ID,
            WORKOS_API_BASE_URL=f"{issuer}/",
            ATOMS_INTERNAL_TOKEN=secrets.token_urlsafe(36),
        )
        auth_address = f"127.0.0.1:{auth_port}"
        mcp_base = f"http://127.0.0.1:{ports.mcp or free_port()}"
        await start(
            "atoms-mcp",
            *("mcp", "serve", "--port", mcp_base.rsplit(":", 1)[1]),
            ready=r"(Atoms MCP service listening)",
            ATOMS_MCP_BASE_URL=mcp_base,
            AUTHKIT_DOMAIN=issuer,
            ATOMS_AUTH_ADDR=auth_address,
            ATOMS_MCP_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'atoms.db'}",
        )
        model_url = await start(
            "dev-model",
            *("dev", "model", "--port", str(ports.model)),
            ready=r"ATOMS_LLM_BASE_URL=(http://\S+)",
        )
        agent_ports = await start(
            "agent",
            *("agent", "serve", "--port", str(ports.agent), "--http-port", str(ports.agent_http)),
            ready=r'"grpc_port": (\d+), "http_port": (\d+)',
            ATOMS_AUTH_ADDR=auth_address,
            ATOMS_MCP_URL=f"{mcp_base}/api/mcp",
            ATOMS_AGENT_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'agent.db'}",
            ATOMS_LLM_BASE_URL=model_url,
            ATOMS_LLM_MODEL=DEV_MODEL_NAME,
        )
        agent_http_url = f"http://127.0.0.1:{agent_ports.split('|')[1]}"
        web_port = ports.web or free_port()
        web_url = f"http://127.0.0.1:{web_port}"
        web = await start_web_app(
            workdir,
            command=next_command,
            port=web_port,
            env={
                **base_env,
                **web_app_settings(
                    issuer=issuer, api_key=api_key, web_url=web_url, agent_http_url=agent_http_url
                ),
                "ATOMS_MCP_URL": f"{mcp_base}/api/mcp",
            },
        )
        started.append(web)
        await web.wait_for(_NEXT_READY, timeout_s=120)
        yield WebStack(
            workdir=workdir,
            issuer=issuer,
            auth_address=auth_address,
            mcp_url=f"{mcp_base}/api/mcp",
            model_url=model_url,
            agent_http_url=agent_http_url,
            web_url=web_url,
            client_id=WEB_CLIENT_ID,
        )
    except RuntimeError as err:
        logs = ", ".join(str(process.log_path) for process in started)
        raise WebStackError(f"{err} (logs: {logs})") from err
    finally:
        failures = []
        for process in reversed(started):
            code = await process.stop()
            # uvicorn-based children may re-raise SIGTERM after a graceful stop: -15 is clean too.
            # Ctrl-C reaches every process of the terminal's group, so SIGINT exits are clean too.
            if code not in _CLEAN_EXITS:
                failures.append(f"{process.name} exited with {code} (see {process.log_path})")
        if failures and sys.exc_info()[0] is None:
            raise WebStackError("; ".join(failures))


def web_app_settings(*, issuer: str, api_key: str, web_url: str, agent_http_url: str) -> dict[str, str]:
    """The web app's environment: authkit-nextjs's documented settings pointed at the local AuthKit."""
    host_port = issuer.removeprefix("http://").removeprefix("https://").rstrip("/")
    hostname, _, port = host_port.partition(":")
    return {
        "WORKOS_CLIENT_ID": WEB_CLIENT_ID,
        "WORKOS_API_KEY": api_key,
        "WORKOS_COOKIE_PASSWORD": secrets.token_urlsafe(36),
        "WORKOS_API_HOSTNAME": hostname,
        "WORKOS_API_HTTPS": "true" if issuer.startswith("https://") else "false",
        "WORKOS_API_PORT": port or ("443" if issuer.startswith("https://") else "80"),
        "NEXT_PUBLIC_WORKOS_REDIRECT_URI": f"{web_url}/callback",
        "ATOMS_AGENT_HTTP_URL": agent_http_url,
        "NEXT_TELEMETRY_DISABLED": "1",
    }


async def start_web_app(log_dir: Path, *, command: str, port: int, env: Mapping[str, str]) -> ServiceProcess:
    """Start `next start|dev` of clients/web on 127.0.0.1:`port`; output in `log_dir/web.log`."""
    if command not in ("start", "dev"):
        raise ValueError(f"command must be start or dev, got {command!r}")
    log_path = log_dir / "web.log"
    with log_path.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(WEB_DIR / "node_modules" / ".bin" / "next"),
            *(command, "--hostname", "127.0.0.1", "--port", str(port)),
            cwd=WEB_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env),
        )
    return ServiceProcess(process, name="web", log_path=log_path)


async def serve_until_signalled(ports: WebStackPorts, next_command: str) -> int:
    """`make web`: run the stack until SIGTERM or SIGINT, then stop everything."""
    workdir = Path(tempfile.mkdtemp(prefix="atoms-web-"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"==> starting the stack with the web app (logs in {workdir})", flush=True)
    try:
        async with running_web_stack(workdir, ports=ports, next_command=next_command) as stack:
            print(f"==> open {stack.web_url} and sign in as {DEMO_USER_EMAIL} (org_acme)", flush=True)
            print(
                "    or hedy@globex.test (org_globex); the local AuthKit's login page lists every "
                f"dev user. Agent {stack.agent_http_url}, Atoms MCP {stack.mcp_url}. Ctrl-C stops all.",
                flush=True,
            )
            await stop.wait()
            print("==> stopping", flush=True)
    except WebStackError as err:
        print(f"web stack failed: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m atoms_devtools.demo.web_stack [--free-ports] [--built]`."""
    parser = argparse.ArgumentParser(prog="python -m atoms_devtools.demo.web_stack", description=__doc__)
    parser.add_argument(
        "--free-ports", action="store_true", help="free loopback ports instead of the development ones"
    )
    parser.add_argument("--built", action="store_true", help="`next start` of the built app, not `next dev`")
    options = parser.parse_args(argv)
    ports = WebStackPorts() if options.free_ports else DEV_PORTS
    return uvloop.run(serve_until_signalled(ports, "start" if options.built else "dev"))


if __name__ == "__main__":
    sys.exit(main())
