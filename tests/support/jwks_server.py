"""A JWKS endpoint the tests control: it counts requests and can fail in every way an issuer can."""

from __future__ import annotations

import asyncio
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class JwksMode(enum.Enum):
    """How the endpoint answers."""

    OK = "ok"
    ERROR_500 = "500"
    INVALID_JSON = "invalid-json"
    EMPTY_KEY_SET = "empty"
    SLOW = "slow"
    REDIRECT = "redirect"
    HUGE = "huge"


@dataclass
class JwksEndpoint:
    """Mutable state of the served JWKS; tests change it between calls."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    mode: JwksMode = JwksMode.OK
    cache_control: str = "public, max-age=300"
    slow_s: float = 30.0
    requests: int = 0
    other_requests: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        """The ASGI app serving `/jwks` (and counting anything else it is asked for)."""
        return Starlette(
            routes=[
                Route("/jwks", self._jwks),
                Route("/{path:path}", self._other, methods=["GET", "POST"]),
            ]
        )

    async def _jwks(self, request: Request) -> Response:
        self.requests += 1
        if self.mode is JwksMode.ERROR_500:
            return Response("issuer is broken", status_code=500)
        if self.mode is JwksMode.INVALID_JSON:
            return Response("{not json", media_type="application/json")
        if self.mode is JwksMode.EMPTY_KEY_SET:
            return JSONResponse({"keys": []})
        if self.mode is JwksMode.REDIRECT:
            return Response(status_code=302, headers={"location": "/elsewhere"})
        if self.mode is JwksMode.HUGE:
            return Response(json.dumps({"keys": [], "pad": "x" * 2_000_000}), media_type="application/json")
        if self.mode is JwksMode.SLOW:
            await asyncio.sleep(self.slow_s)
        return JSONResponse({"keys": self.keys}, headers={"cache-control": self.cache_control})

    async def _other(self, request: Request) -> Response:
        self.other_requests.append(request.url.path)
        return JSONResponse({"keys": []})
