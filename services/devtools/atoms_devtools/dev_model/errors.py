"""DevModelError: a request the dev model refuses, in OpenAI's error shape.

    DevModelError                  400 invalid_request_error
    ├── InvalidRequestError        400, `param` names the field
    ├── RequestTooLargeError       413 request_too_large
    └── ModelNotFoundError         404 model_not_found

The app turns each into `{"error": {"message", "type", "param", "code"}}` in one place.
"""

from __future__ import annotations


class DevModelError(Exception):
    """A refused request: an HTTP status, OpenAI's error type and code, and a message."""

    status_code = 400
    error_type = "invalid_request_error"
    code: str | None = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequestError(DevModelError):
    """The body is not a chat-completions request the dev model can answer."""


class RequestTooLargeError(DevModelError):
    """The body, or a list in it, is larger than the dev model's bound."""

    status_code = 413
    code = "request_too_large"


class ModelNotFoundError(DevModelError):
    """The request names a model other than the dev model."""

    status_code = 404
    code = "model_not_found"
