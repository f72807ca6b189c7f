"""The `reason` of every error the code can send is a value of its contract's `ErrorReason` enum,
and every value of the enum is sent by some error class: code and contract cannot drift apart.

The protos document each reason (`protos/atoms/*/v1/*.proto`, `enum ErrorReason`); clients
switch on them. The code names them in `ServiceError` subclasses.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from atoms.agent.v1 import agent_pb2
from atoms.auth.v1 import auth_pb2
from atoms_grpc.service_error import ServiceError

# Per contract: its enum, the modules whose error classes answer on its behalf, and the base
# classes that are never raised themselves (they only carry the domain and default status).
CONTRACTS = {
    "atoms.auth.v1": (
        auth_pb2.ErrorReason,
        ("atoms_auth.errors", "atoms_auth.caller_policy", "atoms_grpc.auth_errors"),
        {"AuthError"},
    ),
    "atoms.agent.v1": (agent_pb2.ErrorReason, ("atoms_agent.errors",), {"AgentError"}),
}
_PREFIX = "ERROR_REASON_"


def _enum_reasons(enum: object) -> set[str]:
    names = {name.removeprefix(_PREFIX) for name in enum.DESCRIPTOR.values_by_name}  # type: ignore[attr-defined]
    return names - {"UNSPECIFIED"}


def _code_reasons(modules: tuple[str, ...], bases: set[str]) -> dict[str, set[str]]:
    reasons: dict[str, set[str]] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ServiceError) and cls.__module__ == module_name and name not in bases:
                reasons.setdefault(cls.reason, set()).add(f"{module_name}.{name}")
    return reasons


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_every_reason_the_code_sends_is_in_the_contract(contract: str) -> None:
    enum, modules, bases = CONTRACTS[contract]
    sent = _code_reasons(modules, bases)
    undocumented = {
        reason: sorted(classes) for reason, classes in sent.items() if reason not in _enum_reasons(enum)
    }
    assert not undocumented


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_every_reason_of_the_contract_is_sent_by_some_error(contract: str) -> None:
    enum, modules, bases = CONTRACTS[contract]
    assert _enum_reasons(enum) - set(_code_reasons(modules, bases)) == set()


def test_the_enum_values_are_prefixed_as_the_api_guidelines_ask() -> None:
    for enum, _, _ in CONTRACTS.values():
        assert all(name.startswith(_PREFIX) for name in enum.DESCRIPTOR.values_by_name)
