"""RequestIdInterceptor: gives every RPC a request id for its log lines and error reports."""

from __future__ import annotations

import itertools
import re
import secrets
from typing import Any

import grpc

from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.request_context import request_id_var, rpc_method_var

REQUEST_ID_METADATA_KEY = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def is_acceptable_request_id(value: str) -> bool:
    """Whether a request id offered by a caller may be taken as is (1-64 of `A-Za-z0-9._:-`)."""
    return _ACCEPTABLE_REQUEST_ID.fullmatch(value) is not None


def read_metadata(context: grpc.aio.ServicerContext[Any, Any], key: str) -> str | None:
    """Return the first value of a metadata key as text, or None (binary keys are skipped)."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key and isinstance(value, str):
            return value
    return None


class RequestIdGenerator:
    """Makes 32-hex-digit request ids: a random per-process prefix and a counter.

    Ids need to be unique, not secret: a counter behind 80 random bits is unique across
    processes and replicas, and costs a fraction of `uuid4()` (which reads the OS random
    source on every call).
    """

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(10)
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        """Return the next id."""
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


class RequestIdInterceptor(AroundInterceptor):
    """Takes the caller's `x-request-id` when it is well formed, else makes one."""

    def __init__(self) -> None:
        self._new_id = RequestIdGenerator()

    async def before_rpc(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        """Set the request id and method for everything the RPC logs."""
        self._set_ids(context, method)

    def _set_ids(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        offered = read_metadata(context, REQUEST_ID_METADATA_KEY)
        request_id_var.set(
            offered if offered and _ACCEPTABLE_REQUEST_ID.fullmatch(offered) else self._new_id()
        )
        rpc_method_var.set(method)
