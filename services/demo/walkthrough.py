"""The demo's walk through the token's path, one printed hop at a time.

It starts the AuthKit emulator and the auth service as child processes on free loopback
ports, mints a user's session token, and shows each decision the auth service makes. Any
failed step stops the walk with a non-zero exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from services.atoms_grpc.service_error import RemoteServiceError
from services.authkit_emulator import EmulatorKeyStore, mint_token
from services.demo.child_process import ServiceProcess

DEMO_CLIENT_ID = "client_demo"
_ENV_TO_DROP = (
    "WORKOS_CLIENT_ID",
    "WORKOS_API_BASE_URL",
    "AUTHKIT_DOMAIN",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN",
    "ATOMS_INTERNAL_TOKEN",
    "ATOMS_INTERNAL_TOKENS_FILE",
    "ATOMS_AUTH_CONFIG",
)


class DemoStepError(RuntimeError):
    """A step of the walk did not show what it should."""


@dataclass
class DemoStack:
    """The running pieces the steps talk to."""

    workdir: Path
    issuer: str
    auth_address: str
    internal_token: str
    key_store: EmulatorKeyStore


def say(step: str, detail: str = "") -> None:
    """Print one hop of the walk."""
    if step:
        print(f"==> {step}", flush=True)
    if detail:
        print(f"    {detail}", flush=True)


@contextlib.asynccontextmanager
async def running_stack(workdir: Path) -> AsyncIterator[DemoStack]:
    """Start the emulator and the auth service; stop both (SIGTERM, graceful) on exit."""
    base_env = {key: value for key, value in os.environ.items() if key not in _ENV_TO_DROP}
    keys_file = workdir / "authkit-keys.json"
    internal_token = secrets.token_urlsafe(36)
    started: list[ServiceProcess] = []
    try:
        emulator = await ServiceProcess.start(
            "authkit-emulator",
            "dev",
            "authkit",
            "--port",
            "0",
            "--keys-file",
            str(keys_file),
            log_dir=workdir,
            env=base_env,
        )
        started.append(emulator)
        issuer = (await emulator.wait_for(r"listening on (http://\S+?);")).group(1)
        say("AuthKit emulator is up", f"issuer {issuer}, JWKS {issuer}/sso/jwks/{DEMO_CLIENT_ID}")
        auth_env = {
            **base_env,
            "WORKOS_CLIENT_ID": DEMO_CLIENT_ID,
            "WORKOS_API_BASE_URL": f"{issuer}/",
            "ATOMS_INTERNAL_TOKEN": internal_token,
        }
        auth = await ServiceProcess.start(
            "auth", "auth", "serve", "--port", "0", "--no-metrics", log_dir=workdir, env=auth_env
        )
        started.append(auth)
        port = (await auth.wait_for(r'"grpc_port": (\d+)')).group(1)
        yield DemoStack(
            workdir, issuer, f"127.0.0.1:{port}", internal_token, EmulatorKeyStore(path=keys_file)
        )
    finally:
        for process in reversed(started):
            code = await process.stop()
            # uvicorn re-raises SIGTERM after its graceful shutdown, so -15 is a clean stop too.
            outcome = "cleanly" if code in (0, -signal.SIGTERM) else f"with exit code {code}"
            say(f"stopped {process.name} {outcome}", f"log {process.log_path}")


async def wait_until_serving(address: str, *, timeout_s: float = 20.0) -> None:
    """Poll grpc.health.v1 until the server reports SERVING."""
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)
    raise DemoStepError(f"{address} did not report SERVING within {timeout_s:.0f}s")


async def validate(stack: DemoStack, token: str, audience: str = "") -> auth_pb2.Principal:
    """Ask the auth service about a token; raise RemoteServiceError on refusal."""
    async with grpc.aio.insecure_channel(stack.auth_address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        try:
            reply = await stub.ValidateToken(
                auth_pb2.ValidateTokenRequest(token=f"Bearer {token}", audience=audience), timeout=5
            )
        except grpc.aio.AioRpcError as err:
            raise RemoteServiceError.from_rpc_error(err, default_reason=err.code().name) from err
    return reply.principal


async def expect_refusal(stack: DemoStack, token: str, reason: str) -> None:
    """Show that the auth service refuses `token` with `reason`."""
    try:
        principal = await validate(stack, token)
    except RemoteServiceError as err:
        say("", f"refused: {err.status_code.name} {err.reason} ({err.message})")
        if err.reason != reason:
            raise DemoStepError(f"expected reason {reason}, got {err.reason}") from err
        return
    raise DemoStepError(f"token was accepted as {principal.subject}; expected {reason}")


async def walk(stack: DemoStack) -> None:
    """The steps of the demo, in the order of the token's path."""
    await wait_until_serving(stack.auth_address)
    say("auth service is SERVING", f"{stack.auth_address} (keys loaded from the emulator's JWKS)")

    token = mint_token(
        stack.key_store,
        issuer=stack.issuer,
        subject="user_demo",
        org_id="org_demo",
        role="admin",
        permissions=("projects:read", "projects:write"),
    )
    say(
        "a user signs in: AuthKit issues a session token",
        f"sub=user_demo org_id=org_demo ({len(token)} bytes)",
    )

    principal = await validate(stack, token, audience="https://mcp.atoms.local/api/mcp")
    say("auth service accepts it (first-party session token, no aud needed)")
    say("", json.dumps(json_format.MessageToDict(principal, preserving_proto_field_name=True)))

    internal = await validate(stack, stack.internal_token)
    say("an internal service token is accepted", f"service_name={internal.service_name}")

    say("a tampered token is refused")
    await expect_refusal(
        stack, token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"), "INVALID_SIGNATURE"
    )

    say("an expired token is refused")
    now = time.time()
    expired = mint_token(
        stack.key_store,
        issuer=stack.issuer,
        subject="user_demo",
        extra_claims={"iat": int(now) - 600, "exp": int(now) - 300},
    )
    await expect_refusal(stack, expired, "TOKEN_EXPIRED")

    say("a token from an untrusted issuer is refused")
    foreign = mint_token(stack.key_store, issuer="https://evil.example", subject="user_demo")
    await expect_refusal(stack, foreign, "UNTRUSTED_ISSUER")


async def run_demo() -> int:
    """Run the whole walk; return 0 when every step showed what it should."""
    workdir = Path(tempfile.mkdtemp(prefix="atoms-demo-"))
    say("Atoms demo: the token's path through the auth service", f"logs in {workdir}")
    try:
        async with running_stack(workdir) as stack:
            await walk(stack)
    except (DemoStepError, RuntimeError, RemoteServiceError) as err:
        say("DEMO FAILED", str(err))
        return 1
    say("demo finished: every step showed what it should")
    return 0
