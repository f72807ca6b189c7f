"""RequestIdInterceptor: gives every RPC a request id for its log lines and error reports."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from services.atoms_grpc.around_interceptor import AroundInterceptor
from services.atoms_grpc.request_context import request_id_var, rpc_method_var

REQUEST_ID_METADATA_KEY = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def read_metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    """Return the first value of a metadata key as text, or None (binary keys are skipped)."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key and isinstance(value, str):
            return value
    return None


class RequestIdInterceptor(AroundInterceptor):
    """Takes the caller's `x-request-id` when it is well formed, else makes one."""

    @asynccontextmanager
    async def around(self, context: grpc.aio.ServicerContext, method: str) -> AsyncIterator[None]:
        """Set the request id and method for everything the RPC logs."""
        offered = read_metadata(context, REQUEST_ID_METADATA_KEY)
        request_id_var.set(offered if offered and _ACCEPTABLE_REQUEST_ID.match(offered) else uuid.uuid4().hex)
        rpc_method_var.set(method)
        yield
