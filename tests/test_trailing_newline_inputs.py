"""Patterns that validate input must match the whole value: `$` also matches before a final newline."""

from __future__ import annotations

import pytest

from atoms_auth.errors import MalformedTokenError
from atoms_auth.jwt_segments import decode_unverified
from atoms_grpc.request_id_interceptor import _ACCEPTABLE_REQUEST_ID

_HEADER = "eyJhbGciOiJSUzI1NiJ9"  # {"alg":"RS256"}
_PAYLOAD = "eyJzdWIiOiJ1c2VyXzEifQ"  # {"sub":"user_1"}


def test_a_request_id_with_a_trailing_newline_is_not_accepted() -> None:
    assert _ACCEPTABLE_REQUEST_ID.fullmatch("req-1")
    assert not _ACCEPTABLE_REQUEST_ID.fullmatch("req-1\n")


@pytest.mark.parametrize("segment", [0, 1, 2])
def test_a_token_segment_with_a_trailing_newline_is_malformed(segment: int) -> None:
    parts = [_HEADER, _PAYLOAD, "c2ln"]
    parts[segment] += "\n"
    with pytest.raises(MalformedTokenError):
        decode_unverified(".".join(parts))
