import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class McpServerScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MCP_SERVER_SCOPE_UNSPECIFIED: _ClassVar[McpServerScope]
    MCP_SERVER_SCOPE_SYSTEM: _ClassVar[McpServerScope]
    MCP_SERVER_SCOPE_ORGANIZATION: _ClassVar[McpServerScope]
    MCP_SERVER_SCOPE_USER: _ClassVar[McpServerScope]

class McpTransport(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MCP_TRANSPORT_UNSPECIFIED: _ClassVar[McpTransport]
    MCP_TRANSPORT_STREAMABLE_HTTP: _ClassVar[McpTransport]

class McpAuthType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MCP_AUTH_TYPE_UNSPECIFIED: _ClassVar[McpAuthType]
    MCP_AUTH_TYPE_NONE: _ClassVar[McpAuthType]
    MCP_AUTH_TYPE_INTERNAL: _ClassVar[McpAuthType]
    MCP_AUTH_TYPE_BEARER: _ClassVar[McpAuthType]

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_REQUEST: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_NAME_TAKEN: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_LIMIT: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_FORBIDDEN: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_UNAUTHENTICATED: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_FORBIDDEN: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_NOT_CONFIGURED: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_PROTOCOL_ERROR: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_LIMIT_EXCEEDED: _ClassVar[ErrorReason]
MCP_SERVER_SCOPE_UNSPECIFIED: McpServerScope
MCP_SERVER_SCOPE_SYSTEM: McpServerScope
MCP_SERVER_SCOPE_ORGANIZATION: McpServerScope
MCP_SERVER_SCOPE_USER: McpServerScope
MCP_TRANSPORT_UNSPECIFIED: McpTransport
MCP_TRANSPORT_STREAMABLE_HTTP: McpTransport
MCP_AUTH_TYPE_UNSPECIFIED: McpAuthType
MCP_AUTH_TYPE_NONE: McpAuthType
MCP_AUTH_TYPE_INTERNAL: McpAuthType
MCP_AUTH_TYPE_BEARER: McpAuthType
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INVALID_REQUEST: ErrorReason
ERROR_REASON_MCP_SERVER_NOT_FOUND: ErrorReason
ERROR_REASON_MCP_SERVER_NAME_TAKEN: ErrorReason
ERROR_REASON_MCP_SERVER_LIMIT: ErrorReason
ERROR_REASON_MCP_SERVER_FORBIDDEN: ErrorReason
ERROR_REASON_MCP_UNAUTHENTICATED: ErrorReason
ERROR_REASON_MCP_FORBIDDEN: ErrorReason
ERROR_REASON_MCP_UNAVAILABLE: ErrorReason
ERROR_REASON_TOOL_NOT_FOUND: ErrorReason
ERROR_REASON_MODEL_NOT_CONFIGURED: ErrorReason
ERROR_REASON_MODEL_UNAVAILABLE: ErrorReason
ERROR_REASON_MCP_PROTOCOL_ERROR: ErrorReason
ERROR_REASON_MCP_LIMIT_EXCEEDED: ErrorReason

class McpServer(_message.Message):
    __slots__ = ("id", "name", "url", "transport", "auth_type", "scope", "enabled", "first_party", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    FIRST_PARTY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    url: str
    transport: McpTransport
    auth_type: McpAuthType
    scope: McpServerScope
    enabled: bool
    first_party: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., url: _Optional[str] = ..., transport: _Optional[_Union[McpTransport, str]] = ..., auth_type: _Optional[_Union[McpAuthType, str]] = ..., scope: _Optional[_Union[McpServerScope, str]] = ..., enabled: _Optional[bool] = ..., first_party: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class McpServerConfig(_message.Message):
    __slots__ = ("name", "url", "transport", "headers", "forwards_user_token", "first_party", "scope")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    FORWARDS_USER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FIRST_PARTY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    transport: McpTransport
    headers: _containers.ScalarMap[str, str]
    forwards_user_token: bool
    first_party: bool
    scope: McpServerScope
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ..., transport: _Optional[_Union[McpTransport, str]] = ..., headers: _Optional[_Mapping[str, str]] = ..., forwards_user_token: _Optional[bool] = ..., first_party: _Optional[bool] = ..., scope: _Optional[_Union[McpServerScope, str]] = ...) -> None: ...

class ComposeMcpServersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ComposeMcpServersResponse(_message.Message):
    __slots__ = ("servers",)
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    servers: _containers.RepeatedCompositeFieldContainer[McpServerConfig]
    def __init__(self, servers: _Optional[_Iterable[_Union[McpServerConfig, _Mapping]]] = ...) -> None: ...

class ListMcpServersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMcpServersResponse(_message.Message):
    __slots__ = ("servers", "next_page_token")
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    servers: _containers.RepeatedCompositeFieldContainer[McpServer]
    next_page_token: str
    def __init__(self, servers: _Optional[_Iterable[_Union[McpServer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RegisterMcpServerRequest(_message.Message):
    __slots__ = ("name", "url", "transport", "scope", "auth_type", "bearer_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    transport: McpTransport
    scope: McpServerScope
    auth_type: McpAuthType
    bearer_token: str
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ..., transport: _Optional[_Union[McpTransport, str]] = ..., scope: _Optional[_Union[McpServerScope, str]] = ..., auth_type: _Optional[_Union[McpAuthType, str]] = ..., bearer_token: _Optional[str] = ...) -> None: ...

class RegisterMcpServerResponse(_message.Message):
    __slots__ = ("server",)
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: McpServer
    def __init__(self, server: _Optional[_Union[McpServer, _Mapping]] = ...) -> None: ...

class DeleteMcpServerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteMcpServerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListToolsRequest(_message.Message):
    __slots__ = ("server_name", "page_size", "page_token")
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    server_name: str
    page_size: int
    page_token: str
    def __init__(self, server_name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Tool(_message.Message):
    __slots__ = ("server_name", "name", "description", "input_schema")
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    server_name: str
    name: str
    description: str
    input_schema: _struct_pb2.Struct
    def __init__(self, server_name: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., input_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools", "failures", "next_page_token")
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[Tool]
    failures: _containers.RepeatedCompositeFieldContainer[ServerFailure]
    next_page_token: str
    def __init__(self, tools: _Optional[_Iterable[_Union[Tool, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[ServerFailure, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ServerFailure(_message.Message):
    __slots__ = ("server_name", "message")
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    server_name: str
    message: str
    def __init__(self, server_name: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CallToolRequest(_message.Message):
    __slots__ = ("server_name", "tool_name", "arguments")
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    server_name: str
    tool_name: str
    arguments: _struct_pb2.Struct
    def __init__(self, server_name: _Optional[str] = ..., tool_name: _Optional[str] = ..., arguments: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ToolContent(_message.Message):
    __slots__ = ("type", "text", "raw")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    type: str
    text: str
    raw: _struct_pb2.Struct
    def __init__(self, type: _Optional[str] = ..., text: _Optional[str] = ..., raw: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CallToolResponse(_message.Message):
    __slots__ = ("content", "structured_content", "is_error")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    STRUCTURED_CONTENT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    content: _containers.RepeatedCompositeFieldContainer[ToolContent]
    structured_content: _struct_pb2.Struct
    is_error: bool
    def __init__(self, content: _Optional[_Iterable[_Union[ToolContent, _Mapping]]] = ..., structured_content: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., is_error: _Optional[bool] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ChatRequest(_message.Message):
    __slots__ = ("messages", "model")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    model: str
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., model: _Optional[str] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class ToolCallEvent(_message.Message):
    __slots__ = ("call_id", "server_name", "tool_name", "arguments")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_NAME_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    server_name: str
    tool_name: str
    arguments: _struct_pb2.Struct
    def __init__(self, call_id: _Optional[str] = ..., server_name: _Optional[str] = ..., tool_name: _Optional[str] = ..., arguments: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ToolResultEvent(_message.Message):
    __slots__ = ("call_id", "result")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    result: CallToolResponse
    def __init__(self, call_id: _Optional[str] = ..., result: _Optional[_Union[CallToolResponse, _Mapping]] = ...) -> None: ...

class DoneEvent(_message.Message):
    __slots__ = ("finish_reason",)
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    finish_reason: str
    def __init__(self, finish_reason: _Optional[str] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("text_delta", "tool_call", "tool_result", "done")
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    text_delta: TextDelta
    tool_call: ToolCallEvent
    tool_result: ToolResultEvent
    done: DoneEvent
    def __init__(self, text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., tool_call: _Optional[_Union[ToolCallEvent, _Mapping]] = ..., tool_result: _Optional[_Union[ToolResultEvent, _Mapping]] = ..., done: _Optional[_Union[DoneEvent, _Mapping]] = ...) -> None: ...
