"""The regex segment check is PyJWT's check, rule for rule, and the decoder uses it on the pinned PyJWT."""

from __future__ import annotations

import base64
import random

import jwt
import pytest
from jwt.exceptions import DecodeError

from atoms_auth.jwt_decoder import JWT_DECODER, REGEX_SEGMENT_CHECK, decode_base64url_segment
from tests.support.token_factory import mint, new_rsa_key, remember

_PYJWT_SEGMENT_CHECK = jwt.PyJWS._decode_base64url_segment


def _outcome(check, segment: bytes) -> tuple[str, bytes | None]:
    try:
        return "ok", check(segment, "payload")
    except DecodeError as err:
        return str(err), None


def _segments() -> list[bytes]:
    text = base64.urlsafe_b64encode(b'{"sub":"user_1","exp":1}').rstrip(b"=")
    cases = [
        b"",
        b"A",
        b"AA",
        b"AAA",
        b"AAAA",
        text,
        text + b"=",
        text + b"==",
        text + b"===",
        b"AB==",
        b"ABC=",
        b"AB=",
        b"A===",
        b"AB=C",
        b"!!!!",
        b"ab+/",
        b"ab\ncd",
        b"abcd\n",
        b" abcd",
        b"YQ",
        b"YR",  # non-canonical: trailing bits set
        b"YWI",
        b"YWJ",
        "ﬀ".encode(),
        b"\x00\x01",
    ]
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.!\n "
    rng = random.Random(6)
    for _ in range(3000):
        cases.append(bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))))
    return cases


@pytest.mark.parametrize("segment", _segments()[:25], ids=lambda s: repr(s)[:24])
def test_each_hand_picked_segment_gets_pyjwts_verdict(segment: bytes) -> None:
    assert _outcome(decode_base64url_segment, segment) == _outcome(_PYJWT_SEGMENT_CHECK, segment)


def test_thousands_of_random_segments_get_pyjwts_verdict() -> None:
    differing = [
        s for s in _segments() if _outcome(decode_base64url_segment, s) != _outcome(_PYJWT_SEGMENT_CHECK, s)
    ]
    assert differing == []


def test_the_decoder_runs_the_regex_check_on_the_pinned_pyjwt() -> None:
    assert REGEX_SEGMENT_CHECK, (
        f"PyJWT {jwt.__version__} changed its internals: the stock (slow) check is in use"
    )


def test_the_decoder_decodes_and_refuses_exactly_as_jwt_decode_does() -> None:
    key = new_rsa_key()
    token = mint(key, issuer="https://issuer.test", subject="user_same")
    tampered = remember(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    public = key.private_key.public_key()
    options = {"require": ["exp", "iss", "sub"], "verify_aud": False}
    ours = JWT_DECODER.decode(
        token, key=public, algorithms=["RS256"], issuer="https://issuer.test", options=options
    )
    stock = jwt.decode(token, key=public, algorithms=["RS256"], issuer="https://issuer.test", options=options)
    assert ours == stock
    for decode in (JWT_DECODER.decode, jwt.decode):
        with pytest.raises(jwt.InvalidSignatureError):
            decode(tampered, key=public, algorithms=["RS256"], issuer="https://issuer.test", options=options)
