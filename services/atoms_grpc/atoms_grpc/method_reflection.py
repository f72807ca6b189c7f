"""Server reflection that also resolves method symbols, so stock ghz works through reflection alone.

grpcio-reflection answers `FileContainingSymbol` for services, messages and enums but not
for methods (`atoms.auth.v1.AuthService.ValidateToken`), so ghz fails with "Symbol not
found" (bojand/ghz#419, grpc/grpc#34743). A method lives in its service's file: answer
with that file.

grpcio-reflection has no public hook for this, so the servicer overrides its private
`_file_containing_symbol(request, name)` and reads its descriptor pool (`_pool`). When an
installed grpcio-reflection no longer has that hook, `enable_reflection` serves the stock
servicer instead (method symbols unresolved, everything else as before) and logs a warning
once; `tests/atoms_grpc/test_method_reflection.py` fails on such a release, so an upgrade
is noticed before it ships.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import grpc
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

logger = logging.getLogger(__name__)

_PRIVATE_HOOK = "_file_containing_symbol"
_HOOK_PARAMETERS = ("self", "request", "fully_qualified_name")


def private_hook_is_available(servicer_class: type = reflection_aio.ReflectionServicer) -> bool:
    """Whether grpcio-reflection still has the hook (and signature) this module overrides."""
    hook = getattr(servicer_class, _PRIVATE_HOOK, None)
    if not callable(hook):
        return False
    try:
        return tuple(inspect.signature(hook).parameters) == _HOOK_PARAMETERS
    except (TypeError, ValueError):
        return False


class MethodAwareReflectionServicer(reflection_aio.ReflectionServicer):  # type: ignore[misc]
    """The standard async reflection servicer, plus method symbols."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        service_name, _, method_name = fully_qualified_name.rpartition(".")
        pool = getattr(self, "_pool", None)
        if service_name and pool is not None:
            try:
                service = pool.FindServiceByName(service_name)
            except KeyError:
                service = None
            if service is not None and method_name in service.methods_by_name:
                return super()._file_containing_symbol(request, service_name)
        return super()._file_containing_symbol(request, fully_qualified_name)


def enable_reflection(service_names: tuple[str, ...], server: grpc.aio.Server) -> None:
    """Serve reflection (v1alpha, what grpcurl and ghz speak) for the listed services."""
    names = (*service_names, reflection.SERVICE_NAME)
    servicer_class: type[reflection_aio.ReflectionServicer] = MethodAwareReflectionServicer
    if not private_hook_is_available():
        servicer_class = reflection_aio.ReflectionServicer
        logger.warning(
            "this grpcio-reflection has no %s hook: reflection will not resolve method symbols "
            "(ghz then needs --proto or --protoset)",
            _PRIVATE_HOOK,
        )
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer_class(names), server)
