"""EnvoyAuthorizationServicer: `envoy.service.auth.v3.Authorization/Check`, the mesh's ext_authz backend.

Envoy's `ext_authz` filter (or an Istio `AuthorizationPolicy` with `action: CUSTOM`) asks
before it forwards each HTTP request. The decision is the one `TokenValidator` that also
answers ValidateToken; this module only translates Envoy's messages to it and back:

    CheckRequest --(authorization header, route scopes and audience)--> TokenValidator
    Principal  --> ok_response: x-atoms-* identity headers, set over whatever the client sent
    AuthError  --> denied_response: 401 / 403 / 400 / 503, `WWW-Authenticate` (RFC 6750), JSON body

A refused token is an answer (`status.code` != 0 with a denied response), never a gRPC
error: Envoy turns gRPC errors into its `status_on_error`, which would hide the reason.

A route asks for more through its `check_settings.context_extensions` (Envoy configuration,
never client input):

    atoms_required_scopes    space- or comma-separated scopes the token must hold (else 403)
    atoms_audience           the audience passed to the validator (MCP: its resource URL)
    atoms_resource_metadata  OAuth protected-resource metadata URL added to the challenges
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.rpc import status_pb2

from atoms_auth.errors import AuthError, InsufficientScopeError, MissingTokenError
from atoms_auth.token_validator import TokenValidator, ValidationRequest
from atoms_grpc.principal import Principal
from atoms_grpc.request_context import principal_var, request_id_var
from atoms_grpc.request_id_interceptor import is_acceptable_request_id
from atoms_grpc.status_mapping import error_reason_var

ENVOY_AUTHORIZATION_SERVICE_NAME = external_auth_pb2.DESCRIPTOR.services_by_name["Authorization"].full_name

AUTHORIZATION_HEADER = "authorization"
REQUEST_ID_HEADER = "x-request-id"
SUBJECT_HEADER = "x-atoms-subject"
ORG_ID_HEADER = "x-atoms-org-id"
PRINCIPAL_KIND_HEADER = "x-atoms-principal-kind"
SERVICE_NAME_HEADER = "x-atoms-service-name"

REQUIRED_SCOPES_EXTENSION = "atoms_required_scopes"
AUDIENCE_EXTENSION = "atoms_audience"
RESOURCE_METADATA_EXTENSION = "atoms_resource_metadata"

# A client-sent header of the same name must never survive: set, do not append.
_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


@dataclass(frozen=True, slots=True)
class RouteRequirements:
    """What one Envoy route asks of a token, read from the CheckRequest's `context_extensions`."""

    required_scopes: tuple[str, ...] = ()
    audience: str = ""
    resource_metadata: str = ""

    @classmethod
    def from_context_extensions(cls, extensions: Mapping[str, str]) -> RouteRequirements:
        """Read the `atoms_*` keys; absent keys ask for nothing."""
        scopes = extensions.get(REQUIRED_SCOPES_EXTENSION, "").replace(",", " ").split()
        return cls(
            required_scopes=tuple(dict.fromkeys(scopes)),
            audience=extensions.get(AUDIENCE_EXTENSION, "").strip(),
            resource_metadata=extensions.get(RESOURCE_METADATA_EXTENSION, "").strip(),
        )


@dataclass(frozen=True, slots=True)
class _Denial:
    """How a refusal of one gRPC code looks over HTTP."""

    http_status: int
    oauth_error: str
    challenge: bool = True


_DENIALS = {
    grpc.StatusCode.UNAUTHENTICATED: _Denial(401, "invalid_token"),
    grpc.StatusCode.PERMISSION_DENIED: _Denial(403, "insufficient_scope"),
    grpc.StatusCode.INVALID_ARGUMENT: _Denial(400, "invalid_request"),
    grpc.StatusCode.UNAVAILABLE: _Denial(503, "temporarily_unavailable", challenge=False),
}
_UNKNOWN_REFUSAL = _DENIALS[grpc.StatusCode.UNAUTHENTICATED]  # fail closed as a refused token


