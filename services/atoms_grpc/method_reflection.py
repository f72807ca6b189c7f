"""Server reflection that also resolves method symbols, so stock ghz works through reflection alone.

grpcio-reflection answers `FileContainingSymbol` for services, messages and enums but not
for methods (`atoms.auth.v1.AuthService.ValidateToken`), so ghz fails with "Symbol not
found" (bojand/ghz#419, grpc/grpc#34743). A method lives in its service's file: answer
with that file.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc


class MethodAwareReflectionServicer(reflection_aio.ReflectionServicer):
    """The standard async reflection servicer, plus method symbols."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        service_name, _, method_name = fully_qualified_name.rpartition(".")
        if service_name:
            try:
                service = self._pool.FindServiceByName(service_name)
            except KeyError:
                service = None
            if service is not None and method_name in service.methods_by_name:
                return super()._file_containing_symbol(request, service_name)
        return super()._file_containing_symbol(request, fully_qualified_name)


def enable_reflection(service_names: tuple[str, ...], server: grpc.aio.Server) -> None:
    """Serve reflection (v1alpha, what grpcurl and ghz speak) for the listed services."""
    names = (*service_names, reflection.SERVICE_NAME)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(MethodAwareReflectionServicer(names), server)
