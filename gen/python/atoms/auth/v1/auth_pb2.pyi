import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PrincipalKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRINCIPAL_KIND_UNSPECIFIED: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_INTERNAL: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_USER: _ClassVar[PrincipalKind]

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_MISSING_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_MALFORMED_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_TOKEN_EXPIRED: _ClassVar[ErrorReason]
    ERROR_REASON_TOKEN_NOT_YET_VALID: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_SIGNATURE: _ClassVar[ErrorReason]
    ERROR_REASON_UNKNOWN_SIGNING_KEY: _ClassVar[ErrorReason]
    ERROR_REASON_UNTRUSTED_ISSUER: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_AUDIENCE: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_ALGORITHM: _ClassVar[ErrorReason]
    ERROR_REASON_INSUFFICIENT_SCOPE: _ClassVar[ErrorReason]
    ERROR_REASON_JWKS_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_CLAIM: _ClassVar[ErrorReason]
    ERROR_REASON_TOKEN_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_REQUEST: _ClassVar[ErrorReason]
    ERROR_REASON_CALLER_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_AUTH_SERVICE_UNAVAILABLE: _ClassVar[ErrorReason]
PRINCIPAL_KIND_UNSPECIFIED: PrincipalKind
PRINCIPAL_KIND_INTERNAL: PrincipalKind
PRINCIPAL_KIND_USER: PrincipalKind
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_MISSING_TOKEN: ErrorReason
ERROR_REASON_MALFORMED_TOKEN: ErrorReason
ERROR_REASON_TOKEN_EXPIRED: ErrorReason
ERROR_REASON_TOKEN_NOT_YET_VALID: ErrorReason
ERROR_REASON_INVALID_SIGNATURE: ErrorReason
ERROR_REASON_UNKNOWN_SIGNING_KEY: ErrorReason
ERROR_REASON_UNTRUSTED_ISSUER: ErrorReason
ERROR_REASON_INVALID_AUDIENCE: ErrorReason
ERROR_REASON_UNSUPPORTED_ALGORITHM: ErrorReason
ERROR_REASON_INSUFFICIENT_SCOPE: ErrorReason
ERROR_REASON_JWKS_UNAVAILABLE: ErrorReason
ERROR_REASON_INVALID_CLAIM: ErrorReason
ERROR_REASON_TOKEN_TOO_LARGE: ErrorReason
ERROR_REASON_INVALID_REQUEST: ErrorReason
ERROR_REASON_CALLER_NOT_ALLOWED: ErrorReason
ERROR_REASON_AUTH_SERVICE_UNAVAILABLE: ErrorReason

class ValidateTokenRequest(_message.Message):
    __slots__ = ("token", "required_scopes", "audience")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    token: str
    required_scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    def __init__(self, token: _Optional[str] = ..., required_scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ...) -> None: ...

class ValidateTokenResponse(_message.Message):
    __slots__ = ("principal",)
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    principal: Principal
    def __init__(self, principal: _Optional[_Union[Principal, _Mapping]] = ...) -> None: ...

class Principal(_message.Message):
    __slots__ = ("kind", "subject", "issuer", "org_id", "session_id", "role", "roles", "permissions", "entitlements", "scopes", "client_id", "audiences", "token_id", "actor", "expires_at", "service_name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIENCES_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    kind: PrincipalKind
    subject: str
    issuer: str
    org_id: str
    session_id: str
    role: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    entitlements: _containers.RepeatedScalarFieldContainer[str]
    scopes: _containers.RepeatedScalarFieldContainer[str]
    client_id: str
    audiences: _containers.RepeatedScalarFieldContainer[str]
    token_id: str
    actor: str
    expires_at: _timestamp_pb2.Timestamp
    service_name: str
    def __init__(self, kind: _Optional[_Union[PrincipalKind, str]] = ..., subject: _Optional[str] = ..., issuer: _Optional[str] = ..., org_id: _Optional[str] = ..., session_id: _Optional[str] = ..., role: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., permissions: _Optional[_Iterable[str]] = ..., entitlements: _Optional[_Iterable[str]] = ..., scopes: _Optional[_Iterable[str]] = ..., client_id: _Optional[str] = ..., audiences: _Optional[_Iterable[str]] = ..., token_id: _Optional[str] = ..., actor: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service_name: _Optional[str] = ...) -> None: ...
