"""The demo's walk along the AuthKit integration plan's path, one printed hop at a time.

It starts the local AuthKit, the auth service, the Atoms MCP service, the dev model (the
agent's model unless one is configured) and the agent as child processes on free loopback
ports, signs a dev user in through the hosted login page (driven over HTTP as a browser
would, with the front end's code exchange), and walks client -> agent -> Atoms MCP -> auth
service and back, with no OAuth prompt, first by direct tool calls, then by a chat in which
the model picks the tool; then it shows the refusals (a tampered token, a client without a
token) and signs the user out. Any failed step stops the walk with a non-zero exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.protobuf import json_format, struct_pb2

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_devtools.authkit_emulator import EmulatorKeyStore
from atoms_devtools.demo.child_process import ServiceProcess
from atoms_devtools.demo.front_end_sign_in import FrontEndApp, SignedInUser, sign_in, sign_out
from atoms_devtools.dev_model import DEV_MODEL_ID
from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver
from atoms_devtools.trace_receiver.trace_tree import every_hop_arrived, render_trace_tree
from atoms_grpc.service_error import RemoteServiceError

DEMO_CLIENT_ID = "client_demo"
_LOOKALIKE_HOST = "mcp.lookalike.example"  # a registered server that only looks first-party
DEMO_USER_EMAIL = "ada@acme.test"  # a default dev user of the local AuthKit: admin of org_acme
_ENV_TO_DROP = (
    "WORKOS_CLIENT_ID",
    "WORKOS_API_KEY",
    "ATOMS_AUTHKIT_KEYS_FILE",
    "ATOMS_AUTHKIT_USERS_FILE",
    "WORKOS_API_BASE_URL",
    "AUTHKIT_DOMAIN",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES",
    "ATOMS_INTERNAL_TOKEN",
    "ATOMS_INTERNAL_TOKENS_FILE",
    "ATOMS_AUTH_CONFIG",
    "ATOMS_AUTH_ADDR",
    "ATOMS_MCP_BASE_URL",
    "ATOMS_MCP_REQUIRED_SCOPES",
    "ATOMS_MCP_DATABASE_URL",
    "ATOMS_MCP_URL",
    "ATOMS_AGENT_DATABASE_URL",
    "ATOMS_AGENT_AUDIENCE",
    "ATOMS_AGENT_MCP_EGRESS_ALLOW",
    "ATOMS_AGENT_ALLOW_LOOPBACK_MCP",
    "ATOMS_AGENT_ALLOW_PLAINTEXT_FIRST_PARTY_MCP",
    "ATOMS_FIRST_PARTY_MCP_ORIGINS",
    "ATOMS_FIRST_PARTY_MCPS_FILE",
    "ATOMS_LLM_BASE_URL",
    "ATOMS_LLM_MODEL",
)


class DemoStepError(RuntimeError):
    """A step of the walk did not show what it should."""


@dataclass
class DemoStack:
    """The running pieces the steps talk to."""

    workdir: Path
    issuer: str
    auth_address: str
    mcp_url: str
    agent_address: str
    agent_http_url: str
    key_store: EmulatorKeyStore
    api_key: str = ""
    model_url: str = ""  # the agent's ATOMS_LLM_BASE_URL: the dev model's unless agent_env named one

    @property
    def front_end(self) -> FrontEndApp:
        """The WorkOS application the demo's front end signs users in as."""
        return FrontEndApp(issuer=self.issuer, client_id=DEMO_CLIENT_ID, api_key=self.api_key)


def say(step: str, detail: str = "") -> None:
    """Print one hop of the walk."""
    if step:
        print(f"==> {step}", flush=True)
    if detail:
        print(f"    {detail}", flush=True)


