"""Keeping downstream `Mcp-Session-Id` values out of the agent's logs.

A session id is a bearer capability on a stateful MCP server: whoever holds it may act in
that session. Two libraries write it out: the MCP SDK logs "Received session ID: …" at INFO
(`mcp.client.streamable_http`), and httpcore2 logs response headers at DEBUG
(`httpcore2.http11`, `httpcore2.http2`). A filter on exactly those loggers rewrites the value
to a short fingerprint (enough to tell two sessions apart in a trace, useless to resume one);
everything else in the line stays. Logger filters apply to records those loggers create,
which is where these come from, whatever handlers the process installs.
"""

from __future__ import annotations

import hashlib
import logging
import re

SESSION_ID_LOGGERS = (
    "mcp.client.streamable_http",
    "httpcore2.http11",
    "httpcore2.http2",
)

# "Received session ID: abc" (the SDK) and (b'mcp-session-id', b'abc') (httpcore2 header tuples).
_SDK_LINE = re.compile(r"(session id:\s*)([^\s'\"]+)", re.IGNORECASE)
_HEADER_PAIR = re.compile(r"(mcp-session-id['\"]?\s*[,:=]\s*b?['\"])([^'\"]*)", re.IGNORECASE)


def session_id_fingerprint(session_id: str) -> str:
    """A short, stable fingerprint of a session id, safe to log."""
    return "sid:" + hashlib.sha256(session_id.encode()).hexdigest()[:12]


def _fingerprint(match: re.Match[str]) -> str:
    return match.group(1) + session_id_fingerprint(match.group(2))


class SessionIdRedactingFilter(logging.Filter):
    """Rewrites MCP session ids in a record to fingerprints; never drops the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place and keep the record.

        Args:
            record: a record from one of `SESSION_ID_LOGGERS`.

        Returns:
            Always True.
        """
        message = record.getMessage()
        if "session" not in message.lower():
            return True
        redacted = _HEADER_PAIR.sub(_fingerprint, _SDK_LINE.sub(_fingerprint, message))
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_FILTER = SessionIdRedactingFilter()


def install_session_id_redaction() -> None:
    """Attach the filter to the loggers that write session ids (idempotent)."""
    for name in SESSION_ID_LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
