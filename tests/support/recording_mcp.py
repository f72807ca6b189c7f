"""Recording what an MCP server receives: each request's Authorization header and JSON-RPC method."""

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

        await self.app(scope, replay, send)
