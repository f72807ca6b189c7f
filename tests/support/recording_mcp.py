"""Recording what an MCP server receives: each request's Authorization header and JSON-RPC method.

It also records the `Mcp-Session-Id` values the server hands out (to check they never reach a
log line), and can play a pre-2026 server: one that refuses `server/discover`, so clients fall
back to the `initialize` handshake and get a stateful MCP session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class RecordedRequest:
    """What an MCP server received: its headers and the JSON-RPC method."""

    authorization: str | None
    method: str


@dataclass
class RecordingMcp:
    """A small FastMCP server of the test's own that records every request it receives."""

    url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    required_bearer: str | None = None
    legacy_only: bool = False
    session_ids: list[str] = field(default_factory=list)

    @property
    def authorizations(self) -> list[str | None]:
        return [request.authorization for request in self.requests]

    def count(self, method: str) -> int:
        return sum(1 for request in self.requests if request.method == method)

    @property
    def handshakes(self) -> int:
        """Session openings: `initialize` (MCP 2025) or `server/discover` (MCP 2026)."""
        return self.count("initialize") + self.count("server/discover")


class RecordingMiddleware:
    """ASGI middleware: records headers and JSON-RPC method; optionally demands a bearer token."""

    def __init__(self, app: ASGIApp, recording: RecordingMcp) -> None:
        self.app, self.recording = app, recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        method = ""
        try:
            method = json.loads(body).get("method", "") if body else ""
        except (ValueError, AttributeError):
            method = "?"
        self.recording.requests.append(RecordedRequest(headers.get("authorization"), method))
        if self.recording.legacy_only and method == "server/discover":
            await _send_method_not_found(send, body)
            return
        required = self.recording.required_bearer
        if required is not None and headers.get("authorization") != f"Bearer {required}":
            await send(
                {"type": "http.response.start", "status": 401, "headers": [(b"www-authenticate", b"Bearer")]}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def record_session_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.decode().lower() == "mcp-session-id":
                        self.recording.session_ids.append(value.decode())
            await send(message)

        await self.app(scope, replay, record_session_id)


async def _send_method_not_found(send: Send, body: bytes) -> None:
    """What a server that predates MCP 2026 answers to `server/discover`."""
    request_id = json.loads(body).get("id")
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}}
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": json.dumps(error).encode()})