class EnvoyAuthorizationServicer(external_auth_pb2_grpc.AuthorizationServicer):
    """Answers Envoy's Check with an allow carrying identity headers, or an HTTP denial."""

    def __init__(self, *, validator: TokenValidator, remove_authorization: bool = False) -> None:
        """Args:
        validator: the same validator that answers ValidateToken.
        remove_authorization: also tell Envoy to drop the `authorization` header on allow, for
            upstreams that trust the identity headers and should never see the token.
        """
        self._validator = validator
        self._remove_authorization = remove_authorization

    def add_to_server(self, server: grpc.aio.Server) -> None:
        """Register this servicer on `server` (a `GrpcServiceHost` registration)."""
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(self, server)

    async def Check(
        self, request: external_auth_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> external_auth_pb2.CheckResponse:
        """Validate the request's bearer token against the route's requirements and decide."""
        http = request.attributes.request.http
        request_id = header_value(http, REQUEST_ID_HEADER)
        if is_acceptable_request_id(request_id):
            # Envoy's x-request-id of the request it asks about (deploy/envoy/envoy.yaml sends
            # it): this Check's log lines and span carry the id the upstream's lines will carry.
            request_id_var.set(request_id)
        route = RouteRequirements.from_context_extensions(request.attributes.context_extensions)
        validation = ValidationRequest(
            token=authorization_value(http),
            required_scopes=route.required_scopes,
            audience=route.audience,
        )
        try:
            principal = await self._validator.validate(validation)
        except AuthError as err:
            # The RPC succeeds; the reason still reaches the access log and the RPC metrics.
            error_reason_var.set(err.reason)
            return deny(err, route)
        principal_var.set(principal)
        return self._allow(principal)

    def _allow(self, principal: Principal) -> external_auth_pb2.CheckResponse:
        headers, absent = identity_headers(principal)
        if self._remove_authorization:
            absent.append(AUTHORIZATION_HEADER)
        return external_auth_pb2.CheckResponse(
            status=status_pb2.Status(code=grpc.StatusCode.OK.value[0]),
            ok_response=external_auth_pb2.OkHttpResponse(
                headers=[_header(name, value) for name, value in headers.items()],
                headers_to_remove=absent,
            ),
        )


def authorization_value(http: attribute_context_pb2.AttributeContext.HttpRequest) -> str:
    """Return the request's `authorization` value ("" when there is none); see `header_value`."""
    return header_value(http, AUTHORIZATION_HEADER)


def header_value(http: attribute_context_pb2.AttributeContext.HttpRequest, name: str) -> str:
    """Return the value of the request's header `name` (lower case; "" when there is none).

    Envoy sends the headers either as a map (`headers`, names lower-cased, repeated headers
    joined with ",") or, with `encode_raw_headers`, as `header_map` entries whose value is in
    `raw_value`. Repeated headers are joined the same way in both forms, so two tokens never
    validate as one.
    """
    if http.header_map.headers:
        values = [
            entry.raw_value.decode("latin-1") if entry.raw_value else entry.value
            for entry in http.header_map.headers
            if entry.key.lower() == name
        ]
        return ",".join(values)
    value = http.headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in http.headers.items() if k.lower() == name), "")


def identity_headers(principal: Principal) -> tuple[dict[str, str], list[str]]:
    """Return the identity headers to set and the identity header names to remove.

    Every identity header is either set or removed, so a value the client sent itself never
    reaches the upstream. The exception is `x-atoms-org-id` for an internal service: there it
    names the organization the service acts for (the Atoms MCP reads it so), and is left as sent.
    """
    headers = {SUBJECT_HEADER: principal.subject, PRINCIPAL_KIND_HEADER: principal.kind.name.lower()}
    absent: list[str] = []
    if principal.is_internal:
        headers[SERVICE_NAME_HEADER] = principal.service_name
    else:
        absent.append(SERVICE_NAME_HEADER)
        if principal.org_id:
            headers[ORG_ID_HEADER] = principal.org_id
        else:
            absent.append(ORG_ID_HEADER)
    return headers, absent


def deny(err: AuthError, route: RouteRequirements) -> external_auth_pb2.CheckResponse:
    """Return the denied CheckResponse for a refusal: HTTP status, challenge and JSON body."""
    denial = _DENIALS.get(err.status_code, _UNKNOWN_REFUSAL)
    no_token = isinstance(err, MissingTokenError)
    headers = {"content-type": "application/json", "cache-control": "no-store"}
    if denial.challenge:
        headers["www-authenticate"] = bearer_challenge(err, route)
    body = {"error": "unauthorized" if no_token else denial.oauth_error, "reason": err.reason}
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=err.status_code.value[0], message=err.message),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=denial.http_status),
            headers=[_header(name, value) for name, value in headers.items()],
            body=json.dumps(body, separators=(",", ":")),
        ),
    )


def bearer_challenge(err: AuthError, route: RouteRequirements) -> str:
    """Return the `WWW-Authenticate` value (RFC 6750 section 3) for a refusal.

    A request that carried no token gets no `error` attribute, as section 3.1 asks.
    """
    params: list[tuple[str, str]] = []
    if not isinstance(err, MissingTokenError):
        denial = _DENIALS.get(err.status_code, _UNKNOWN_REFUSAL)
        params += [("error", denial.oauth_error), ("error_description", err.reason)]
    if isinstance(err, InsufficientScopeError) and route.required_scopes:
        params.append(("scope", " ".join(route.required_scopes)))
    if route.resource_metadata:
        params.append(("resource_metadata", route.resource_metadata))
    if not params:
        return "Bearer"
    return "Bearer " + ", ".join(f"{name}={_quoted(value)}" for name, value in params)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _header(name: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=name, value=value), append_action=_OVERWRITE
    )
