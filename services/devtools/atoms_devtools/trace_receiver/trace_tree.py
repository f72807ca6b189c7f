"""One trace as a tree of lines for a terminal: who called whom, how long it took, what it said.

    agent  /atoms.agent.v1.AgentService/Chat  41.2 ms
    ├─ agent  POST (chat model)  12.0 ms
    └─ agent  tools/call whoami  9.1 ms
       └─ mcp  POST /api/mcp  7.9 ms  auth_client.cache=miss
          ├─ mcp  /atoms.auth.v1.AuthService/ValidateToken  2.1 ms
          │  └─ auth  /atoms.auth.v1.AuthService/ValidateToken  1.2 ms  auth.token_cache=miss
          └─ mcp  tools/call whoami  1.3 ms

Spans whose parent is not in the trace (the caller's own span, not exported) are roots.
"""

from __future__ import annotations

from collections.abc import Sequence

from atoms_devtools.trace_receiver.otlp_receiver import ReceivedSpan

# The attributes worth a glance in a terminal, shown as `name=value` without the `atoms.` prefix.
SHOWN_ATTRIBUTES = (
    "atoms.auth_client.cache",
    "atoms.auth.token_cache",
    "atoms.principal.kind",
    "atoms.error.reason",
    "atoms.token.fingerprint",
    "http.response.status_code",
    "rpc.grpc.status_code",
)


def every_hop_arrived(spans: Sequence[ReceivedSpan], *, root_service: str) -> bool:
    """Whether the trace is whole: it has its root, and each hop between our services has both sides.

    The root is a SERVER span of `root_service` whose parent is not in the trace (the caller's).
    An RPC to one of our services (`/atoms.…` CLIENT span) needs the callee's SERVER span; an MCP
    request (`tools/…` CLIENT span) needs the MCP's HTTP span and, under it, the MCP's own span
    of the same method. A process exports its spans as they end, and a parent ends after its
    children, so these spans come last from each process.
    """
    ids = {span.span_id for span in spans}
    children: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        children.setdefault(span.parent_span_id, []).append(span)
    if not any(
        span.service == root_service and span.kind == "SERVER" and span.parent_span_id not in ids
        for span in spans
    ):
        return False
    for span in spans:
        if span.kind != "CLIENT":
            continue
        remote = [child for child in children.get(span.span_id, []) if child.service != span.service]
        if span.name.startswith("/atoms.") and not remote:
            return False
        if span.name.startswith("tools/") and not any(
            inner.name == span.name for child in remote for inner in children.get(child.span_id, [])
        ):
            return False
    return True


def render_trace_tree(spans: Sequence[ReceivedSpan]) -> list[str]:
    """The trace's spans as indented lines, children in start order under their parent."""
    ids = {span.span_id for span in spans}
    children: dict[str, list[ReceivedSpan]] = {}
    roots: list[ReceivedSpan] = []
    for span in sorted(spans, key=lambda span: span.start_ns):
        if span.parent_span_id and span.parent_span_id in ids:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    lines: list[str] = []

    def walk(span: ReceivedSpan, prefix: str, branch: str) -> None:
        lines.append(f"{prefix}{branch}{_describe(span)}")
        below = children.get(span.span_id, [])
        inner = prefix + ("" if not branch else ("   " if branch == "└─ " else "│  "))
        for index, child in enumerate(below):
            walk(child, inner, "└─ " if index == len(below) - 1 else "├─ ")

    for root in roots:
        walk(root, "", "")
    return lines


def _describe(span: ReceivedSpan) -> str:
    service = span.service.removeprefix("atoms-")
    shown = [
        f"{key.removeprefix('atoms.')}={span.attributes[key]}"
        for key in SHOWN_ATTRIBUTES
        if span.attributes.get(key) not in (None, "")
    ]
    status = "  ERROR" if span.status == "ERROR" else ""
    details = f"  {' '.join(shown)}" if shown else ""
    return f"{service}  {span.name}  {span.duration_ms:.1f} ms{status}{details}"
