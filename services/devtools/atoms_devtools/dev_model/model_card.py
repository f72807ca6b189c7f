"""What the dev model says about itself: its id, the stand-in note on every answer, its help.

Every answer names the model a development stand-in, so nobody mistakes a scripted reply for
a real model's: the id is `atoms-dev-model` and each text ends with `STAND_IN_NOTE`.
"""

from __future__ import annotations

from typing import Any

from atoms_devtools.dev_model.offered_tools import OfferedTools

DEV_MODEL_ID = "atoms-dev-model"
# Where `atoms dev model` listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8110
OWNER = "atoms-dev"
CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed date keeps `GET /v1/models` deterministic
STAND_IN_NOTE = f"[{DEV_MODEL_ID}: a local development stand-in, not a real model]"

# (tool, an example the intent matcher understands), in the order the help lists them.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("whoami", '"who am I"'),
    ("list_projects", '"list my projects"'),
    ("create_project", '"create a project called Apollo"'),
    ("list_documents", '"list the documents in project Apollo"'),
    ("create_document", '"create a document called Spec in project Apollo"'),
    ("list_requirements", '"list the requirements in project Apollo"'),
    ("create_requirement", '"add a requirement called Login to doc_…: users sign in with AuthKit"'),
    ("update_requirement", '"mark req_… as approved"'),
)


def with_note(text: str) -> str:
    """`text` followed by the stand-in note."""
    return f"{text} {STAND_IN_NOTE}"


def help_text(offered: OfferedTools, *, understood: bool) -> str:
    """The short helpful reply to anything the dev model does not understand.

    Args:
        offered: the tools of the request; the examples list only what can run.
        understood: False prefixes an admission that the message was not understood.
    """
    opening = "" if understood else "I did not understand that. "
    examples = [example for tool, example in EXAMPLES if tool in offered]
    if not examples:
        return with_note(
            f"{opening}I am {DEV_MODEL_ID}, a local stand-in for a real model that answers a few fixed "
            "phrases through the Atoms MCP tools, but no Atoms tools are offered to me here."
        )
    return with_note(
        f"{opening}I am {DEV_MODEL_ID}, a local stand-in for a real model that answers a few fixed "
        f"phrases through the Atoms MCP tools. Try: {', '.join(examples)}."
    )


def model_entry() -> dict[str, Any]:
    """The model as `GET /v1/models` lists it."""
    return {"id": DEV_MODEL_ID, "object": "model", "created": CREATED, "owned_by": OWNER}
