"""match_intent: which Atoms tool a user's message asks for, and with which arguments.

The dev model understands a few fixed phrasings, not language: a message is matched against
one rule per tool, the writes first (their wording is the most specific), then `whoami`,
then the listings by their noun (requirements, documents, projects). A request it recognises
but cannot complete (a project without a name, say) is a `Clarification` that says what is
missing; anything else is None, and the caller answers with its help.

Only the first `MAX_MATCHED_CHARS` characters of a message are read, with runs of white space
collapsed: the patterns stay linear, and a pasted novel costs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_MATCHED_CHARS = 2000
PROJECT_PAGE = 200  # the list_projects page read to find a project by name (the tool's maximum)

_I = re.IGNORECASE
_FILLER = r"(?:\s+(?:a|an|the|new|me|my|another|low|medium|high|critical|priority))*"
_CREATE = r"\b(?:create|add|make|start|new|write)\b" + _FILLER + r"\s+"
_CREATE_PROJECT = re.compile(_CREATE + r"project\b(?P<rest>.*)$", _I)
_CREATE_DOCUMENT = re.compile(_CREATE + r"(?:document|doc)\b(?P<rest>.*)$", _I)
_CREATE_REQUIREMENT = re.compile(_CREATE + r"requirement\b(?P<rest>.*)$", _I)
_UPDATE_VERB = re.compile(r"\b(?:mark|set|change|update|move|make|approve|reject|rename|verify)\b", _I)
_WHOAMI = re.compile(
    r"\bwho\s*am\s*i\b|\bwhoami\b|\bwho\s+is\s+(?:signed|logged)\s+in\b"
    r"|\bwhat(?:'s|\s+is)\s+my\s+(?:name|identity|organi[sz]ation|org|role|user)\b"
    r"|\bmy\s+(?:identity|permissions)\b|\bwhich\s+organi[sz]ation\b",
    _I,
)
_HELP = re.compile(r"^(?:help|hi|hello|hey)\b|\bwhat\s+can\s+you\s+do\b|\bhow\s+do\s+i\s+use\s+you\b", _I)
_QUERY = re.compile(r"\b(?:about|matching|containing|mentioning)\s+(?P<text>.+)$", _I)
_REQUIREMENTS = re.compile(r"\brequirements?\b", _I)
_DOCUMENTS = re.compile(r"\b(?:documents?|docs)\b", _I)
_PROJECTS = re.compile(r"\bprojects?\b", _I)

_PROJECT_ID = re.compile(r"\bprj_[A-Za-z0-9]+")
_DOCUMENT_ID = re.compile(r"\bdoc_[A-Za-z0-9]+")
_REQUIREMENT_ID = re.compile(r"\breq_[A-Za-z0-9]+")
_NAME_MARKER = re.compile(r"\b(?:called|named|titled)\s+(?P<name>.+)$", _I)
_IN_PROJECT = re.compile(r"\b(?:in|for|of|under|to|into|inside)\s+(?:the\s+)?project\s+(?P<name>.+)$", _I)
_OPENING_QUOTES = "\"'`\u201c\u2018"  # straight, backtick, curly double and single
_CLOSING_QUOTES = "\"'`\u201d\u2019"
_QUOTED = re.compile(f"[{_OPENING_QUOTES}](?P<name>[^{_CLOSING_QUOTES}]+)[{_CLOSING_QUOTES}]")
_STOPS = re.compile(
    r"\s+(?:in|for|of|under|to|into|inside)\s+(?:the\s+)?(?:project\b|document\b|doc\b|prj_|doc_)"
    r"|\s+(?:called|named|titled)\b|\s+(?:with|and)\s+(?:the\s+)?(?:description|text)\b"
    r"|\s+described\s+as\b|\s+saying\b|\s+that\s+says\b|\s*:\s*|\s+with\s+\w+\s+priority\b"
    r"|\s+(?:about|matching|containing|mentioning)\b",
    _I,
)
_DESCRIPTION = re.compile(
    r"\b(?:with\s+(?:the\s+)?description|described\s+as|description)\s*:?\s*(?P<text>.+)$", _I
)
_REQUIREMENT_TEXT = re.compile(
    r"(?::\s*|\bsaying\s+|\bthat\s+says\s+|\bwith\s+(?:the\s+)?text\s+)(?P<text>.+)$", _I
)
_NEW_TITLE = re.compile(r"\b(?:rename\s+\S+\s+to|title\s+to)\s+(?P<text>.+)$", _I)
_PRIORITY = re.compile(
    r"\b(?P<before>low|medium|high|critical)\s+priority\b"
    r"|\bpriority(?:\s+(?:to|of|is|as|at))*\s+(?P<after>low|medium|high|critical)\b",
    _I,
)
_STATUS = re.compile(
    r"\b(?P<status>in[\s_-]review|review|draft|approved?|implemented|verif(?:ied|y)|reject(?:ed)?)\b", _I
)
_STATUS_VALUES = {
    "review": "in_review",
    "draft": "draft",
    "approve": "approved",
    "approved": "approved",
    "implemented": "implemented",
    "verify": "verified",
    "verified": "verified",
    "reject": "rejected",
    "rejected": "rejected",
}


@dataclass(frozen=True, slots=True)
class Intent:
    """A tool call the message asks for.

    Attributes:
        tool: the Atoms tool, e.g. `create_project`.
        arguments: its arguments, as far as the message gives them.
        project_name: a project named by name, not id: its id is looked up through
            `list_projects` first and becomes the `project_id` argument.
    """

    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    project_name: str = ""


@dataclass(frozen=True, slots=True)
class Clarification:
    """A request recognised but incomplete; the text says what is missing and how to say it."""

    text: str


@dataclass(frozen=True, slots=True)
class HelpWanted:
    """A greeting or a question about what the dev model can do."""


def match_intent(message: str) -> Intent | Clarification | HelpWanted | None:
    """The tool call `message` asks for, a clarification, a help request, or None (not understood)."""
    text = " ".join(message[:MAX_MATCHED_CHARS].split())
    for rule in (
        _create_requirement,
        _update_requirement,
        _create_document,
        _create_project,
        _whoami,
        _list_requirements,
        _list_documents,
        _list_projects,
    ):
        if (found := rule(text)) is not None:
            return found
    return HelpWanted() if _HELP.search(text) else None


def _create_project(text: str) -> Intent | Clarification | None:
    if (match := _CREATE_PROJECT.search(text)) is None:
        return None
    rest = match["rest"]
    if not (name := _name_in(rest)):
        return Clarification(
            'What should the project be called? Say, e.g., "create a project called Apollo".'
        )
    arguments = {"name": name}
    if description := _tail(_DESCRIPTION, rest):
        arguments["description"] = description
    return Intent("create_project", arguments)


def _create_document(text: str) -> Intent | Clarification | None:
    if (match := _CREATE_DOCUMENT.search(text)) is None:
        return None
    rest = match["rest"]
    project = _project_of(text)
    if project is None or not (title := _name_in(rest)):
        return Clarification(
            'Which project, and what title? Say, e.g., "create a document called Spec in project Apollo".'
        )
    arguments = {"title": title, **project[0]}
    if description := _tail(_DESCRIPTION, rest):
        arguments["description"] = description
    return Intent("create_document", arguments, project_name=project[1])


def _create_requirement(text: str) -> Intent | Clarification | None:
    if (match := _CREATE_REQUIREMENT.search(text)) is None:
        return None
    rest = match["rest"]
    document = _DOCUMENT_ID.search(text)
    if document is None or not (title := _name_in(rest)):
        return Clarification(
            "Which document, and what title? Say, e.g., "
            '"add a requirement called Login to doc_…: users sign in with AuthKit" '
            '("list the documents in project Apollo" shows the document ids).'
        )
    arguments: dict[str, Any] = {
        "document_id": document.group(),
        "title": title,
        "text": _tail(_REQUIREMENT_TEXT, rest) or title,
    }
    if priority := _priority(text):
        arguments["priority"] = priority
    return Intent("create_requirement", arguments)


def _update_requirement(text: str) -> Intent | Clarification | None:
    requirement = _REQUIREMENT_ID.search(text)
    if requirement is None or _UPDATE_VERB.search(text) is None:
        return None
    arguments: dict[str, Any] = {"requirement_id": requirement.group()}
    if new_title := _tail(_NEW_TITLE, text):
        arguments["title"] = new_title
    elif priority := _priority(text.replace(requirement.group(), " ")):
        arguments["priority"] = priority
    elif status := _status(text.replace(requirement.group(), " ")):
        arguments["status"] = status
    else:
        return Clarification(
            'What should change? Say, e.g., "mark req_… as approved", "set the priority of req_… to high" '
            'or "rename req_… to Login with SSO".'
        )
    return Intent("update_requirement", arguments)


def _whoami(text: str) -> Intent | None:
    return Intent("whoami") if _WHOAMI.search(text) else None


def _list_requirements(text: str) -> Intent | None:
    if _REQUIREMENTS.search(text) is None:
        return None
    arguments: dict[str, Any] = {}
    project_name = ""
    if document := _DOCUMENT_ID.search(text):
        arguments["document_id"] = document.group()
    elif project := _project_of(text):
        arguments, project_name = project
    if status := _status(_REQUIREMENTS.sub(" ", _QUERY.sub(" ", text))):
        arguments["status"] = status
    if query := _tail(_QUERY, text):
        arguments["query"] = query
    return Intent("list_requirements", arguments, project_name=project_name)


def _list_documents(text: str) -> Intent | Clarification | None:
    if _DOCUMENTS.search(text) is None:
        return None
    if (project := _project_of(text)) is None:
        return Clarification('Which project? Say, e.g., "list the documents in project Apollo".')
    return Intent("list_documents", project[0], project_name=project[1])


def _list_projects(text: str) -> Intent | None:
    return Intent("list_projects") if _PROJECTS.search(text) else None


def _project_of(text: str) -> tuple[dict[str, Any], str] | None:
    """`({"project_id": id}, "")` for an id in the text, `({}, name)` for "in project NAME", else None."""
    if project_id := _PROJECT_ID.search(text):
        return {"project_id": project_id.group()}, ""
    if named := _IN_PROJECT.search(text):
        quoted = _QUOTED.match(named["name"])
        name = quoted["name"].strip() if quoted else _clean_name(_STOPS.split(named["name"], 1)[0])
        if name:
            return {}, name
    return None


def _name_in(rest: str) -> str:
    """The name a create request gives: after "called/named/titled", else right after the noun."""
    marked = _NAME_MARKER.search(rest)
    candidate = (marked["name"] if marked else rest).strip().lstrip(":").strip()
    if quoted := _QUOTED.match(candidate):
        return quoted["name"].strip()
    return _clean_name(_STOPS.split(candidate, 1)[0])


def _tail(pattern: re.Pattern[str], text: str) -> str:
    """The `text` group of `pattern` in `text`, up to the next stop word, unquoted; "" if absent."""
    match = pattern.search(text)
    if match is None:
        return ""
    if quoted := _QUOTED.match(match["text"]):
        return quoted["name"].strip()
    return _clean_name(match["text"])


def _clean_name(text: str) -> str:
    return text.strip().rstrip(".!?,;").strip()


def _priority(text: str) -> str:
    match = _PRIORITY.search(text)
    return (match["before"] or match["after"]).lower() if match else ""


def _status(text: str) -> str:
    match = _STATUS.search(text)
    if match is None:
        return ""
    word = match["status"].lower()
    return "in_review" if word.startswith("in") else _STATUS_VALUES[word]
