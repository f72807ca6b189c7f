"""build_dev_model_app: the dev model's HTTP surface, shaped like OpenAI's.

Served:
    POST /v1/chat/completions   a completion, streamed (SSE `data:` chunks, `[DONE]`) or whole
    GET  /v1/models             the one model, `atoms-dev-model`
    GET  /v1/models/{model}     it, or 404 model_not_found
    GET  /health

No authentication: an `Authorization` header is accepted and never read, so the agent's
`ATOMS_LLM_API_KEY` may be set or not. Every refusal, unknown routes included, is OpenAI's
error object with a 4xx status, built in `_refusal` alone. The log names what a turn did
(`call whoami`) and how large the request was, never a header or a message.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from atoms_devtools.dev_model.completion_request import CompletionRequest, parse_completion_request
from atoms_devtools.dev_model.errors import (
    DevModelError,
    InvalidRequestError,
    ModelNotFoundError,
    RequestTooLargeError,
)
from atoms_devtools.dev_model.model_card import DEV_MODEL_ID, model_entry
from atoms_devtools.dev_model.turn_planner import PlannedTurn, plan_turn
from atoms_devtools.dev_model.wire import completion_body, estimate_usage, stream_chunks

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024  # the agent's conversation, tool results (up to 4 MiB each) included
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def build_dev_model_app() -> Starlette:
    """The Starlette app of the dev model."""
    return Starlette(
        routes=[
            Route("/health", _health, methods=["GET"]),
            Route("/v1/models", _models, methods=["GET"]),
            Route("/v1/models/{model}", _model, methods=["GET"]),
            Route("/v1/chat/completions", _chat_completions, methods=["POST"]),
        ],
        exception_handlers={DevModelError: _refusal, HTTPException: _refusal},
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [model_entry()]})


async def _model(request: Request) -> Response:
    if request.path_params["model"] != DEV_MODEL_ID:
        raise ModelNotFoundError(f"this development server serves only `{DEV_MODEL_ID}`", param="model")
    return JSONResponse(model_entry())


async def _chat_completions(request: Request) -> Response:
    completion = parse_completion_request(await _read_json(request))
    turn = plan_turn(completion)
    logger.info(
        "chat completion: %s (%d messages, %d tools offered, %s)",
        turn.label,
        len(completion.messages),
        len(completion.function_names),
        "streamed" if completion.stream else "whole",
    )
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not completion.stream:
        usage = estimate_usage(completion, turn)
        return JSONResponse(completion_body(turn, completion_id=completion_id, created=created, usage=usage))
    return StreamingResponse(
        _sse(completion, turn, completion_id=completion_id, created=created),
        media_type="text/event-stream",
        headers={"cache-control": "no-store"},
    )


async def _sse(
    completion: CompletionRequest, turn: PlannedTurn, *, completion_id: str, created: int
) -> AsyncIterator[bytes]:
    usage = estimate_usage(completion, turn) if completion.include_usage else None
    for chunk in stream_chunks(turn, completion_id=completion_id, created=created, usage=usage):
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    yield b"data: [DONE]\n\n"


async def _read_json(request: Request) -> Any:
    """The decoded JSON body, read up to MAX_BODY_BYTES (Content-Length is checked, not trusted).

    Raises:
        RequestTooLargeError: the body is larger.
        InvalidRequestError: it is not JSON, or nested too deeply to decode.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestTooLargeError(f"the body must be at most {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY_BYTES:
            raise RequestTooLargeError(f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError as err:
        raise InvalidRequestError("the body is not JSON") from err
    except RecursionError as err:  # `[[[[…` thousands deep: a refusal, not a 500
        raise InvalidRequestError("the body is nested too deeply") from err


async def _refusal(request: Request, exc: Exception) -> Response:
    """OpenAI's error object for a refused request (the only place one is built)."""
    headers = None
    if isinstance(exc, DevModelError):
        status, message, param, code, error_type = (
            exc.status_code,
            exc.message,
            exc.param,
            exc.code,
            exc.error_type,
        )
    else:
        http = exc if isinstance(exc, HTTPException) else HTTPException(400)
        status, headers = http.status_code, http.headers
        message = f"{request.method} {request.url.path}: {http.detail}"
        param, code, error_type = None, _HTTP_CODES.get(status, "invalid_request"), "invalid_request_error"
    # The path is left out of the log: an unknown path is the client's text, not ours.
    logger.info("refused a %s request: %d %s", request.method, status, code)
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
