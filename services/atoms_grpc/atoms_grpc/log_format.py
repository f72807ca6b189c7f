"""JSON log lines with the fields a log platform understands, and the one place that sets them up.

Only a program's entry point calls `configure_logging()`. Every other module logs through
`logging.getLogger(__name__)` with %-style arguments or `extra={...}`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from atoms_grpc.request_context import request_id_var, rpc_method_var
from atoms_grpc.tracing import current_trace_ids

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class UnknownLogLevelError(ValueError):
    """A log level that is none of `LOG_LEVELS` (from --log-level or ATOMS_LOG_LEVEL)."""

    def __init__(self, level: str) -> None:
        super().__init__(f"{level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
        self.level = level


def check_log_level(level: str) -> str:
    """Return the level's canonical name (`"info"` -> `"INFO"`).

    Raises:
        UnknownLogLevelError: it is none of `LOG_LEVELS`.
    """
    name = level.strip().upper()
    if name not in LOG_LEVELS:
        raise UnknownLogLevelError(level)
    return name


class JsonLogFormatter(logging.Formatter):
    """Formats each record as one JSON object: severity, timestamp, service, request_id, rpc_method.

    With tracing on, a line written inside a span also carries `trace_id` and `span_id` (the
    W3C hex forms a tracing back end searches by).
    """

    def __init__(self, *, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "severity": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := request_id_var.get():
            entry["request_id"] = request_id
        if rpc_method := rpc_method_var.get():
            entry["rpc_method"] = rpc_method
        if trace_ids := current_trace_ids():
            entry["trace_id"], entry["span_id"] = trace_ids
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(*, service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record of the process to one stream as JSON lines (idempotent).

    Args:
        service: the name written in each line's `service` field.
        level: the root level name (DEBUG, INFO, ...), in any case.
        stream: where to write; standard error by default.

    Raises:
        UnknownLogLevelError: `level` is not a level; nothing is changed then.
    """
    level = check_log_level(level)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter(service=service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
