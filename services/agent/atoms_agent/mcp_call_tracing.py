"""The agent's span of one request to a stateless first-party MCP server, and what it sends on.

The agent speaks to a stateless server (the Atoms MCP) with plain JSON-RPC over HTTP, so it
opens the CLIENT span itself: `tools/call whoami` or `tools/list`, named and attributed as
OpenTelemetry's MCP conventions say (`mcp.method.name`, `gen_ai.tool.name`, `server.address`).
`call_headers()`, called inside the span, puts the span's `traceparent` in the request, and
the MCP service's HTTP span takes it as its parent. A server someone registered never gets a
`traceparent` (nor a request id) from us; calls over a pooled session get the MCP SDK's own
span, whose context goes in the request's `_meta` as the MCP specification says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from opentelemetry.trace import SpanKind, Status, StatusCode

from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_grpc.service_error import ServiceError
from atoms_grpc.tracing import ERROR_REASON, tracer, tracing_enabled


@contextlib.contextmanager
def mcp_client_span(method: str, server: ComposedMcpServer, *, tool: str | None = None) -> Iterator[None]:
    """A CLIENT span around one MCP request (or one listing of every page); nothing when off."""
    if not tracing_enabled():
        yield
        return
    url = urlsplit(server.url)
    attributes: dict[str, str | int | bool] = {
        "mcp.method.name": method,
        "atoms.mcp.server": server.name,
        "atoms.mcp.first_party": server.first_party,
        "server.address": url.hostname or "",
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    if tool is not None:
        attributes["gen_ai.tool.name"] = tool
        attributes["gen_ai.operation.name"] = "execute_tool"
    name = f"{method} {tool}" if tool is not None else method
    with tracer().start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
    ) as span:
        try:
            yield
        except ServiceError as err:
            span.set_attribute(ERROR_REASON, err.reason)
            span.set_status(Status(StatusCode.ERROR, err.reason))
            raise
