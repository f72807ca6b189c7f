"""Finding tokens in log lines: the suite-wide check that no token is ever logged."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Any JWT, including ones minted by code that did not register them: header.payload.signature
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


def find_leaks(lines: Iterable[str], known_tokens: Iterable[str]) -> list[str]:
    """Return the lines that contain a known token or anything shaped like a JWT."""
    tokens = [token for token in known_tokens if token]
    return [line for line in lines if JWT_SHAPE.search(line) or any(token in line for token in tokens)]
