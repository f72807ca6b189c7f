"""The suite-wide log check itself: it must catch a leaked token, or it proves nothing."""

from __future__ import annotations

import logging
import secrets

from atoms_grpc.log_format import JsonLogFormatter
from atoms_grpc.token_fingerprint import fingerprint_token
from tests.support.log_hygiene import find_leaks
from tests.support.token_factory import mint, new_rsa_key


def _format(message: str, *args: object) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    return JsonLogFormatter(service="t").format(record)


def test_a_logged_jwt_is_caught_even_when_nobody_registered_it() -> None:
    token = mint(new_rsa_key(), issuer="https://issuer.test")
    assert find_leaks([_format("token is %s", token)], known_tokens=[])


def test_a_logged_internal_token_is_caught() -> None:
    internal = secrets.token_urlsafe(36)
    assert find_leaks([_format("header was Bearer %s", internal)], known_tokens=[internal])


def test_a_fingerprint_is_not_a_leak() -> None:
    token = mint(new_rsa_key(), issuer="https://issuer.test")
    assert not find_leaks([_format("refused %s", fingerprint_token(token))], known_tokens=[token])
