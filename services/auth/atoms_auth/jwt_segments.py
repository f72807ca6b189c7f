"""decode_unverified: a JWT's header and claims, read before the signature is checked.

The verifier needs the unverified header (`alg`, `kid`) and claims (`iss`, the times) to pick
the issuer and the key. Until the signature verifies, every byte of them is an attacker's,
so the JSON is bounded before `json.loads` sees it:

- text that is not UTF-8 (RFC 7515 section 2) is refused, so the bounds below and both
  parsers, ours and PyJWT's after the signature, read the same characters;
- nesting deeper than MAX_JSON_DEPTH levels is refused without parsing: Python's json
  recurses once per level, and a 6 KB `[[[[...` would end in RecursionError;
- NaN and Infinity, which Python's json accepts and JSON (RFC 8259) does not, are refused.

On a legitimate token this costs two `str.count` calls more than a bare `json.loads`: only a
segment with more than MAX_JSON_DEPTH brackets in all is scanned for its real depth.
PyJWT parses the same segments again once the signature is checked; what passes here passes
there unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from atoms_auth.errors import MalformedTokenError

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a token header or payload may have."""

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]*")
# A whole JSON string (possessive: no backtracking), or the quote of a string that never ends
# and everything after it (the parser fails there, so nothing after it can nest deeper).
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|".*', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_ONE_BRACKET_KIND = bytes.maketrans(b"{}", b"[]")
_OPEN = ord("[")


class _NonFiniteNumberError(ValueError):
    """NaN, Infinity or -Infinity in a token's JSON."""


def _refuse_non_finite(constant: str) -> float:
    raise _NonFiniteNumberError(constant)


# Built once: `json.loads` with any keyword argument builds a new decoder per call.
_JSON_DECODER = json.JSONDecoder(parse_constant=_refuse_non_finite)


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the token's header and claims, unverified.

    Raises:
        MalformedTokenError: not three base64url segments, or a header or payload that is not
            a bounded JSON object.
    """
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedTokenError(
            f"token has {len(segments)} segment(s); a JWT has 3 and it is not a known internal token"
        )
    # The signature may be empty here (alg "none"); the algorithm check refuses it next.
    if not (_SEGMENT.fullmatch(segments[0]) and _SEGMENT.fullmatch(segments[1])) or not _SIGNATURE.fullmatch(
        segments[2]
    ):
        raise MalformedTokenError("token segments are not base64url")
    return _json_object(segments[0], "header"), _json_object(segments[1], "payload")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Return True when arrays and objects in the JSON `text` nest deeper than `limit`.

    Brackets inside strings do not count. For text that is not valid JSON the answer bounds
    what `json.loads` reaches before it fails: the scan reads strings and brackets in the
    same order the parser does, and stops where a string never ends.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    # Strings out, then every byte but the brackets (in C); only the brackets are walked.
    without_strings = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    depth = 0
    for bracket in without_strings.translate(_ONE_BRACKET_KIND, _NOT_BRACKETS):
        if bracket == _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _json_object(segment: str, name: str) -> dict[str, Any]:
    try:
        text = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8")
    except (binascii.Error, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise MalformedTokenError(f"token {name} is not base64url-encoded UTF-8") from err
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise MalformedTokenError(f"token {name} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    try:
        decoded = _JSON_DECODER.decode(text)
    except _NonFiniteNumberError as err:
        raise MalformedTokenError(f"token {name} holds NaN or Infinity, which JSON does not allow") from err
    except (ValueError, RecursionError) as err:  # RecursionError: unreachable past the depth bound
        raise MalformedTokenError(f"token {name} is not base64url-encoded JSON") from err
    if not isinstance(decoded, dict):
        raise MalformedTokenError(f"token {name} is not a JSON object")
    return decoded