def free_port() -> int:
    """A port that was free a moment ago (the services need their public URL before they start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running_stack(
    workdir: Path, *, agent_env: dict[str, str] | None = None, tracing_env: Mapping[str, str] | None = None
) -> AsyncIterator[DemoStack]:
    """Start emulator, auth, MCP, dev model and agent; stop all (SIGTERM, graceful, reverse order) on exit.

    Args:
        workdir: where the logs, key file and databases go.
        agent_env: extra environment for the agent (development flags; a model endpoint in
            ATOMS_LLM_BASE_URL and ATOMS_LLM_MODEL, which leaves the dev model unstarted).
        tracing_env: OTEL_* variables for every process (a trace collector to send spans to).
    """
    env = {key: value for key, value in os.environ.items() if key not in _ENV_TO_DROP}
    env.update(tracing_env or {})
    started: list[ServiceProcess] = []

    async def start(name: str, *args: str, ready: str, **variables: str) -> str:
        process = await ServiceProcess.start(name, *args, log_dir=workdir, env={**env, **variables})
        started.append(process)
        return "|".join((await process.wait_for(ready)).groups())

    try:
        keys_file = workdir / "authkit-keys.json"
        api_key = f"sk_test_demo_{secrets.token_urlsafe(24)}"
        issuer = await start(
            "authkit-emulator",
            "dev",
            "authkit",
            "--port",
            "0",
            "--keys-file",
            str(keys_file),
            "--users-file",
            str(workdir / "authkit-users.json"),
            "--client-id",
            DEMO_CLIENT_ID,
            ready=r"listening on (http://\S+?);",
            WORKOS_API_KEY=api_key,
        )
        say("local AuthKit is up", f"issuer {issuer}, application {DEMO_CLIENT_ID}, default dev users")
        auth_port = await start(
            "auth",
            "auth",
            "serve",
            "--port",
            "0",
            "--no-metrics",
            ready=r'"grpc_port": (\d+)',
            WORKOS_CLIENT_ID=DEMO_CLIENT_ID,
            WORKOS_API_BASE_URL=f"{issuer}/",
            ATOMS_INTERNAL_TOKEN=secrets.token_urlsafe(36),
        )
        auth_address = f"127.0.0.1:{auth_port}"
        say("auth service is up", f"{auth_address}, trusting {issuer} (WorkOS session tokens, first-party)")
        mcp_port = free_port()
        mcp_base = f"http://127.0.0.1:{mcp_port}"
        await start(
            "atoms-mcp",
            "mcp",
            "serve",
            "--port",
            str(mcp_port),
            ready=r"(Atoms MCP service listening)",
            ATOMS_MCP_BASE_URL=mcp_base,
            AUTHKIT_DOMAIN=issuer,
            ATOMS_AUTH_ADDR=auth_address,
            ATOMS_MCP_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'atoms.db'}",
        )
        say("Atoms MCP service is up", f"{mcp_base}/api/mcp, asking {auth_address} about every token")
        model_env = await _start_dev_model(start) if "ATOMS_LLM_BASE_URL" not in (agent_env or {}) else {}
        agent_ports = await start(
            "agent",
            "agent",
            "serve",
            "--port",
            "0",
            "--http-port",
            "0",
            ready=r'"grpc_port": (\d+), "http_port": (\d+)',
            ATOMS_AUTH_ADDR=auth_address,
            ATOMS_MCP_URL=f"{mcp_base}/api/mcp",
            ATOMS_AGENT_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'agent.db'}",
            **{**model_env, **(agent_env or {})},
        )
        agent_port, agent_http_port = agent_ports.split("|")
        say(
            "agent service is up",
            f"gRPC 127.0.0.1:{agent_port}, HTTP :{agent_http_port}, atoms -> {mcp_base}/api/mcp",
        )
        yield DemoStack(
            workdir=workdir,
            issuer=issuer,
            auth_address=auth_address,
            mcp_url=f"{mcp_base}/api/mcp",
            agent_address=f"127.0.0.1:{agent_port}",
            agent_http_url=f"http://127.0.0.1:{agent_http_port}",
            key_store=EmulatorKeyStore(path=keys_file),
            api_key=api_key,
            model_url={**model_env, **(agent_env or {})}.get("ATOMS_LLM_BASE_URL", ""),
        )
    finally:
        for process in reversed(started):
            code = await process.stop()
            # uvicorn-based children may re-raise SIGTERM after a graceful stop: -15 is clean too.
            outcome = "cleanly" if code in (0, -signal.SIGTERM) else f"with exit code {code}"
            say(f"stopped {process.name} {outcome}")
            if outcome != "cleanly":
                raise DemoStepError(f"{process.name} did not stop cleanly; see {process.log_path}")


async def _start_dev_model(start: Callable[..., Awaitable[str]]) -> dict[str, str]:
    """Start the dev model; return the agent's ATOMS_LLM_* settings pointing at it."""
    model_url = await start("dev-model", "dev", "model", "--port", "0", ready=r"listening on (http://\S+?);")
    say("dev model is up", f"{model_url}, {DEV_MODEL_ID}: a local stand-in for a real model, for the chat")
    return {"ATOMS_LLM_BASE_URL": model_url, "ATOMS_LLM_MODEL": DEV_MODEL_ID}


