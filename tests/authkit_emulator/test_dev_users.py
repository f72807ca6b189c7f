"""Dev users and organizations: the documented defaults, `atoms dev user add|list`, a live emulator."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from atoms_devtools.authkit_emulator import DevDirectory, DirectoryFileError
from atoms_devtools.authkit_emulator.__main__ import main as emulator_main
from tests.support.local_authkit import LocalAuthKit

DEFAULT_USERS = {
    "ada@acme.test": [("org_acme", "admin")],
    "grace@acme.test": [("org_acme", "member")],
    "hedy@globex.test": [("org_globex", "admin")],
    "margaret@acme.test": [("org_acme", "member"), ("org_globex", "admin")],
}


def run_dev(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = emulator_main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_fresh_users_file_holds_the_documented_users_in_two_organizations(tmp_path: Path) -> None:
    directory = DevDirectory(path=tmp_path / "users.json")

    memberships = {u.email: [(m.organization_id, m.role) for m in u.memberships] for u in directory.users()}
    assert memberships == DEFAULT_USERS
    assert {org.id for org in directory.organizations()} == {"org_acme", "org_globex"}
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600


def test_user_add_prints_the_new_users_id_and_list_shows_the_membership(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    users_file = str(tmp_path / "users.json")

    code, out, _ = run_dev(
        capsys,
        "user",
        "add",
        "Turing@Bletchley.test",
        "--org",
        "org_bletchley",
        "--org-name",
        "Bletchley Park",
        "--role",
        "admin",
        "--permissions",
        "projects:write, documents:write",
        "--users-file",
        users_file,
    )
    _, listing, _ = run_dev(capsys, "user", "list", "--users-file", users_file)

    assert code == 0
    assert out.strip().startswith("user_")
    line = next(line for line in listing.splitlines() if line.startswith("turing@bletchley.test"))
    assert out.strip() in line
    assert "org_bletchley (Bletchley Park)" in line
    assert "admin" in line
    assert "projects:write,documents:write" in line


def test_user_add_for_an_existing_user_adds_a_membership(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    users_file = tmp_path / "users.json"

    code, out, _ = run_dev(
        capsys, "user", "add", "grace@acme.test", "--org", "org_globex", "--users-file", str(users_file)
    )

    grace = DevDirectory(path=users_file).user_by_email("grace@acme.test")
    assert (code, out.strip()) == (0, "user_grace")
    assert grace is not None
    assert [m.organization_id for m in grace.memberships] == ["org_acme", "org_globex"]


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["not-an-email", "--org", "org_acme"], "email"),
        (["x@acme.test", "--org", "org acme"], "organization id"),
        (["x@acme.test", "--org", "org_acme", "--role", "Admin!"], "role"),
        (["x@acme.test", "--org", "org_acme", "--permissions", "write all"], "permission"),
    ],
    ids=["bad email", "bad organization id", "bad role", "bad permission"],
)
def test_user_add_refuses_malformed_values_in_one_line_with_the_usage_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arguments: list[str], complaint: str
) -> None:
    code, out, err = run_dev(capsys, "user", "add", *arguments, "--users-file", str(tmp_path / "users.json"))

    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert complaint in err


def test_a_malformed_users_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    users_file = tmp_path / "users.json"
    users_file.write_text(json.dumps({"version": 1, "organizations": [], "users": [{"id": "x"}]}))

    with pytest.raises(DirectoryFileError, match=r"users\.json"):
        DevDirectory(path=users_file)


async def test_a_user_added_while_the_emulator_runs_can_sign_in_at_once(
    capsys: pytest.CaptureFixture[str], authkit: LocalAuthKit
) -> None:
    assert authkit.directory.path is not None
    code, user_id, _ = run_dev(
        capsys,
        "user",
        "add",
        "katherine@acme.test",
        "--org",
        "org_acme",
        "--permissions",
        "requirements:write",
        "--users-file",
        str(authkit.directory.path),
    )

    signed_in = await authkit.sign_in("katherine@acme.test")
    body = (await authkit.exchange(signed_in)).json()

    assert code == 0
    assert body["user"]["id"] == user_id.strip()
    assert body["organization_id"] == "org_acme"


async def test_a_users_file_broken_while_the_emulator_runs_keeps_the_last_good_users(
    authkit: LocalAuthKit,
) -> None:
    assert authkit.directory.path is not None
    authkit.directory.path.write_text("{ broken")

    signed_in = await authkit.sign_in("ada@acme.test")

    assert signed_in.redirect.code


def test_user_list_without_a_users_file_shows_the_defaults_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_dev(capsys, "user", "list", "--users-file", str(tmp_path / "users.json"))

    assert code == 0
    assert "ada@acme.test" in out
    assert "not created yet" in err
    assert not (tmp_path / "users.json").exists()
