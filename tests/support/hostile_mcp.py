"""Hostile MCP answers for tests: an ASGI middleware that answers chosen JSON-RPC methods itself.

Put it between a real FastMCP app (which does the handshake and everything else) and the
recording middleware. Each answer is built from the request's JSON-RPC message:

- `gzip_bomb(inflated_bytes)`: a valid `tools/list` result whose one description inflates to
  `inflated_bytes`, sent gzip-compressed (`Content-Encoding: gzip`), about 1/1000 of that on the wire;
- `sse_comment_flood(inflated_bytes)`: an SSE answer of comment lines only, gzip-compressed;
- `endless_pages()`: every `tools/list` page names a next page;
- `many_tools(count)`: one page listing `count` tools;
- `stalled(release)`: no answer until the test sets `release`.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

JSON_HEADERS = ((b"content-type", b"application/json"),)


@dataclass(frozen=True)
class RawAnswer:
    """An HTTP answer sent as is."""

    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS
    status: int = 200


Answer = Callable[[dict[str, Any]], Awaitable[RawAnswer]]


class HostileAnswers:
    """Answers the methods in `answers` itself; passes everything else to `app`."""

    def __init__(self, app: ASGIApp, answers: Mapping[str, Answer]) -> None:
        self.app, self.answers = app, answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = json.loads(body) if body else {}
        answer = self.answers.get(request.get("method", "")) if isinstance(request, dict) else None
        if answer is None:
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        raw = await answer(request)
        await send({"type": "http.response.start", "status": raw.status, "headers": list(raw.headers)})
        await send({"type": "http.response.body", "body": raw.body})


# What an MCP 2026 result must carry (a pre-2026 client ignores them): never cache these listings.
_MODERN_RESULT_FIELDS = {"resultType": "complete", "cacheScope": "private", "ttlMs": 0}


def result_of(request: dict[str, Any], result: dict[str, Any]) -> bytes:
    """A JSON-RPC result for `request`, valid for MCP 2026 and earlier clients."""
    return json.dumps(
        {"jsonrpc": "2.0", "id": request.get("id"), "result": {**_MODERN_RESULT_FIELDS, **result}}
    ).encode()


def _tool(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "description": description, "inputSchema": {"type": "object"}}


def gzip_bomb(inflated_bytes: int) -> Answer:
    """A `tools/list` answer of `inflated_bytes` once inflated, compressed about a thousandfold."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    fields = json.dumps(_MODERN_RESULT_FIELDS)[1:-1].encode()
    head = (
        b'{"jsonrpc": "2.0", "result": {'
        + fields
        + b', "tools": [{"name": "bomb", "inputSchema": {"type": "object"}, '
    )
    compressed = [compressor.compress(head + b'"description": "')]
    piece = b"a" * (1024 * 1024)
    for _ in range(inflated_bytes // len(piece)):
        compressed.append(compressor.compress(piece))
    prefix = b"".join(compressed)

    async def answer(request: dict[str, Any]) -> RawAnswer:
        # The id comes last, so the megabytes before it are compressed once, not per request.
        tail = compressor.copy()
        body = prefix + tail.compress(b'"}]}, "id": ' + json.dumps(request.get("id")).encode() + b"}")
        body += tail.flush()
        return RawAnswer(body, (*JSON_HEADERS, (b"content-encoding", b"gzip")))

    return answer


def sse_comment_flood(inflated_bytes: int) -> Answer:
    """An SSE answer that never carries an event: gzip-compressed comment lines, `inflated_bytes` of them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    lines = (b": " + b"a" * 1000 + b"\n") * 1024
    body = b"".join(compressor.compress(lines) for _ in range(inflated_bytes // len(lines)))
    body += compressor.flush()
    headers = ((b"content-type", b"text/event-stream"), (b"content-encoding", b"gzip"))

    async def answer(request: dict[str, Any]) -> RawAnswer:
        return RawAnswer(body, headers)

    return answer


def endless_pages() -> Answer:
    """`tools/list` pages that never end: each names the next."""

    async def answer(request: dict[str, Any]) -> RawAnswer:
        cursor = (request.get("params") or {}).get("cursor") or "0"
        page = int(cursor)
        return RawAnswer(result_of(request, {"tools": [_tool(f"page_{page}")], "nextCursor": str(page + 1)}))

    return answer


def many_tools(count: int) -> Answer:
    """One `tools/list` page with `count` tools."""

    async def answer(request: dict[str, Any]) -> RawAnswer:
        return RawAnswer(result_of(request, {"tools": [_tool(f"tool_{index}") for index in range(count)]}))

    return answer


def stalled(release: asyncio.Event) -> Answer:
    """No answer until `release` is set, then an empty listing."""

    async def answer(request: dict[str, Any]) -> RawAnswer:
        await release.wait()
        return RawAnswer(result_of(request, {"tools": []}))

    return answer
