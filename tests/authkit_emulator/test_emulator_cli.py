"""`atoms dev ...`: tokens and rotations from the key file, seen by a running emulator."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import jwt
import pytest

from atoms_devtools.authkit_emulator.__main__ import main as emulator_main

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_dev(capsys, *argv):
    """Run an `atoms dev` command in-process; return (exit code, stdout, stderr)."""
    code = emulator_main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_atoms_program_has_the_dev_commands():
    from atoms_cli import build_parser

    options = build_parser().parse_args(["dev", "internal-token"])

    assert callable(options.handler)


async def test_dev_token_cli_prints_a_verifiable_token(capsys, http, emulator, key_file, fetch_jwks, verify):
    code, out, _ = run_dev(
        capsys,
        "token",
        "--sub",
        "user_1",
        "--org",
        "org_1",
        "--issuer",
        emulator,
        "--keys-file",
        str(key_file),
    )

    claims = verify(out.strip(), await fetch_jwks(http), issuer=emulator)
    assert code == 0
    assert (claims["sub"], claims["org_id"]) == ("user_1", "org_1")


def test_dev_token_cli_prints_only_the_token(capsys, store, key_file):
    _, out, _ = run_dev(capsys, "token", "--sub", "user_1", "--keys-file", str(key_file))

    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", out)


def test_dev_token_cli_splits_comma_separated_lists(capsys, store, key_file):
    _, out, _ = run_dev(
        capsys,
        "token",
        "--sub",
        "user_1",
        "--permissions",
        "posts:read, posts:write",
        "--scopes",
        "openid,atoms:mcp",
        "--keys-file",
        str(key_file),
    )

    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert claims["permissions"] == ["posts:read", "posts:write"]
    assert claims["scope"] == "openid atoms:mcp"


def test_dev_token_cli_defaults_the_issuer_to_the_default_emulator_address(capsys, store, key_file):
    _, out, _ = run_dev(capsys, "token", "--sub", "user_1", "--keys-file", str(key_file))

    assert jwt.decode(out.strip(), options={"verify_signature": False})["iss"] == "http://127.0.0.1:8100"


def test_dev_token_cli_refuses_an_out_of_range_ttl_with_usage_exit_code(capsys, store, key_file):
    code, out, err = run_dev(capsys, "token", "--sub", "user_1", "--ttl", "0", "--keys-file", str(key_file))

    assert (code, out) == (2, "")
    assert "ttl_s" in err


async def test_dev_rotate_cli_prints_the_new_kid_which_a_running_emulator_publishes(capsys, http, key_file):
    code, out, _ = run_dev(capsys, "rotate", "--keys-file", str(key_file))

    published = [key["kid"] for key in (await http.get("/oauth2/jwks")).json()["keys"]]
    assert code == 0
    assert out.strip() in published
    assert len(published) == 2


def test_dev_rotate_cli_refuses_a_negative_grace(capsys, key_file):
    code, _, err = run_dev(capsys, "rotate", "--grace", "-1", "--keys-file", str(key_file))

    assert code == 2
    assert "grace_s" in err


def test_internal_token_cli_prints_a_fresh_random_token(capsys):
    _, first, _ = run_dev(capsys, "internal-token")
    _, second, _ = run_dev(capsys, "internal-token")

    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}\n", first)
    assert first != second


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
async def test_dev_authkit_serves_on_the_announced_address_until_signalled_then_exits_0(
    tmp_path, stop_signal
):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_devtools.authkit_emulator",
        "authkit",
        "--port",
        "0",
        "--keys-file",
        str(tmp_path / "keys.json"),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        announcement = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        base_url = re.search(r"listening on (\S+);", announcement).group(1)
        async with httpx.AsyncClient(timeout=5.0) as client:
            health = await client.get(f"{base_url}/health")
    finally:
        process.send_signal(stop_signal)
        code = await asyncio.wait_for(process.wait(), timeout=30)

    assert health.json() == {"status": "ok"}
    assert f"AUTHKIT_DOMAIN={base_url} " in announcement
    assert f"WORKOS_API_BASE_URL={base_url}/ " in announcement
    assert code == 0
