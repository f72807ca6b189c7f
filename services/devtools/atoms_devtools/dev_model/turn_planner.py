"""plan_turn: what the dev model answers to a conversation: one tool call, or text.

The user's last message decides (`match_intent`). The tool results fed back after it are the
outcomes of this turn: once the asked tool has answered, the reply is built from its result;
a request that names a project by name runs `list_projects` first and takes the id from it.
A turn asks for one call at most, and one user message for at most MAX_CALLS_PER_MESSAGE, so
a client that keeps feeding results back cannot make the model loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atoms_devtools.dev_model.answers import ToolOutcome, answer_from, no_such_project, project_id_named
from atoms_devtools.dev_model.completion_request import CompletionRequest, Message
from atoms_devtools.dev_model.intents import PROJECT_PAGE, Clarification, HelpWanted, Intent, match_intent
from atoms_devtools.dev_model.model_card import help_text, with_note
from atoms_devtools.dev_model.offered_tools import OfferedTools, tool_name_of

MAX_CALLS_PER_MESSAGE = 3


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """The tool call a turn asks for, in OpenAI's terms."""

    call_id: str
    function_name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class PlannedTurn:
    """The model's turn: text, or one tool call.

    Attributes:
        text: the answer (with the stand-in note); "" for a tool call.
        call: the tool call, or None for text.
        label: what the turn is, for the log: `call whoami`, `answer whoami`, `help`, ...
            It never holds the user's words or a tool's arguments.
    """

    text: str = ""
    call: PlannedCall | None = None
    label: str = "answer"

    @property
    def finish_reason(self) -> str:
        """`tool_calls` for a call, `stop` for text."""
        return "tool_calls" if self.call is not None else "stop"


def plan_turn(request: CompletionRequest) -> PlannedTurn:
    """The next turn of the conversation in `request`."""
    offered = OfferedTools(request.function_names)
    last_user = _last_user_index(request.messages)
    if last_user is None:
        return PlannedTurn(text=help_text(offered, understood=True), label="help")
    intent = match_intent(request.messages[last_user].text)
    if intent is None or isinstance(intent, HelpWanted):
        return PlannedTurn(text=help_text(offered, understood=intent is not None), label="help")
    if isinstance(intent, Clarification):
        return PlannedTurn(text=with_note(intent.text), label="clarification")
    outcomes = _outcomes(request.messages[last_user + 1 :])
    return _next_step(intent, outcomes, offered, request)


def _next_step(
    intent: Intent, outcomes: list[ToolOutcome], offered: OfferedTools, request: CompletionRequest
) -> PlannedTurn:
    done = {outcome.tool: outcome for outcome in outcomes}
    if (outcome := done.get(intent.tool)) is not None:
        return PlannedTurn(text=with_note(answer_from(outcome)), label=f"answer {intent.tool}")
    if len(outcomes) >= MAX_CALLS_PER_MESSAGE:
        return PlannedTurn(
            text=with_note(f"I stopped after {len(outcomes)} tool calls without getting to {intent.tool}."),
            label="gave up",
        )
    arguments = intent.arguments
    if intent.project_name:
        listing = done.get("list_projects")
        if listing is None:
            return _call("list_projects", {"limit": PROJECT_PAGE}, offered, request)
        project_id = project_id_named(listing, intent.project_name)
        if project_id is None:
            return PlannedTurn(
                text=with_note(no_such_project(listing, intent.project_name)), label="no such project"
            )
        arguments = {**arguments, "project_id": project_id}
    return _call(intent.tool, arguments, offered, request)


def _call(
    tool: str, arguments: dict[str, Any], offered: OfferedTools, request: CompletionRequest
) -> PlannedTurn:
    function_name = offered.function_for(tool)
    if function_name is None:
        return PlannedTurn(
            text=with_note(
                f"I would call {tool} for that, but no tool of that name is offered to me here "
                "(is the Atoms MCP connected?)."
            ),
            label=f"not offered {tool}",
        )
    if not request.tools_allowed:
        return PlannedTurn(
            text=with_note(
                f"I would call {tool} for that, but this request turned tools off (tool_choice none)."
            ),
            label=f"tools off {tool}",
        )
    call_id = f"call_{_calls_so_far(request.messages) + 1}"
    call = PlannedCall(call_id=call_id, function_name=function_name, arguments_json=json.dumps(arguments))
    return PlannedTurn(call=call, label=f"call {tool}")


def _last_user_index(messages: Sequence[Message]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return index
    return None


def _outcomes(since_user: Sequence[Message]) -> list[ToolOutcome]:
    """The tool results of this turn, in order, each with the call it answers."""
    calls = {call.call_id: call for message in since_user for call in message.tool_calls}
    outcomes = []
    for message in since_user:
        call = calls.get(message.tool_call_id) if message.role == "tool" else None
        if call is not None:
            outcomes.append(
                ToolOutcome(
                    tool=tool_name_of(call.function_name),
                    arguments=_arguments(call.arguments_json),
                    result_text=message.text,
                )
            )
    return outcomes


def _arguments(arguments_json: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments_json or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _calls_so_far(messages: Sequence[Message]) -> int:
    return sum(len(message.tool_calls) for message in messages)
