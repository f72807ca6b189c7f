"""`atoms chat` and `atoms call-tool`: talk to the agent as the signed-in user from a shell.

The token comes from `--token` or, better, `ATOMS_TOKEN` (it then stays out of shell history
and `ps`); a pasted `Bearer ` prefix is dropped. Exit codes: 0 done, 1 the agent refused or
failed (or the tool reported an error), 2 usage or configuration error (the address answers
but is not the agent, say).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from atoms_agent_client.agent_grpc_client import DEFAULT_AGENT_ADDR, AgentGrpcClient
from atoms_agent_client.agent_http_client import DEFAULT_AGENT_HTTP_URL, AgentHttpClient
from atoms_agent_client.chat_types import ChatMessage, ToolResult
from atoms_agent_client.errors import AGENT_UNREACHABLE, AgentError, NotTheAgentError
from atoms_agent_client.mcp_auth_headers import InvalidAccessTokenError, static_session
from atoms_agent_client.settings import AgentClientSettings, load_client_settings
from atoms_grpc.settings_loading import SettingsError
from atoms_grpc.token_fingerprint import strip_bearer

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """The command line or the environment cannot work; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """Where a command reaches the agent, and what a user changes to point it elsewhere."""

    address: str
    face: str
    setting: str
    default: str

    @classmethod
    def grpc(cls, options: argparse.Namespace, settings: AgentClientSettings) -> _Endpoint:
        address = options.agent or settings.agent_address
        return cls(address, "gRPC", "ATOMS_AGENT_ADDR or --agent", DEFAULT_AGENT_ADDR)

    @classmethod
    def http(cls, options: argparse.Namespace, settings: AgentClientSettings) -> _Endpoint:
        address = options.http_url or settings.agent_http_url
        return cls(address, "HTTP", "ATOMS_AGENT_HTTP_URL or --http-url", DEFAULT_AGENT_HTTP_URL)


def run_chat(options: argparse.Namespace) -> int:
    """Stream the agent's answer to one message; return the exit code."""
    message = ChatMessage(role="user", content=" ".join(options.message))
    use_http = bool(options.http or options.http_url)

    def work(settings: AgentClientSettings, token: str) -> Coroutine[Any, Any, int]:
        if use_http:
            return _chat_over_http(settings, options, token, message)
        return _chat_over_grpc(settings, options, token, message)

    return _run("atoms chat", options, work, _Endpoint.http if use_http else _Endpoint.grpc)


def run_call_tool(options: argparse.Namespace) -> int:
    """Call one tool and print its JSON result; return the exit code."""
    try:
        arguments = parse_tool_arguments(options.arguments)
    except UsageError as err:
        print(f"atoms call-tool: {err}", file=sys.stderr)
        return EXIT_USAGE

    async def call(settings: AgentClientSettings, token: str) -> int:
        async with _grpc_client(settings, options, token) as agent:
            result = await agent.call_tool(options.server, options.tool, arguments)
        print(json.dumps(tool_result_json(result), indent=2, ensure_ascii=False))
        if result.is_error:
            print(f"atoms call-tool: {options.server}.{options.tool} reported an error", file=sys.stderr)
            return EXIT_REFUSED
        return EXIT_OK

    return _run("atoms call-tool", options, call, _Endpoint.grpc)


def parse_tool_arguments(items: Sequence[str]) -> dict[str, Any]:
    """`["name=Demo", "limit:=5"]` -> `{"name": "Demo", "limit": 5}`.

    Raises:
        UsageError: an item has no `=`, an empty key, or invalid JSON after `:=`.
    """
    arguments: dict[str, Any] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals:
            raise UsageError(f"--arg {item!r}: use KEY=TEXT or KEY:=JSON")
        as_json = key.endswith(":")
        key = key.removesuffix(":")
        if not key:
            raise UsageError(f"--arg {item!r}: the key is empty")
        try:
            arguments[key] = json.loads(value) if as_json else value
        except json.JSONDecodeError as err:
            raise UsageError(f"--arg {key}:= needs a JSON value ({err.msg})") from None
    return arguments


def tool_result_json(result: ToolResult) -> Any:
    """What `call-tool` prints: the structured result when there is one, else the content items."""
    if result.structured_content is not None:
        return result.structured_content
    return {"content": list(result.content), "is_error": result.is_error}


def _run(
    program: str,
    options: argparse.Namespace,
    work: Callable[[AgentClientSettings, str], Coroutine[Any, Any, int]],
    endpoint: Callable[[argparse.Namespace, AgentClientSettings], _Endpoint],
) -> int:
    try:
        settings = load_client_settings()
        token = _token(options, settings)
    except (SettingsError, UsageError) as err:
        print(f"{program}: {err}", file=sys.stderr)
        return EXIT_USAGE
    where = endpoint(options, settings)
    try:
        return asyncio.run(work(settings, token))
    except InvalidAccessTokenError as err:
        print(f"{program}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except NotTheAgentError as err:
        print(
            f"{program}: {where.address} answered {_answer_of(err)}, so it is not the agent; point "
            f"{where.setting} at the agent's {where.face} address (default {where.default})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except AgentError as err:
        hint = (
            f"; is the agent running at {where.address}? ({where.setting})"
            if err.reason == AGENT_UNREACHABLE
            else ""
        )
        print(f"\n{program}: refused: {err}{hint}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


def _answer_of(err: AgentError) -> str:
    return f"HTTP {err.http_status}" if err.http_status is not None else err.status_code.name


def _token(options: argparse.Namespace, settings: AgentClientSettings) -> str:
    token = options.token or (settings.token.get_secret_value() if settings.token else "")
    # People paste the whole header value; the scheme is not part of the token.
    token = strip_bearer(token)
    if not token:
        raise UsageError("no token: set ATOMS_TOKEN (or pass --token); `atoms dev token …` mints one locally")
    return token


def _grpc_client(settings: AgentClientSettings, options: argparse.Namespace, token: str) -> AgentGrpcClient:
    return AgentGrpcClient(
        target=options.agent or settings.agent_address,
        session=static_session(token),
        timeout_s=options.timeout or settings.timeout_s,
    )


async def _chat_over_grpc(
    settings: AgentClientSettings, options: argparse.Namespace, token: str, message: ChatMessage
) -> int:
    async with _grpc_client(settings, options, token) as agent:
        async for event in agent.chat([message], model=options.model):
            if event.HasField("text_delta"):
                _write(event.text_delta.text)
            elif event.HasField("tool_call"):
                call = event.tool_call
                print(f"[tool {call.server_name}.{call.tool_name}]", file=sys.stderr, flush=True)
            elif event.HasField("tool_result") and event.tool_result.result.is_error:
                print("[the tool reported an error]", file=sys.stderr, flush=True)
    _write("\n")
    return EXIT_OK


async def _chat_over_http(
    settings: AgentClientSettings, options: argparse.Namespace, token: str, message: ChatMessage
) -> int:
    async with AgentHttpClient(
        base_url=options.http_url or settings.agent_http_url,
        session=static_session(token),
        timeout=httpx.Timeout(options.timeout or settings.timeout_s, connect=5.0),
    ) as agent:
        async for chunk in agent.stream_chat_completion([message], model=options.model):
            _write(chunk.content)
    _write("\n")
    return EXIT_OK


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
