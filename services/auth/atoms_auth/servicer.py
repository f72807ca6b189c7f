"""AuthServicer: `atoms.auth.v1.AuthService` on the wire; proto <-> domain translation only."""

from __future__ import annotations

import grpc

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.token_validator import TokenValidator, ValidationRequest


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Answers ValidateToken with the principal, or raises the AuthError (mapped by the kit)."""

    def __init__(self, *, validator: TokenValidator) -> None:
        self._validator = validator

    async def ValidateToken(
        self, request: auth_pb2.ValidateTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.ValidateTokenResponse:
        """Validate the token and return its principal."""
        validation = ValidationRequest(
            token=request.token, required_scopes=tuple(request.required_scopes), audience=request.audience
        )
        # No timeout of our own: gRPC cancels this handler at the caller's deadline, and a
        # JWKS fetch it waits for is shielded, so it goes on for the next caller.
        principal_wire = await self._validator.validate_to_wire(validation)
        response = auth_pb2.ValidateTokenResponse()
        response.principal.MergeFromString(principal_wire)  # cached bytes: no per-call rebuild
        return response
