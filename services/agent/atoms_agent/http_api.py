"""The agent's HTTP face: `POST /v1/chat/completions` (OpenAI-compatible), `GET /health`, `GET /ready`.

It reads the same `Authorization: Bearer …` header, authenticates through the same kit
client with the same audience, and runs the same ChatSession as the gRPC `Chat`, so both
faces share one path. `GET /health` is liveness (200 while the process serves HTTP);
`GET /ready` is the gRPC readiness: 503 with a JSON reason while starting, stopping, or
while the auth service is unreachable.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from atoms.agent.v1 import agent_pb2
from atoms_agent.chat_session import ChatMessage, ChatSession, validate_messages
from atoms_agent.errors import InvalidRequestError
from atoms_grpc.auth_client import AuthClient
from atoms_grpc.auth_errors import MissingCredentialsError
from atoms_grpc.http_face_middleware import HttpFaceMiddleware
from atoms_grpc.http_metrics import record_error_reason
from atoms_grpc.principal import Principal
from atoms_grpc.readiness import Readiness
from atoms_grpc.service_error import ServiceError
from atoms_grpc.token_fingerprint import strip_bearer
from atoms_grpc.tracing import add_tracing_middleware

MAX_BODY_BYTES = 256 * 1024
DEFAULT_RETRY_AFTER_S = 5
MAX_TOOL_RESULT_CHARS = 8 * 1024
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def build_http_app(
    *,
    auth_client: AuthClient,
    audience: str,
    readiness: Callable[[], Readiness],
    chat: ChatSession,
    timeout_s: float,
) -> Starlette:
    """The Starlette app of the HTTP face.

    Args:
        auth_client: the kit's client of the auth service (shared with the gRPC face).
        audience: the audience the agent accepts, sent with every token (as on gRPC).
        readiness: the service's readiness, answered on `GET /ready`.
        chat: the chat path shared with the gRPC `Chat`.
        timeout_s: the budget of one chat completion.
    """

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        state = readiness()
        return JSONResponse(
            state.as_json(), status_code=200 if state.ready else 503, headers={"cache-control": "no-store"}
        )

    async def chat_completions(request: Request) -> Response:
        try:
            principal, token = await _authenticate(request, auth_client, audience)
            body = await _read_json(request)
            messages, requested_model, stream = _parse_chat_request(body)
            model = chat.model_name(requested_model)
            events = chat.run(principal, token, messages=messages, model=model, timeout_s=timeout_s)
            if stream:
                first = await anext(events)  # errors before the first event still get a proper status
                return StreamingResponse(_sse_chunks(first, events, model), media_type="text/event-stream")
            return JSONResponse(await _completion(events, model))
        except ServiceError as err:
            record_error_reason(request.scope, err.reason)
            return _error_response(err)

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ],
        middleware=[Middleware(HttpFaceMiddleware, service="agent")],
    )
    # With tracing on, the request's SERVER span wraps everything, the request id's middleware too.
    add_tracing_middleware(app, known_paths=("/health", "/ready", "/v1/chat/completions"))
    return app


async def _authenticate(request: Request, auth_client: AuthClient, audience: str) -> tuple[Principal, str]:
    header = request.headers.get("authorization", "")
    token = strip_bearer(header)
    if not token:
        raise MissingCredentialsError("send the token as `Authorization: Bearer <token>`")
    return await auth_client.validate(token, audience=audience), token


async def _read_json(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InvalidRequestError("body", f"must be at most {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequestError("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError) as err:  # RecursionError: JSON nested deeper than Python parses
        raise InvalidRequestError("body", "must be a JSON object") from err
    if not isinstance(parsed, dict):
        raise InvalidRequestError("body", "must be a JSON object")
    return parsed


def _parse_chat_request(body: dict[str, Any]) -> tuple[list[ChatMessage], str, bool]:
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list):
        raise InvalidRequestError("messages", "must be a list of {role, content}")
    messages = []
    for index, item in enumerate(raw_messages):
        if not isinstance(item, dict) or not isinstance(item.get("content", ""), str):
            raise InvalidRequestError(f"messages[{index}]", "must be {role, content} with text content")
        messages.append(ChatMessage(role=str(item.get("role", "")), content=item.get("content", "")))
    model = body.get("model", "")
    if not isinstance(model, str):
        raise InvalidRequestError("model", "must be a string")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequestError("stream", "must be true or false")
    return validate_messages(messages), model, stream


async def _completion(events: AsyncIterator[agent_pb2.ChatResponse], model: str) -> dict[str, Any]:
    text: list[str] = []
    finish_reason = "stop"
    async for event in events:
        if event.HasField("text_delta"):
            text.append(event.text_delta.text)
        elif event.HasField("done"):
            finish_reason = event.done.finish_reason
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(text)},
                "finish_reason": finish_reason,
            }
        ],
    }


async def _sse_chunks(
    first: agent_pb2.ChatResponse, events: AsyncIterator[agent_pb2.ChatResponse], model: str
) -> AsyncIterator[bytes]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    yield chunk({"role": "assistant"}, None)
    try:
        async for event in _prepend(first, events):
            if event.HasField("text_delta"):
                yield chunk({"content": event.text_delta.text}, None)
            elif event.HasField("tool_call"):
                yield chunk({"tool_calls": [_tool_call_delta(event.tool_call)]}, None)
            elif event.HasField("tool_result"):
                yield chunk({"tool_result": _tool_result_delta(event.tool_result)}, None)
            elif event.HasField("done"):
                yield chunk({}, event.done.finish_reason)
    except ServiceError as err:
        # Headers are sent: report the failure in-band, as OpenAI-compatible servers do.
        yield f"data: {json.dumps(_error_body(err))}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _tool_call_delta(call: agent_pb2.ToolCallEvent) -> dict[str, Any]:
    """A tool call the agent ran, in OpenAI's `tool_calls` delta shape (plus the server's name)."""
    arguments = json_format.MessageToDict(call.arguments)
    return {
        "index": 0,
        "id": call.call_id,
        "type": "function",
        "server": call.server_name,
        "function": {"name": call.tool_name, "arguments": json.dumps(arguments)},
    }


def _tool_result_delta(result: agent_pb2.ToolResultEvent) -> dict[str, Any]:
    """The result of a tool call the agent ran (an extension: OpenAI streams have none), at most 8 KiB."""
    response = result.result
    if response.HasField("structured_content"):
        content = json.dumps(json_format.MessageToDict(response.structured_content))
    else:
        content = "\n".join(item.text for item in response.content if item.text)
    if len(content) > MAX_TOOL_RESULT_CHARS:
        content = content[:MAX_TOOL_RESULT_CHARS] + " …"
    return {"tool_call_id": result.call_id, "content": content, "is_error": response.is_error}


async def _prepend(
    first: agent_pb2.ChatResponse, rest: AsyncIterator[agent_pb2.ChatResponse]
) -> AsyncIterator[agent_pb2.ChatResponse]:
    yield first
    async for event in rest:
        yield event


def _error_body(err: ServiceError) -> dict[str, Any]:
    return {"error": {"message": err.message, "type": err.status_code.name.lower(), "code": err.reason}}


def _error_response(err: ServiceError) -> JSONResponse:
    status = _HTTP_STATUS.get(err.status_code, 500)
    headers = (
        {"www-authenticate": f'Bearer error="invalid_token", error_description="{err.reason}"'}
        if status == 401
        else {}
    )
    if status == 503:
        delay = err.retry_delay_s
        headers["retry-after"] = str(DEFAULT_RETRY_AFTER_S if delay is None else max(1, math.ceil(delay)))
    return JSONResponse(_error_body(err), status_code=status, headers=headers)
