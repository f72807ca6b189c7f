"""A throw-away PostgreSQL server for the tests that need one, started from the machine's own binaries.

`ATOMS_TEST_POSTGRES_URL` wins when set. Otherwise, when `initdb` and `pg_ctl` are on the
PATH (the project's machines carry PostgreSQL 15), a cluster is created in a temporary
folder, listening on a free loopback port with trust authentication, and removed afterwards.
PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_USER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server can be had here; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailableError("running as root without `runuser` to start PostgreSQL as postgres")
    return [runuser, "-u", SERVER_USER, "--", *command]


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield a `postgresql+asyncpg://` URL of a fresh server; stop and delete it afterwards.

    Raises:
        PostgresUnavailableError: the binaries or the server user are missing, or it did not start.
    """
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailableError("initdb/pg_ctl are not on the PATH")
    root = Path(tempfile.mkdtemp(prefix="atoms-pg-"))
    data = root / "data"
    try:
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError as err:
                raise PostgresUnavailableError(f"no {SERVER_USER} user to run PostgreSQL as") from err
            os.chown(root, user.pw_uid, user.pw_gid)
        port = _free_port()
        _run(
            _as_server_user(
                [initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]
            )
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        _run(
            _as_server_user(
                [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"]
            )
        )
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise PostgresUnavailableError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-300:]}")
