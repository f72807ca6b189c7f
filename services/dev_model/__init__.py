"""The dev model: a local, deterministic stand-in for an OpenAI-compatible LLM endpoint.

Development and tests only: `atoms dev model` serves `POST /v1/chat/completions` (streamed
and not, with tool calls) and `GET /v1/models`, and answers from the tools it is offered:
"who am I" calls the Atoms MCP's `whoami`, "create a project called X" calls
`create_project`, and so on (see `intents`); once the tool's result is back it answers in a
sentence or two built from it. Every answer names it a stand-in. `running_dev_model()` runs
it inside a test's event loop. The agent uses it only when told to by `ATOMS_LLM_BASE_URL`.
"""

from services.dev_model.app import MAX_BODY_BYTES, build_dev_model_app
from services.dev_model.completion_request import MAX_MESSAGES, MAX_TOOLS
from services.dev_model.model_card import DEV_MODEL_ID, STAND_IN_NOTE
from services.dev_model.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    dev_model_base_url,
    run_dev_model,
    running_dev_model,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEV_MODEL_ID",
    "MAX_BODY_BYTES",
    "MAX_MESSAGES",
    "MAX_TOOLS",
    "STAND_IN_NOTE",
    "build_dev_model_app",
    "dev_model_base_url",
    "run_dev_model",
    "running_dev_model",
]