class AgentCaller:
    """The front end's side: gRPC calls to the agent with the user's `authorization` metadata."""

    def __init__(self, channel: grpc.aio.Channel, token: str) -> None:
        self._stub = agent_pb2_grpc.AgentServiceStub(channel)
        self._metadata = (("authorization", f"Bearer {token}"),)

    async def compose(self) -> agent_pb2.ComposeMcpServersResponse:
        return await self._call(self._stub.ComposeMcpServers, agent_pb2.ComposeMcpServersRequest())

    async def register(self, name: str, url: str) -> agent_pb2.RegisterMcpServerResponse:
        request = agent_pb2.RegisterMcpServerRequest(
            name=name, url=url, scope=agent_pb2.MCP_SERVER_SCOPE_USER
        )
        return await self._call(self._stub.RegisterMcpServer, request)

    async def call_tool(self, tool: str, **arguments: Any) -> dict[str, Any]:
        args = struct_pb2.Struct()
        args.update(arguments)
        reply = await self._call(
            self._stub.CallTool,
            agent_pb2.CallToolRequest(server_name="atoms", tool_name=tool, arguments=args),
        )
        if reply.is_error:
            raise DemoStepError(f"{tool} failed: {reply.content[0].text if reply.content else '?'}")
        return json_format.MessageToDict(reply.structured_content)

    async def chat(self, text: str, *, traceparent: str = "") -> list[agent_pb2.ChatResponse]:
        request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="user", content=text)])
        metadata = (*self._metadata, ("traceparent", traceparent)) if traceparent else self._metadata
        try:
            return [event async for event in self._stub.Chat(request, metadata=metadata, timeout=30)]
        except grpc.aio.AioRpcError as err:
            raise RemoteServiceError.from_rpc_error(err, default_reason=err.code().name) from err

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, metadata=self._metadata, timeout=15)
        except grpc.aio.AioRpcError as err:
            raise RemoteServiceError.from_rpc_error(err, default_reason=err.code().name) from err


async def walk(stack: DemoStack, traces: OtlpTraceReceiver | None = None) -> None:
    """The steps of the demo, in the order of the AuthKit integration plan's path."""
    async with httpx.AsyncClient(timeout=10) as http:
        say(f"a user signs in at the local AuthKit as {DEMO_USER_EMAIL}")
        user = await sign_in(stack.front_end, http, email=DEMO_USER_EMAIL, say=lambda hop: say("", hop))
        async with grpc.aio.insecure_channel(stack.agent_address) as channel:
            agent = AgentCaller(channel, user.access_token)
            await _show_composition(agent)
            await _show_tools_through_the_agent(agent, user)
            await _show_chat_through_the_agent(agent, user, traces)
            await _show_tampered_token_refused(channel, user.access_token)
        await _show_oauth_challenge_without_token(stack)
        say("the user signs out: the session ends")
        await sign_out(stack.front_end, http, user, say=lambda hop: say("", hop))


async def _show_composition(agent: AgentCaller) -> None:
    await agent.register("atoms-mcp", f"https://{_LOOKALIKE_HOST}/api/mcp")
    composed = await agent.compose()
    say("the agent composes the user's MCP servers (a user registered a lookalike named atoms-mcp)")
    for server in composed.servers:
        say(
            "",
            f"{server.name:<10} {server.url:<45} "
            f"forwards user token: {str(server.forwards_user_token).lower():<5} "
            f"headers: {json.dumps(dict(server.headers))}",
        )
    forwarded = [server.name for server in composed.servers if server.forwards_user_token]
    if forwarded != ["atoms"]:
        raise DemoStepError(f"the token would be forwarded to {forwarded}, expected only atoms")


async def _show_tools_through_the_agent(agent: AgentCaller, user: SignedInUser) -> None:
    started = time.perf_counter()
    whoami = await agent.call_tool("whoami")
    say(
        "client -> agent -> Atoms MCP -> auth service: whoami, with no OAuth prompt",
        f"{json.dumps(whoami)} ({(time.perf_counter() - started) * 1000:.0f} ms)",
    )
    if (whoami.get("subject"), whoami.get("org_id")) != (user.user_id, user.organization_id):
        raise DemoStepError("whoami did not return the signed-in user and organization")
    created = await agent.call_tool(
        "create_project", name="Demo project", description="Created through the agent"
    )
    say("create_project through the agent", json.dumps(created))
    listed = await agent.call_tool("list_projects")
    say("list_projects through the agent", json.dumps(listed))
    if "Demo project" not in json.dumps(listed):
        raise DemoStepError("list_projects does not show the project just created")


