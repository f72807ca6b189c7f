"""The dev model's intent matching: which Atoms tool a message asks for, with which arguments."""

from __future__ import annotations

import pytest

from atoms_devtools.dev_model.intents import (
    MAX_MATCHED_CHARS,
    Clarification,
    HelpWanted,
    Intent,
    match_intent,
)

DOC = "doc_" + "a" * 32
REQ = "req_" + "b" * 32
PRJ = "prj_" + "c" * 32


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param("who am I?", Intent("whoami"), id="who am I calls whoami"),
        pytest.param("Whoami", Intent("whoami"), id="whoami in one word"),
        pytest.param("which organization am I in?", Intent("whoami"), id="which organization calls whoami"),
        pytest.param("list my projects", Intent("list_projects"), id="list my projects"),
        pytest.param("What projects do we have?", Intent("list_projects"), id="a question about projects"),
        pytest.param(
            "create a project called Apollo",
            Intent("create_project", {"name": "Apollo"}),
            id="create a project called X",
        ),
        pytest.param(
            "Please make a new project named 'Apollo 11' with description: to the moon.",
            Intent("create_project", {"name": "Apollo 11", "description": "to the moon"}),
            id="a quoted name and a description",
        ),
        pytest.param(
            "create a project called who am I",
            Intent("create_project", {"name": "who am I"}),
            id="a write wins over the read its name looks like",
        ),
        pytest.param(
            "list the documents in project Apollo",
            Intent("list_documents", project_name="Apollo"),
            id="documents of a project named by name",
        ),
        pytest.param(
            f"show the documents of {PRJ}",
            Intent("list_documents", {"project_id": PRJ}),
            id="documents of a project named by id",
        ),
        pytest.param(
            "create a document called Spec in project Apollo",
            Intent("create_document", {"title": "Spec"}, project_name="Apollo"),
            id="create a document called X in project Y",
        ),
        pytest.param(
            "create a document in project Apollo called Spec",
            Intent("create_document", {"title": "Spec"}, project_name="Apollo"),
            id="the project may come before the title",
        ),
        pytest.param(
            f"add a high priority requirement called Login to {DOC}: users sign in with AuthKit",
            Intent(
                "create_requirement",
                {
                    "document_id": DOC,
                    "title": "Login",
                    "text": "users sign in with AuthKit",
                    "priority": "high",
                },
            ),
            id="a requirement with title, text and priority",
        ),
        pytest.param(
            f'add requirement "Fast" to {DOC}',
            Intent("create_requirement", {"document_id": DOC, "title": "Fast", "text": "Fast"}),
            id="a requirement without text takes its title as text",
        ),
        pytest.param(
            "list the requirements in project Apollo about login",
            Intent("list_requirements", {"query": "login"}, project_name="Apollo"),
            id="requirements of a project, with a query",
        ),
        pytest.param(
            f"show draft requirements for {DOC}",
            Intent("list_requirements", {"document_id": DOC, "status": "draft"}),
            id="requirements of a document, by status",
        ),
        pytest.param(
            "list requirements in review",
            Intent("list_requirements", {"status": "in_review"}),
            id="in review",
        ),
        pytest.param(
            f"mark {REQ} as approved",
            Intent("update_requirement", {"requirement_id": REQ, "status": "approved"}),
            id="mark a requirement approved",
        ),
        pytest.param(
            f"set the priority of {REQ} to critical",
            Intent("update_requirement", {"requirement_id": REQ, "priority": "critical"}),
            id="set a requirement's priority",
        ),
        pytest.param(
            f"rename {REQ} to Login with SSO",
            Intent("update_requirement", {"requirement_id": REQ, "title": "Login with SSO"}),
            id="rename a requirement",
        ),
        pytest.param("hello", HelpWanted(), id="a greeting asks for help"),
        pytest.param("What can you do?", HelpWanted(), id="a question about the model asks for help"),
        pytest.param("tell me a joke", None, id="anything else is not understood"),
        pytest.param("", None, id="an empty message is not understood"),
    ],
)
def test_a_message_maps_to_its_tool_call(message: str, expected: object) -> None:
    assert match_intent(message) == expected


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        pytest.param("create a project", "called", id="a project without a name"),
        pytest.param("create a document called Spec", "Which project", id="a document without a project"),
        pytest.param("list documents", "Which project", id="documents without a project"),
        pytest.param(
            "add a requirement called Login", "Which document", id="a requirement without a document"
        ),
        pytest.param(f"update {REQ}", "What should change", id="an update that changes nothing"),
    ],
)
def test_an_incomplete_request_is_a_clarification_saying_what_is_missing(message: str, missing: str) -> None:
    found = match_intent(message)
    assert isinstance(found, Clarification)
    assert missing in found.text


def test_only_the_start_of_a_very_long_message_is_read() -> None:
    message = "x" * MAX_MATCHED_CHARS + " who am I"
    assert match_intent(message) is None


def test_a_hostile_message_is_matched_in_linear_time() -> None:
    # Runs of the optional words the create patterns allow must not make the regexes backtrack.
    message = "create" + " a" * 5000 + "!"
    assert match_intent(message) is None
