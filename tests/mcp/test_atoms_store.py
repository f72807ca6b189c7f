"""AtomsStore on SQLite (a file in tmp_path): organization scoping, filters, paging and input validation.

test_atoms_store_postgres.py runs these same tests against PostgreSQL. Organizations are
random per test, so the tests also hold on a database shared with earlier runs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from atoms_mcp.atoms_model import RequirementChanges, RequirementPriority, RequirementStatus
from atoms_mcp.atoms_store import AtomsStore
from atoms_mcp.errors import ConflictError, InvalidInputError, NotFoundError

AUTHOR = "user_author"
UNKNOWN = {"project": "prj_" + "f" * 32, "document": "doc_" + "f" * 32, "requirement": "req_" + "f" * 32}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AtomsStore]:
    opened = await AtomsStore.open(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'atoms.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def org() -> str:
    return f"org_{uuid.uuid4().hex}"


@pytest.fixture
def other_org() -> str:
    return f"org_{uuid.uuid4().hex}"


async def _tree(store: AtomsStore, org: str) -> tuple[str, str, str]:
    project = await store.create_project(org, name="Rover", description="", author=AUTHOR)
    document = await store.create_document(org, project.id, title="Power", description="", author=AUTHOR)
    requirement = await store.create_requirement(
        org, document.id, title="Battery", text="10 sols", author=AUTHOR
    )
    return project.id, document.id, requirement.id


async def test_created_requirement_has_defaults_author_and_utc_timestamps(
    store: AtomsStore, org: str
) -> None:
    project_id, document_id, _ = await _tree(store, org)
    requirement = await store.create_requirement(
        org, document_id, title="  Heater ", text="Warm", author=AUTHOR
    )
    assert (requirement.title, requirement.status, requirement.priority) == (
        "Heater",
        RequirementStatus.DRAFT,
        RequirementPriority.MEDIUM,
    )
    assert (requirement.project_id, requirement.author, requirement.updated_by) == (
        project_id,
        AUTHOR,
        AUTHOR,
    )
    assert requirement.created_at == requirement.updated_at
    assert requirement.created_at.tzinfo is UTC


async def test_projects_are_listed_oldest_first_within_the_organization(
    store: AtomsStore, org: str, other_org: str
) -> None:
    first = await store.create_project(org, name="First", description="", author=AUTHOR)
    second = await store.create_project(org, name="Second", description="d", author=AUTHOR)
    await store.create_project(other_org, name="Theirs", description="", author=AUTHOR)
    page = await store.list_projects(org)
    assert [p.id for p in page.items] == [first.id, second.id]
    assert page.items[1] == second
    assert not page.has_more


async def test_project_names_are_unique_per_organization_only(
    store: AtomsStore, org: str, other_org: str
) -> None:
    await store.create_project(org, name="Rover", description="", author=AUTHOR)
    await store.create_project(other_org, name="Rover", description="", author=AUTHOR)
    with pytest.raises(ConflictError, match="already exists"):
        await store.create_project(org, name="Rover", description="", author=AUTHOR)


@pytest.mark.parametrize(
    ("kind", "call"),
    [
        ("project", lambda s, org, ids: s.list_documents(org, ids[0])),
        (
            "project",
            lambda s, org, ids: s.create_document(org, ids[0], title="t", description="", author=AUTHOR),
        ),
        ("project", lambda s, org, ids: s.list_requirements(org, project_id=ids[0])),
        ("document", lambda s, org, ids: s.list_requirements(org, document_id=ids[1])),
        (
            "document",
            lambda s, org, ids: s.create_requirement(org, ids[1], title="t", text="x", author=AUTHOR),
        ),
        (
            "requirement",
            lambda s, org, ids: s.update_requirement(
                org, ids[2], RequirementChanges(title="t"), author=AUTHOR
            ),
        ),
    ],
    ids=[
        "list documents",
        "create document",
        "list requirements by project",
        "list requirements by document",
        "create requirement",
        "update requirement",
    ],
)
async def test_another_organizations_row_is_reported_like_a_missing_row(
    store: AtomsStore,
    org: str,
    other_org: str,
    kind: str,
    call: Callable[[AtomsStore, str, tuple[str, ...]], Awaitable[Any]],
) -> None:
    theirs = await _tree(store, other_org)
    with pytest.raises(NotFoundError) as foreign:
        await call(store, org, theirs)
    missing_ids = (UNKNOWN["project"], UNKNOWN["document"], UNKNOWN["requirement"])
    with pytest.raises(NotFoundError) as missing:
        await call(store, org, missing_ids)
    assert (foreign.value.kind, missing.value.kind) == (kind, kind)
    assert str(foreign.value).replace(foreign.value.row_id, "ID") == str(missing.value).replace(
        missing.value.row_id, "ID"
    )


async def test_update_changes_only_the_given_fields(store: AtomsStore, org: str) -> None:
    _, _, requirement_id = await _tree(store, org)
    changes = RequirementChanges(status=RequirementStatus.APPROVED, priority=RequirementPriority.HIGH)
    updated = await store.update_requirement(org, requirement_id, changes, author="user_reviewer")
    assert (updated.title, updated.text, updated.status, updated.priority) == (
        "Battery",
        "10 sols",
        RequirementStatus.APPROVED,
        RequirementPriority.HIGH,
    )
    assert (updated.author, updated.updated_by) == (AUTHOR, "user_reviewer")
    assert updated.updated_at >= updated.created_at


async def test_a_failed_update_from_another_organization_changes_nothing(
    store: AtomsStore, org: str, other_org: str
) -> None:
    _, document_id, requirement_id = await _tree(store, org)
    with pytest.raises(NotFoundError):
        await store.update_requirement(
            other_org, requirement_id, RequirementChanges(title="Hacked"), author="x"
        )
    page = await store.list_requirements(org, document_id=document_id)
    assert [r.title for r in page.items] == ["Battery"]


async def test_requirements_are_filtered_by_status_text_and_project(store: AtomsStore, org: str) -> None:
    project_id, document_id, _ = await _tree(store, org)
    other_project = await store.create_project(org, name="Other", description="", author=AUTHOR)
    other_document = await store.create_document(
        org, other_project.id, title="D", description="", author=AUTHOR
    )
    await store.create_requirement(
        org, document_id, title="Coverage", text="100% of BATTERY cells", status="approved", author=AUTHOR
    )
    await store.create_requirement(
        org, other_document.id, title="Wheels", text="battery_box mount", author=AUTHOR
    )
    titles = [r.title for r in (await store.list_requirements(org, query="battery")).items]
    assert titles == ["Battery", "Coverage", "Wheels"]  # title or text, any case
    assert [r.title for r in (await store.list_requirements(org, status="approved")).items] == ["Coverage"]
    assert [r.title for r in (await store.list_requirements(org, project_id=project_id)).items] == [
        "Battery",
        "Coverage",
    ]


@pytest.mark.parametrize(
    ("query", "expected"), [("%", ["Coverage"]), ("_", ["Wheels"]), ("100%", ["Coverage"])]
)
async def test_like_wildcards_in_a_text_query_match_literally(
    store: AtomsStore, org: str, query: str, expected: list[str]
) -> None:
    _, document_id, _ = await _tree(store, org)
    await store.create_requirement(org, document_id, title="Coverage", text="100% of cells", author=AUTHOR)
    await store.create_requirement(org, document_id, title="Wheels", text="battery_box mount", author=AUTHOR)
    assert [r.title for r in (await store.list_requirements(org, query=query)).items] == expected


async def test_pages_report_whether_more_rows_follow(store: AtomsStore, org: str) -> None:
    for name in ("A", "B", "C"):
        await store.create_project(org, name=name, description="", author=AUTHOR)
    first = await store.list_projects(org, limit=2)
    rest = await store.list_projects(org, limit=2, offset=2)
    assert ([p.name for p in first.items], first.has_more) == (["A", "B"], True)
    assert ([p.name for p in rest.items], rest.has_more) == (["C"], False)


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("name", lambda s, org: s.create_project(org, name="", description="", author=AUTHOR)),
        ("name", lambda s, org: s.create_project(org, name=" \t ", description="", author=AUTHOR)),
        ("name", lambda s, org: s.create_project(org, name="x" * 201, description="", author=AUTHOR)),
        ("name", lambda s, org: s.create_project(org, name="two\nlines", description="", author=AUTHOR)),
        (
            "description",
            lambda s, org: s.create_project(org, name="n", description="x" * 10_001, author=AUTHOR),
        ),
        ("author", lambda s, org: s.create_project(org, name="n", description="", author=" ")),
        ("org_id", lambda s, org: s.list_projects("")),
        ("org_id", lambda s, org: s.list_projects("org with spaces")),
        ("limit", lambda s, org: s.list_projects(org, limit=0)),
        ("limit", lambda s, org: s.list_projects(org, limit=201)),
        ("offset", lambda s, org: s.list_projects(org, offset=-1)),
        ("project_id", lambda s, org: s.list_documents(org, "doc_" + "0" * 32)),
        ("project_id", lambda s, org: s.list_documents(org, "prj_" + "G" * 32)),
        ("document_id", lambda s, org: s.create_requirement(org, "nope", title="t", text="x", author=AUTHOR)),
        (
            "text",
            lambda s, org: s.create_requirement(org, UNKNOWN["document"], title="t", text="", author=AUTHOR),
        ),
        (
            "status",
            lambda s, org: s.create_requirement(
                org, UNKNOWN["document"], title="t", text="x", status="done", author=AUTHOR
            ),
        ),
        (
            "priority",
            lambda s, org: s.create_requirement(
                org, UNKNOWN["document"], title="t", text="x", priority="urgent", author=AUTHOR
            ),
        ),
        ("status", lambda s, org: s.list_requirements(org, status="open")),
        ("query", lambda s, org: s.list_requirements(org, query="q" * 201)),
        (
            "changes",
            lambda s, org: s.update_requirement(
                org, UNKNOWN["requirement"], RequirementChanges(), author="a"
            ),
        ),
        (
            "title",
            lambda s, org: s.update_requirement(
                org, UNKNOWN["requirement"], RequirementChanges(title=""), author="a"
            ),
        ),
    ],
    ids=[
        "empty name",
        "blank name",
        "name over 200 characters",
        "name with a line break",
        "description over 10000 characters",
        "blank author",
        "empty org id",
        "org id with spaces",
        "limit 0",
        "limit 201",
        "negative offset",
        "document id as project id",
        "project id with upper-case digits",
        "malformed document id",
        "empty requirement text",
        "unknown status",
        "unknown priority",
        "unknown status filter",
        "query over 200 characters",
        "update without changes",
        "update to an empty title",
    ],
)
async def test_invalid_input_is_refused_naming_the_argument(
    store: AtomsStore, org: str, field: str, call: Callable[[AtomsStore, str], Awaitable[Any]]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await call(store, org)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


async def test_unknown_status_error_lists_the_allowed_values(store: AtomsStore, org: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await store.list_requirements(org, status="done")
    assert str(raised.value) == (
        "status: must be one of draft, in_review, approved, implemented, verified, rejected (got 'done')"
    )


async def test_status_and_priority_are_read_case_insensitively(store: AtomsStore, org: str) -> None:
    _, document_id, _ = await _tree(store, org)
    requirement = await store.create_requirement(
        org, document_id, title="t", text="x", status=" Approved", priority="CRITICAL", author=AUTHOR
    )
    assert (requirement.status, requirement.priority) == (
        RequirementStatus.APPROVED,
        RequirementPriority.CRITICAL,
    )
