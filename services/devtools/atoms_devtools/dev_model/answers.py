"""answer_from: one or two sentences built from a tool's result, and the project lookup by name.

A tool result reaches the model as text: the agent passes the MCP tool's text content, which
for the Atoms tools is their JSON result, and for a refusal the reason ("needs the
projects:write permission"). A result that is not the JSON the tool returns is quoted as the
tool's failure, shortened; nothing in it is ever executed or followed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 10  # names an answer lists before "and N more"
MAX_QUOTED_CHARS = 300  # of a failed tool's text


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool call of this turn and the result the agent fed back."""

    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result_text: str = ""

    def result(self) -> dict[str, Any] | None:
        """The result as a JSON object, or None when it is not one (a refusal, say)."""
        try:
            value = json.loads(self.result_text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def answer_from(outcome: ToolOutcome) -> str:
    """The answer to the user once `outcome` is known (without the stand-in note)."""
    result = outcome.result()
    phrase = _PHRASES.get(outcome.tool)
    if result is None or phrase is None:
        return failure_of(outcome)
    try:
        return phrase(result)
    except (KeyError, TypeError, AttributeError):
        return f"{outcome.tool} answered something I cannot read: {_shortened(outcome.result_text)}"


def failure_of(outcome: ToolOutcome) -> str:
    """The sentence for a tool that did not return its result."""
    return f"{outcome.tool} did not succeed: {_shortened(outcome.result_text) or 'no reason given'}"


def project_id_named(outcome: ToolOutcome, name: str) -> str | None:
    """The id of the project called `name` (case-insensitive) in a `list_projects` result, or None."""
    result = outcome.result() or {}
    projects = result.get("projects")
    for project in projects if isinstance(projects, list) else []:
        if isinstance(project, dict) and str(project.get("name", "")).casefold() == name.casefold():
            project_id = project.get("id")
            return project_id if isinstance(project_id, str) else None
    return None


def no_such_project(outcome: ToolOutcome, name: str) -> str:
    """The answer when `list_projects` shows no project called `name`."""
    if outcome.result() is None:
        return failure_of(outcome)
    return f'There is no project called "{name}" in your organization. {_projects(outcome.result() or {})}'


def _whoami(result: dict[str, Any]) -> str:
    organization = f"in organization {result['org_id']}" if result.get("org_id") else "with no organization"
    kind = result.get("kind") or "user"
    sentence = f"You are {kind} {result['subject']} {organization}, role {result.get('role') or 'none'}."
    may_write = [str(permission) for permission in result.get("may_write") or ()]
    if may_write:
        return f"{sentence} You may write: {', '.join(may_write)}."
    return f"{sentence} You may read but not write."


def _projects(result: dict[str, Any]) -> str:
    return _listing(result["projects"], "project", lambda p: f'"{p["name"]}" ({p["id"]})', result)


def _documents(result: dict[str, Any]) -> str:
    return _listing(result["documents"], "document", lambda d: f'"{d["title"]}" ({d["id"]})', result)


def _requirements(result: dict[str, Any]) -> str:
    return _listing(
        result["requirements"],
        "requirement",
        lambda r: f'"{r["title"]}" ({r["id"]}, {r["status"]}, {r["priority"]})',
        result,
    )


def _listing(
    items: list[dict[str, Any]], noun: str, describe: Callable[[dict[str, Any]], str], page: dict[str, Any]
) -> str:
    if not items:
        return f"There are no {noun}s here yet."
    shown = ", ".join(describe(item) for item in items[:MAX_LISTED])
    hidden = len(items) - MAX_LISTED
    more = f", and {hidden} more" if hidden > 0 else ""
    further = " There are more on the next page." if page.get("has_more") else ""
    count = f"1 {noun}" if len(items) == 1 else f"{len(items)} {noun}s"
    return f"I found {count}: {shown}{more}.{further}"


def _created_project(result: dict[str, Any]) -> str:
    return f'I created the project "{result["name"]}" ({result["id"]}).'


def _created_document(result: dict[str, Any]) -> str:
    return f'I created the document "{result["title"]}" ({result["id"]}) in project {result["project_id"]}.'


def _created_requirement(result: dict[str, Any]) -> str:
    return (
        f'I added the requirement "{result["title"]}" ({result["id"]}, {result["status"]}, '
        f"{result['priority']} priority) to document {result['document_id']}."
    )


def _updated_requirement(result: dict[str, Any]) -> str:
    return (
        f'The requirement "{result["title"]}" ({result["id"]}) is now {result["status"]}, '
        f"{result['priority']} priority."
    )


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTED_CHARS else flat[: MAX_QUOTED_CHARS - 1] + "…"


_PHRASES: dict[str, Callable[[dict[str, Any]], str]] = {
    "whoami": _whoami,
    "list_projects": _projects,
    "create_project": _created_project,
    "list_documents": _documents,
    "create_document": _created_document,
    "list_requirements": _requirements,
    "create_requirement": _created_requirement,
    "update_requirement": _updated_requirement,
}
