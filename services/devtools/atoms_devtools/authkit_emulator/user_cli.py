"""`atoms dev user add|list`: the emulator's dev users, in the users file a running emulator re-reads.

    atoms dev user add EMAIL --org ORG [--role R] [--permissions a,b] [--org-name NAME]
    atoms dev user list

`add` creates the user (or gives an existing one a membership in ORG, replacing the one it
had there) and the organization if it is new; it prints the user id.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from atoms_devtools.authkit_emulator.cli_options import (
    EXIT_USAGE,
    add_file_options,
    comma_list,
    fail,
    files_from,
)
from atoms_devtools.authkit_emulator.emulator_files import EmulatorFilesNotFoundError

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_user_commands(commands: SubParsers) -> None:
    """Add `user add` and `user list` to a sub-command collection (the `dev` command group)."""
    user = commands.add_parser("user", help="add or list the emulator's dev users")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="USER_COMMAND")
    add = actions.add_parser("add", help="add a dev user (or a membership) and print the user id")
    add.add_argument("email", help="the email the user signs in with")
    add.add_argument("--org", required=True, help="the organization id, e.g. org_acme (created if new)")
    add.add_argument("--org-name", help="the name of a new organization (default: its id)")
    add.add_argument("--role", default="member", help="the role in that organization (default %(default)s)")
    add.add_argument("--permissions", type=comma_list, default=(), help="comma-separated permissions")
    add_file_options(add, users=True)
    add.set_defaults(handler=add_user)
    listing = actions.add_parser("list", help="list the dev users and their organizations")
    add_file_options(listing, users=True)
    listing.set_defaults(handler=list_users)


def add_user(options: argparse.Namespace) -> int:
    """Add the user or membership; print the user id; return the exit code."""
    # Loaded when the command runs, not for `atoms --help`.
    from atoms_devtools.authkit_emulator.dev_users import DevUserError
    from atoms_devtools.authkit_emulator.directory import DevDirectory, DirectoryFileError

    try:
        directory = DevDirectory(path=files_from(options).users_file)
        user = directory.add_member(
            options.email,
            organization_id=options.org,
            role=options.role,
            permissions=options.permissions,
            organization_name=options.org_name,
        )
    except DevUserError as err:
        return fail(str(err), code=EXIT_USAGE)
    except (EmulatorFilesNotFoundError, DirectoryFileError) as err:
        return fail(str(err))
    print(user.id)
    return 0


def list_users(options: argparse.Namespace) -> int:
    """Print one line per membership: email, user id, organization, role, permissions."""
    # Loaded when the command runs, not for `atoms --help`.
    from atoms_devtools.authkit_emulator.directory import DevDirectory, DirectoryFileError

    try:
        users_file = files_from(options).users_file
        # Listing creates nothing: without a file, show the defaults the emulator would create.
        directory = DevDirectory(path=users_file if users_file.exists() else None)
    except (EmulatorFilesNotFoundError, DirectoryFileError) as err:
        return fail(str(err))
    names = {org.id: org.name for org in directory.organizations()}
    print(f"{'EMAIL':<28} {'USER ID':<32} {'ORGANIZATION':<28} {'ROLE':<10} PERMISSIONS")
    for user in directory.users():
        for membership in user.memberships or ():
            organization = f"{membership.organization_id} ({names.get(membership.organization_id, '?')})"
            print(
                f"{user.email:<28} {user.id:<32} {organization:<28} {membership.role:<10} "
                f"{','.join(membership.permissions) or '-'}"
            )
        if not user.memberships:
            print(f"{user.email:<28} {user.id:<32} {'-':<28} {'-':<10} -")
    where = users_file if directory.path else f"{users_file}, not created yet: the defaults"
    print(f"({where})", file=sys.stderr)
    return 0
