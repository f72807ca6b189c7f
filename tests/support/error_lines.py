"""Finding ERROR lines in captured log lines: an unhandled error logs one per request, traceback included."""

from __future__ import annotations

import json
from collections.abc import Iterable

_ERROR_SEVERITIES = frozenset({"ERROR", "CRITICAL"})


def error_lines(lines: Iterable[str]) -> list[str]:
    """Return the lines logged at ERROR or above (a line that is not JSON counts if it holds a traceback)."""
    found = []
    for line in lines:
        try:
            severity = json.loads(line).get("severity")
        except ValueError:
            severity = "ERROR" if "Traceback" in line else None
        if severity in _ERROR_SEVERITIES:
            found.append(line)
    return found
