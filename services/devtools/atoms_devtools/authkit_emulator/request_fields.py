"""Reading the parameters of the sign-in endpoints: bounded, strict, and the same for every endpoint.

A body is at most 16 KiB and a query string at most 8 KiB. A parameter sent twice is refused
(RFC 6749 3.1: "parameters MUST NOT be included more than once"), as is anything that is not
UTF-8, a JSON body that is not an object of strings, and a parameter longer than 4 KiB.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

from atoms_devtools.authkit_emulator.oauth_errors import InvalidRequestError, RequestTooLargeError

MAX_BODY_BYTES = 16 * 1024
MAX_QUERY_BYTES = 8 * 1024
MAX_VALUE_CHARS = 4096
MAX_FIELDS = 64
Fields = dict[str, str]


class _Members(list[tuple[str, object]]):
    """A JSON object's members in order, duplicates kept, so that a repeated one is seen."""


def query_fields(request: Request) -> Fields:
    """The query string's parameters.

    Raises:
        InvalidRequestError: too long, not UTF-8, or a parameter is repeated or too long.
    """
    raw = request.scope.get("query_string", b"")
    if len(raw) > MAX_QUERY_BYTES:
        raise InvalidRequestError(f"the query string is longer than {MAX_QUERY_BYTES} bytes")
    return _form_pairs(raw)


async def body_fields(request: Request) -> Fields:
    """The body's parameters, from a form (`application/x-www-form-urlencoded`) or a JSON object.

    JSON `null` values count as absent: the WorkOS SDKs may send them for unset options.

    Raises:
        RequestTooLargeError: the body is over 16 KiB.
        InvalidRequestError: the body is malformed, a value is not a string, or a parameter
            is repeated or too long.
    """
    raw = await read_body(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        return _json_object(raw)
    return _form_pairs(raw)


async def json_body(request: Request) -> object:
    """The body decoded as JSON (any value), bounded like every body.

    Raises:
        RequestTooLargeError: the body is over 16 KiB.
        InvalidRequestError: the body is not JSON.
    """
    raw = await read_body(request)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise InvalidRequestError("the body is not valid JSON") from err


async def read_body(request: Request) -> bytes:
    """Read at most 16 KiB, refusing early when Content-Length announces more.

    Raises:
        RequestTooLargeError: the body is larger.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The client id and secret of an `Authorization: Basic` header (RFC 6749 2.3.1), or None.

    Raises:
        InvalidRequestError: the header is Basic but malformed.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise InvalidRequestError("the Basic authorization header is malformed") from err
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise InvalidRequestError("the Basic authorization header has no client secret")
    return unquote(client_id), unquote(secret)


def _form_pairs(raw: bytes) -> Fields:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidRequestError("the parameters are not valid UTF-8 form encoding") from err
    return _unique(pairs)


def _json_object(raw: bytes) -> Fields:
    try:
        document = json.loads(raw, object_pairs_hook=_Members)
    except (ValueError, RecursionError) as err:
        raise InvalidRequestError("the body is not valid JSON") from err
    if not isinstance(document, _Members):
        raise InvalidRequestError("the body must be a JSON object")
    if len(document) > MAX_FIELDS:
        raise InvalidRequestError(f"the body has more than {MAX_FIELDS} parameters")
    pairs: list[tuple[str, str]] = []
    for name, value in document:
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRequestError(f"{name[:40]} must be a string")
        pairs.append((name, value))
    return _unique(pairs)


def _unique(pairs: Iterable[tuple[str, str]]) -> Fields:
    fields: Fields = {}
    for name, value in pairs:
        if name in fields:
            raise InvalidRequestError(f"parameter {name[:40]!r} is sent more than once")
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidRequestError(f"parameter {name[:40]!r} is longer than {MAX_VALUE_CHARS} characters")
        fields[name] = value
    return fields
