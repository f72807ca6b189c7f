"""CallSource: the request bytes, metadata and expected status of each call a load process sends.

Requests are built once from JSON into protobuf bytes; a token goes either into a string
field (its bytes appended to the template: protobuf keeps the last value of a field, so
this is exact and costs no re-serialisation) or into a metadata value as `Bearer <token>`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

import atoms.agent.v1.agent_pb2
import atoms.auth.v1.auth_pb2  # noqa: F401 - registers the descriptors the loadgen can call
from atoms_devtools.loadgen.load_spec import LoadSpec, LoadSpecError, TokenPool

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One call: what to send and which status counts as success."""

    request: bytes
    metadata: Metadata
    expect: str


class CallEncoder:
    """Turns a token (or none) into a PlannedCall for one spec."""

    def __init__(self, spec: LoadSpec) -> None:
        message_class = _input_message_class(spec.method_path)
        try:
            template = json_format.Parse(spec.request_json, message_class())
        except json_format.ParseError as err:
            raise LoadSpecError(
                f"request JSON does not fit {message_class.DESCRIPTOR.full_name}: {err}"
            ) from err
        self._template = template.SerializeToString()
        self._metadata = tuple(spec.metadata)
        self._token_metadata = spec.token_metadata
        self._field_tag = _string_field_tag(message_class, spec.token_field) if spec.token_field else b""

    def encode(self, token: str | None, expect: str) -> PlannedCall:
        """Build the call that carries `token` (None: the template as it is)."""
        if token is None:
            return PlannedCall(self._template, self._metadata, expect)
        request = self._template
        metadata = self._metadata
        if self._field_tag:
            raw = token.encode()
            request = self._template + self._field_tag + _varint(len(raw)) + raw
        if self._token_metadata:
            metadata = (*metadata, (self._token_metadata, f"Bearer {token}"))
        return PlannedCall(request, metadata, expect)


def planned_calls(spec: LoadSpec, pool: TokenPool | None, *, part: int, parts: int) -> Iterator[PlannedCall]:
    """The calls process `part` of `parts` sends, in order; finite only for a pool used once."""
    encoder = CallEncoder(spec)
    if pool is None:
        fixed = encoder.encode(spec.token or None, spec.expect)
        return itertools.repeat(fixed)
    if not pool.reuse:
        return (
            encoder.encode(token, expect) for expect, token in _share(pool.path, spec.expect, part, parts)
        )
    lines = list(_share(pool.path, spec.expect, part, parts)) or list(_share(pool.path, spec.expect, 0, 1))
    if not lines:
        raise LoadSpecError(f"token file {pool.path} is empty")
    return itertools.cycle([encoder.encode(token, expect) for expect, token in lines])


def _share(path: Path, default_expect: str, part: int, parts: int) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            if index % parts != part:
                continue
            text = line.strip()
            if not text:
                continue
            expect, _, token = text.partition(" ")
            yield (expect, token) if token else (default_expect, expect)


def _input_message_class(method_path: str) -> type[Message]:
    service_name, _, rpc = method_path.strip("/").partition("/")
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError as err:
        raise LoadSpecError(f"unknown service {service_name!r}") from err
    method = service.methods_by_name.get(rpc)
    if method is None:
        raise LoadSpecError(f"{service_name} has no method {rpc!r}")
    return message_factory.GetMessageClass(method.input_type)


def _string_field_tag(message_class: type[Message], name: str) -> bytes:
    field = message_class.DESCRIPTOR.fields_by_name.get(name)
    if field is None or field.type != field.TYPE_STRING or field.is_repeated:
        raise LoadSpecError(f"{message_class.DESCRIPTOR.full_name} has no singular string field {name!r}")
    return _varint(field.number << 3 | 2)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)
