"""The dev model: a local, deterministic stand-in for an OpenAI-compatible LLM endpoint.

Development and tests only: `atoms dev model` serves `POST /v1/chat/completions` (streamed
and not, with tool calls) and `GET /v1/models`, and answers from the tools it is offered:
"who am I" calls the Atoms MCP's `whoami`, "create a project called X" calls
`create_project`, and so on (see `intents`); once the tool's result is back it answers in a
sentence or two built from it. Every answer names it a stand-in. `running_dev_model()` runs
it inside a test's event loop. The agent uses it only when told to by `ATOMS_LLM_BASE_URL`.

The names below load their module on first use (PEP 562): importing one module of the
package (its command line, say) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoms_grpc.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from atoms_devtools.dev_model.app import MAX_BODY_BYTES, build_dev_model_app
    from atoms_devtools.dev_model.completion_request import MAX_MESSAGES, MAX_TOOLS
    from atoms_devtools.dev_model.model_card import DEFAULT_HOST, DEFAULT_PORT, DEV_MODEL_ID, STAND_IN_NOTE
    from atoms_devtools.dev_model.server import dev_model_base_url, run_dev_model, running_dev_model

# Each public name and the module that defines it.
_MODULE_OF = {
    "DEFAULT_HOST": "atoms_devtools.dev_model.model_card",
    "DEFAULT_PORT": "atoms_devtools.dev_model.model_card",
    "DEV_MODEL_ID": "atoms_devtools.dev_model.model_card",
    "MAX_BODY_BYTES": "atoms_devtools.dev_model.app",
    "MAX_MESSAGES": "atoms_devtools.dev_model.completion_request",
    "MAX_TOOLS": "atoms_devtools.dev_model.completion_request",
    "STAND_IN_NOTE": "atoms_devtools.dev_model.model_card",
    "build_dev_model_app": "atoms_devtools.dev_model.app",
    "dev_model_base_url": "atoms_devtools.dev_model.server",
    "run_dev_model": "atoms_devtools.dev_model.server",
    "running_dev_model": "atoms_devtools.dev_model.server",
}

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

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
