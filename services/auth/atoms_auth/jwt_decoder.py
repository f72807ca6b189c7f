"""JWT_DECODER: PyJWT's decoder, with its base64url segment check run by a compiled regex.

PyJWT 2.15 checks that every character of each segment is in the base64url alphabet with a
Python generator (the fix for GHSA-hxm8-2xgr-2p9m): for an AuthKit-sized RS256 token that
loop is about two thirds of `jwt.decode`'s 100 µs, five times the RSA-2048 verification.
`_RegexSegmentPyJWS` replaces only that method, rule for rule:

- at most two trailing `=`, and padding only on a segment whose length is a multiple of 4;
- no segment of length 1 (mod 4);
- only `A-Z a-z 0-9 - _` before the padding (a regex `fullmatch` instead of the loop);
- the bytes must re-encode to exactly the same text (no non-canonical trailing bits).

Everything else, header checks, `crit`, the algorithm allow-list, the key/algorithm binding,
the signature and every claim check, is PyJWT's own code. Overriding a private method is a
bet on PyJWT's internals; `pyproject.toml` pins PyJWT below 2.16, the test suite compares
this method with PyJWT's on hostile input, and if the method or the decoder's `_jws`
attribute ever disappear the stock decoder is used (slower, never weaker).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re

import jwt
from jwt.exceptions import DecodeError

logger = logging.getLogger(__name__)

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


def decode_base64url_segment(segment: bytes, name: str) -> bytes:
    """Decode one JWS segment exactly as PyJWT 2.15's `PyJWS._decode_base64url_segment` does.

    Raises:
        DecodeError: the segment is not canonical, unpadded-or-correctly-padded base64url.
    """
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4 != 0):
        raise DecodeError(f"Invalid {name} padding")
    if len(stripped) % 4 == 1 or _BASE64URL.fullmatch(stripped) is None:
        raise DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    except (TypeError, binascii.Error) as err:
        raise DecodeError(f"Invalid {name} padding") from err
    if base64.urlsafe_b64encode(decoded).replace(b"=", b"") != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


class _RegexSegmentPyJWS(jwt.PyJWS):
    """PyJWS with `decode_base64url_segment` as its segment decoder."""

    _decode_base64url_segment = staticmethod(decode_base64url_segment)


def _build_decoder() -> tuple[jwt.PyJWT, bool]:
    decoder = jwt.PyJWT()
    stock_jws = getattr(decoder, "_jws", None)
    if not isinstance(stock_jws, jwt.PyJWS) or not hasattr(jwt.PyJWS, "_decode_base64url_segment"):
        logger.info("PyJWT %s has no replaceable segment decoder; using its own", jwt.__version__)
        return decoder, False
    decoder._jws = _RegexSegmentPyJWS(options=stock_jws.options)
    return decoder, True


JWT_DECODER, REGEX_SEGMENT_CHECK = _build_decoder()
"""The decoder the verifier calls, and whether its segment check is the regex one."""