async def _show_chat_through_the_agent(
    agent: AgentCaller, user: SignedInUser, traces: OtlpTraceReceiver | None
) -> None:
    question = "who am I?"
    say(f'the user asks the agent "{question}" in a chat: the model picks the tool, the same token calls it')
    trace_id = secrets.token_hex(16)
    events = await agent.chat(question, traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01")
    calls = []
    for event in events:
        if event.HasField("tool_call"):
            call = event.tool_call
            calls.append((call.server_name, call.tool_name))
            arguments = json.dumps(json_format.MessageToDict(call.arguments))
            say("", f"model -> agent: tool call {call.server_name}.{call.tool_name} {arguments}")
        elif event.HasField("tool_result"):
            failed = " (an error)" if event.tool_result.result.is_error else ""
            say("", f"agent -> Atoms MCP -> agent -> model: tool result{failed}")
    answer = "".join(event.text_delta.text for event in events if event.HasField("text_delta"))
    say("", f"answer: {answer}")
    if calls != [("atoms", "whoami")]:
        raise DemoStepError(f"the chat called {calls}, expected the Atoms MCP's whoami")
    if user.user_id not in answer or (user.organization_id or "") not in answer:
        raise DemoStepError("the chat's answer does not name the signed-in user and organization")
    if traces is not None:
        await _show_trace(traces, trace_id)


async def _show_trace(traces: OtlpTraceReceiver, trace_id: str) -> None:
    """Print the chat's trace as the services exported it to the local OTLP collector."""
    try:
        spans = await traces.wait_for_trace(
            trace_id, lambda spans: every_hop_arrived(spans, root_service="atoms-agent"), timeout_s=15
        )
    except TimeoutError as err:
        raise DemoStepError(f"the chat's trace did not reach the local collector: {err}") from err
    services = sorted({span.service for span in spans})
    say(f"the chat's trace {trace_id}: {len(spans)} spans from {', '.join(services)} (OTLP, W3C traceparent)")
    for line in render_trace_tree(spans):
        say("", line)


async def _show_tampered_token_refused(channel: grpc.aio.Channel, token: str) -> None:
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    say("a tampered token is refused by the agent (the auth service's reason passes through)")
    try:
        await AgentCaller(channel, tampered).compose()
    except RemoteServiceError as err:
        say("", f"refused: {err.status_code.name} {err.reason} ({err.message})")
        if err.reason != "INVALID_SIGNATURE":
            raise DemoStepError(f"expected INVALID_SIGNATURE, got {err.reason}") from err
        return
    raise DemoStepError("the tampered token was accepted")


async def _show_oauth_challenge_without_token(stack: DemoStack) -> None:
    say("a client without a token gets the MCP OAuth challenge from the Atoms MCP service")
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "demo", "version": "0"},
        },
    }
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            stack.mcp_url, json=initialize, headers={"accept": "application/json, text/event-stream"}
        )
        challenge = response.headers.get("www-authenticate", "")
        say("", f"HTTP {response.status_code}, WWW-Authenticate: {challenge}")
        if response.status_code != 401 or "resource_metadata=" not in challenge:
            raise DemoStepError("expected 401 with a resource_metadata challenge")
        metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
        metadata = (await http.get(metadata_url)).json()
    say("", f"protected resource metadata: authorization_servers={metadata.get('authorization_servers')}")
    if not any(
        str(server).rstrip("/") == stack.issuer for server in metadata.get("authorization_servers", [])
    ):
        raise DemoStepError("the metadata does not name AuthKit (the emulator) as the authorization server")
    async with httpx.AsyncClient(timeout=10) as http:
        server = (await http.get(f"{stack.issuer}/.well-known/oauth-authorization-server")).json()
    endpoints = ("registration_endpoint", "authorization_endpoint", "token_endpoint")
    say(
        "",
        "authorization server metadata: "
        + ", ".join(f"{name}={server.get(name)}" for name in endpoints)
        + f", code_challenge_methods_supported={server.get('code_challenge_methods_supported')}",
    )
    offered = all(server.get(name) for name in endpoints)
    if not offered or server.get("code_challenge_methods_supported") != ["S256"]:
        raise DemoStepError("the authorization server lacks registration, authorize or token with S256")


async def run_demo() -> int:
    """Run the whole walk; return 0 when every step showed what it should."""
    workdir = Path(tempfile.mkdtemp(prefix="atoms-demo-"))
    say(
        "Atoms demo: a signed-in user's token, from the client through the agent to the Atoms MCP",
        f"logs in {workdir}",
    )
    started = time.perf_counter()
    # A local OTLP collector: every service sends its spans there (OTEL_EXPORTER_OTLP_ENDPOINT).
    traces = OtlpTraceReceiver()
    await traces.start()
    try:
        # The lookalike's host name does not resolve: the operator allow-list lets the demo register it.
        async with running_stack(
            workdir,
            agent_env={"ATOMS_AGENT_MCP_EGRESS_ALLOW": _LOOKALIKE_HOST},
            tracing_env=traces.exporter_environment(),
        ) as stack:
            await walk(stack, traces)
    except (DemoStepError, RuntimeError, RemoteServiceError, httpx.HTTPError, OSError) as err:
        say("DEMO FAILED", f"{type(err).__name__}: {err}")
        return 1
    finally:
        await traces.stop()
    say(f"demo finished in {time.perf_counter() - started:.1f}s: every step showed what it should")
    return 0
