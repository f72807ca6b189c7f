"""Calling ValidateToken and reading the status and ErrorInfo it fails with."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc


@dataclass(frozen=True)
class Refusal:
    """A failed call: its status code, ErrorInfo reason, domain and metadata."""

    code: grpc.StatusCode
    reason: str
    domain: str
    message: str
    metadata: dict[str, str] = field(default_factory=dict)


def refusal_of(err: grpc.aio.AioRpcError) -> Refusal:
    """Read the ErrorInfo out of `grpc-status-details-bin`."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None, f"no rich status in {err.code()}: {err.details()}"
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert len(infos) == 1, "exactly one ErrorInfo detail is expected"
    return Refusal(err.code(), infos[0].reason, infos[0].domain, err.details() or "", dict(infos[0].metadata))


async def validate(
    stub: auth_pb2_grpc.AuthServiceStub,
    token: str,
    *,
    required_scopes: tuple[str, ...] = (),
    audience: str = "",
    timeout: float = 10.0,
) -> auth_pb2.Principal:
    """Call ValidateToken and return the principal (raises AioRpcError on refusal)."""
    response = await stub.ValidateToken(
        auth_pb2.ValidateTokenRequest(token=token, required_scopes=required_scopes, audience=audience),
        timeout=timeout,
    )
    return response.principal


async def refusal(stub: auth_pb2_grpc.AuthServiceStub, token: str, **kwargs: object) -> Refusal:
    """Call ValidateToken expecting a refusal and return it."""
    try:
        principal = await validate(stub, token, **kwargs)  # type: ignore[arg-type]
    except grpc.aio.AioRpcError as err:
        return refusal_of(err)
    raise AssertionError(f"token was accepted as {principal.subject!r}; a refusal was expected")
