"""The clients the tests talk to the MCP service with: FastMCP's, the official SDK's, and raw HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx
import httpx2
import mcp
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from mcp.client.streamable_http import streamable_http_client

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "atoms-tests", "version": "0"},
    },
}
MCP_ACCEPT = {"accept": "application/json, text/event-stream"}


class SwitchableBearer(httpx2.Auth):
    """A bearer token the test can replace in the middle of a session (a refreshed token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@contextlib.asynccontextmanager
async def fastmcp_client(
    url: str,
    token: str | SwitchableBearer | None,
    *,
    headers: dict[str, str] | None = None,
    statuses: list[int] | None = None,
) -> AsyncIterator[Client[Any]]:
    """A connected FastMCP client; every HTTP status it receives is appended to `statuses`."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    def http_client(**kwargs: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(**kwargs, event_hooks={"response": [record]})

    transport = StreamableHttpTransport(url, headers=headers, auth=token, httpx_client_factory=http_client)
    async with Client(transport) as client:
        yield client


@contextlib.asynccontextmanager
async def sdk_client(
    url: str, token: str, *, headers: dict[str, str] | None = None, statuses: list[int] | None = None
) -> AsyncIterator[mcp.Client]:
    """A connected client of the official `mcp` SDK, sending `Authorization: Bearer <token>`.

    Every HTTP status it receives is appended to `statuses`.
    """

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    async with (
        httpx2.AsyncClient(headers=all_headers, timeout=30.0, event_hooks={"response": [record]}) as http,
        mcp.Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def post_initialize(url: str, *, token: str | None = None) -> httpx.Response:
    """POST an MCP `initialize` request as a raw HTTP client would, and return the response."""
    headers = dict(MCP_ACCEPT)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=30.0) as http:
        return await http.post(url, json=INITIALIZE, headers=headers)


def challenge_params(www_authenticate: str) -> dict[str, str]:
    """Parse `Bearer k="v", k2="v2"` into a dict (values without commas, as ours are)."""
    scheme, _, rest = www_authenticate.partition(" ")
    assert scheme == "Bearer", www_authenticate
    params: dict[str, str] = {}
    for part in rest.split('", '):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip().strip('"')
    return params
