"""Token pools for the bench: AuthKit-shaped tokens minted from the emulator's key file into files.

An RS256 signature costs about 0.25 ms of CPU, so large pools (tens or hundreds of thousands
of distinct tokens, each used once) are minted by worker processes that load the key once.
Pool files hold one token a line, optionally prefixed by the status the call should get.
"""

from __future__ import annotations

import multiprocessing
import secrets
from pathlib import Path

import jwt

from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token

TOKEN_TTL_S = 3600
_IN_PROCESS_LIMIT = 2000


def mint_pool(
    keys_file: Path, *, issuer: str, count: int, path: Path, processes: int = 2, tag: str = "pool"
) -> Path:
    """Write `count` distinct valid tokens (distinct `sub`, `sid`, `jti`) to `path`; return it.

    The file appears whole (written aside, then renamed), like every pool file of the bench.
    """
    partial = path.with_suffix(".writing")
    if count <= _IN_PROCESS_LIMIT or processes <= 1:
        _mint_range(keys_file, issuer, tag, 0, count, partial)
        partial.replace(path)
        return path
    context = multiprocessing.get_context("spawn")
    bounds = [(count * i // processes, count * (i + 1) // processes) for i in range(processes)]
    parts = [path.with_suffix(f".part{i}") for i in range(processes)]
    with context.Pool(processes) as pool:
        pool.starmap(
            _mint_range,
            [(keys_file, issuer, tag, lo, hi, part) for (lo, hi), part in zip(bounds, parts, strict=True)],
        )
    with partial.open("wb") as joined:
        for part in parts:
            joined.write(part.read_bytes())
            part.unlink()
    partial.replace(path)
    return path


def mint_tokens(keys_file: Path, *, issuer: str, count: int, tag: str) -> list[str]:
    """Mint a few tokens in this process."""
    store = EmulatorKeyStore(path=keys_file)
    return [_mint_one(store, issuer, tag, index) for index in range(count)]


def mint_unknown_kid_tokens(keys_file: Path, *, issuer: str, count: int) -> list[str]:
    """Tokens signed by the issuer's key but naming a random `kid` the issuer never published."""
    store = EmulatorKeyStore(path=keys_file)
    private_key = store.signing_key().private_key
    now = int(store.now())
    tokens = []
    for index in range(count):
        claims = {"iss": issuer, "sub": f"user_kid_{index}", "iat": now, "exp": now + TOKEN_TTL_S}
        kid = f"kid_{secrets.token_hex(8)}"
        tokens.append(jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"}))
    return tokens


def write_pool(path: Path, lines: list[str]) -> Path:
    """Write lines (`TOKEN` or `CODE TOKEN`) to a pool file, atomically.

    A load run may be waiting for this file to switch pools mid-window (the rotation bench):
    it must never see it half written, so it is written aside and renamed into place.
    """
    partial = path.with_suffix(".writing")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def interleave(valid: list[str], invalid: list[str], *, total: int, spread_over: int) -> list[str]:
    """`total` lines of valid tokens (cycled, expecting OK), with the invalid ones (expecting
    UNAUTHENTICATED) spread evenly over the first `spread_over` lines."""
    step = max(1, spread_over // max(1, len(invalid)))
    lines: list[str] = []
    bad = iter(invalid)
    for index in range(total):
        token = next(bad, None) if index % step == step // 2 else None
        lines.append(f"UNAUTHENTICATED {token}" if token else f"OK {valid[index % len(valid)]}")
    return lines


def _mint_range(keys_file: Path, issuer: str, tag: str, start: int, stop: int, path: Path) -> None:
    store = EmulatorKeyStore(path=keys_file)
    with path.open("w", encoding="utf-8") as out:
        for index in range(start, stop):
            out.write(_mint_one(store, issuer, tag, index) + "\n")


def _mint_one(store: EmulatorKeyStore, issuer: str, tag: str, index: int) -> str:
    return mint_token(
        store,
        issuer=issuer,
        subject=f"user_{tag}_{index:07d}",
        org_id=f"org_bench_{index % 97}",
        permissions=("projects:read",),
        ttl_s=TOKEN_TTL_S,
    )
