"""The auth service under load while things go wrong: a key rotation, random kids, a restart.

- Rotation: mid-window the emulator rotates its signing key (POST /dev/rotate, the new key
  signs at once) and the load switches to tokens signed by the new key as soon as their
  pool file is written (renamed into place whole; a late file delays the switch, never
  fails a call); the auth service must fetch the new key on the first unknown kid and
  refuse nothing.
- Random kids: 1,000 tokens naming kids the issuer never published, spread over a window
  of valid calls; valid throughput must hold and the issuer must see at most one fetch per
  cooldown (the rest is refused from the negative cache).
- Restart: the agent's CallTool at a fixed rate while the auth service is stopped and
  started again on the same port; failed calls are counted by status.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace

import httpx
import jwt

from atoms_devtools.loadgen.bench.bench_plan import AGENT_METHOD, BenchPlan, BenchReport, measure
from atoms_devtools.loadgen.bench.bench_stack import AuthHandle, BenchStack, metric_sum, scrape_metrics
from atoms_devtools.loadgen.bench.token_pools import (
    interleave,
    mint_pool,
    mint_tokens,
    mint_unknown_kid_tokens,
    write_pool,
)
from atoms_devtools.loadgen.bench.validate_token_bench import base_spec
from atoms_devtools.loadgen.load_result import LoadResult
from atoms_devtools.loadgen.load_spec import LoadSpec, TokenPool

JWKS_COOLDOWN_S = 10.0  # the auth service's default refresh_cooldown_s
_ROTATION_POOL = 200
_SWITCH_MARGIN_S = 0.6


async def run_rotation(report: BenchReport, plan: BenchPlan, *, stack: BenchStack, auth: AuthHandle) -> None:
    """A signing-key rotation at the emulator in the middle of the measured window."""
    print("key rotation at the emulator mid-window", flush=True)
    before = write_pool(
        stack.workdir / "rotation-before.tokens",
        mint_tokens(stack.keys_file, issuer=stack.issuer, count=_ROTATION_POOL, tag="rot-old"),
    )
    after = stack.workdir / "rotation-after.tokens"
    spec = replace(
        base_spec(plan, auth.address, "under load: key rotation", server_pid=auth.process.process.pid),
        tokens=TokenPool(before),
        switch_tokens=TokenPool(after),
        switch_at_s=plan.duration_s / 2,
    )
    fetches_before = await _jwks_fetches(auth)
    started = _start_signal()
    run = asyncio.ensure_future(measure(report, spec, on_start=started.set))
    start = await started.wait()
    await _sleep_until(start + plan.warmup_s + plan.duration_s / 2 - _SWITCH_MARGIN_S)
    rotated_kid = await _rotate_at_emulator(stack)
    new_tokens = await asyncio.to_thread(
        mint_tokens, stack.keys_file, issuer=stack.issuer, count=_ROTATION_POOL, tag="rot-new"
    )
    if jwt.get_unverified_header(new_tokens[0]).get("kid") != rotated_kid:
        raise RuntimeError("tokens minted after the rotation do not carry the new kid")
    write_pool(after, new_tokens)
    result = await run
    fetches = await _jwks_fetches(auth) - fetches_before
    report.facts["rotation"] = {"kid": rotated_kid, "jwks_fetches": fetches}
    report.section(
        "under load: signing-key rotation at the emulator mid-window (then every token carries the new kid)",
        ["calls", "calls/s", "p99 ms", "max ms", "failed calls", "JWKS fetches in the run"],
        [
            [
                f"{result.calls:,}",
                f"{result.rps:,.0f}",
                f"{result.p99_ms:.2f}",
                f"{result.max_ms:.2f}",
                str(result.errors),
                f"{fetches:.0f}",
            ]
        ],
    )
    report.target("key rotation mid-window: zero failed calls", f"{result.errors} failed", result.errors == 0)


async def run_random_kids(
    report: BenchReport, plan: BenchPlan, *, stack: BenchStack, auth: AuthHandle
) -> None:
    """Valid calls alone, then the same with unknown-kid tokens mixed in."""
    print(f"{plan.random_kid_calls} random-kid calls mixed into valid load", flush=True)
    valid = mint_tokens(stack.keys_file, issuer=stack.issuer, count=50, tag="kid-valid")
    baseline_pool = write_pool(stack.workdir / "kid-baseline.tokens", [f"OK {t}" for t in valid])
    spec = base_spec(plan, auth.address, "", server_pid=auth.process.process.pid)
    baseline = await measure(
        report, replace(spec, name="under load: valid only", tokens=TokenPool(baseline_pool))
    )
    unknown = await asyncio.to_thread(
        mint_unknown_kid_tokens, stack.keys_file, issuer=stack.issuer, count=plan.random_kid_calls
    )
    warmup_lines = int(baseline.rps * plan.warmup_s * 1.1)
    window_lines = int(baseline.rps * plan.duration_s)
    lines = [f"OK {valid[i % len(valid)]}" for i in range(warmup_lines)]
    lines += interleave(
        valid, unknown, total=int(window_lines * 1.6) + 1, spread_over=int(window_lines * 0.8)
    )
    mixed_pool = write_pool(stack.workdir / "kid-mixed.tokens", lines)
    fetches_before = await _jwks_fetches(auth)
    mixed = await measure(
        report,
        replace(spec, name="under load: random kids mixed in", tokens=TokenPool(mixed_pool, reuse=False)),
    )
    fetches = await _jwks_fetches(auth) - fetches_before
    sent_unknown = sum(mixed.outcomes.get("UNAUTHENTICATED", {}).values())
    ratio = mixed.ok_rps() / baseline.ok_rps() if baseline.ok_rps() else 0.0
    allowed = math.floor((plan.warmup_s + plan.duration_s) / JWKS_COOLDOWN_S) + 1
    report.facts["random_kids"] = {"sent": sent_unknown, "jwks_fetches": fetches, "allowed": allowed}
    report.section(
        "under load: unknown-kid tokens mixed into valid calls",
        [
            "run",
            "valid calls/s",
            "unknown-kid calls",
            "wrongly answered",
            "p99 ms",
            "JWKS fetches",
            "x valid-only",
        ],
        [
            [
                "valid only",
                f"{baseline.ok_rps():,.0f}",
                "0",
                str(baseline.errors),
                f"{baseline.p99_ms:.2f}",
                "-",
                "1.00",
            ],
            [
                "with unknown kids",
                f"{mixed.ok_rps():,.0f}",
                f"{sent_unknown:,}",
                str(mixed.errors),
                f"{mixed.p99_ms:.2f}",
                f"{fetches:.0f}",
                f"{ratio:.2f}",
            ],
        ],
    )
    report.target("random kids: valid calls keep >= 0.8x their throughput", f"{ratio:.2f}x", ratio >= 0.8)
    report.target(
        "random kids: issuer sees <= 1 fetch per cooldown",
        f"{fetches:.0f} fetch(es) in {plan.warmup_s + plan.duration_s:g} s "
        f"(cooldown {JWKS_COOLDOWN_S:g} s: <= {allowed})",
        fetches <= allowed,
    )


async def run_restart(
    report: BenchReport, plan: BenchPlan, *, stack: BenchStack, auth: AuthHandle, agent_address: str
) -> AuthHandle:
    """The agent's CallTool(whoami), each call a new user token, while the auth service restarts once."""
    print("agent calls while the auth service restarts", flush=True)
    count = int(plan.restart_rate * (1.0 + plan.restart_duration_s) * 1.3) + 10
    pool = await asyncio.to_thread(
        mint_pool,
        stack.keys_file,
        issuer=stack.issuer,
        count=count,
        path=stack.workdir / "restart.tokens",
        processes=1,
        tag="restart",
    )
    spec = LoadSpec(
        target=agent_address,
        method=AGENT_METHOD,
        request_json='{"server_name": "atoms", "tool_name": "whoami"}',
        tokens=TokenPool(pool, reuse=False),
        token_metadata="authorization",  # noqa: S106 - a metadata key
        rate=plan.restart_rate,
        warmup_s=1.0,
        duration_s=plan.restart_duration_s,
        timeout_s=10.0,
        name="under load: agent CallTool during an auth restart",
    )
    started = _start_signal()
    run = asyncio.ensure_future(measure(report, spec, on_start=started.set))
    start = await started.wait()
    await _sleep_until(start + 1.0 + min(2.0, plan.restart_duration_s / 4))
    began = time.monotonic()
    auth = await stack.restart_auth(auth)
    restart_s = time.monotonic() - began
    result = await run
    failed = {code: n for code, n in result.outcomes.get("OK", {}).items() if code != "OK"}
    report.facts["restart"] = {"restart_s": round(restart_s, 2), "failed": failed}
    report.section(
        f"under load: agent CallTool(whoami) at {plan.restart_rate:g}/s, each call a new user token "
        "(no cache can hide the auth service), auth service restarted once",
        [
            "calls",
            "succeeded",
            "failed (by status)",
            "p50 ms",
            "p99 ms",
            "max ms",
            "stop + start + keys took",
        ],
        [
            [
                f"{result.calls:,}",
                f"{result.outcomes.get('OK', {}).get('OK', 0):,}",
                ", ".join(f"{code} {n}" for code, n in failed.items()) or "0",
                f"{result.p50_ms:.1f}",
                f"{result.p99_ms:.1f}",
                f"{result.max_ms:.1f}",
                f"{restart_s:.2f} s",
            ]
        ],
    )
    report.target(
        "agent calls across an auth restart: failed calls printed and explained",
        f"{sum(failed.values())} failed of {result.calls}",
        None,
    )
    return auth


class _StartSignal:
    """Carries the run's start instant from the load thread to the event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[float] = self._loop.create_future()

    def set(self, start: float) -> None:
        self._loop.call_soon_threadsafe(self._future.set_result, start)

    async def wait(self) -> float:
        return await self._future


def _start_signal() -> _StartSignal:
    return _StartSignal()


async def _sleep_until(instant: float) -> None:
    await asyncio.sleep(max(0.0, instant - time.monotonic()))


async def _rotate_at_emulator(stack: BenchStack) -> str:
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.post(f"{stack.issuer}/dev/rotate", json={"publish_lead_s": 0, "grace_s": 600})
        response.raise_for_status()
        return str(response.json()["kid"])


async def _jwks_fetches(auth: AuthHandle) -> float:
    return metric_sum(await scrape_metrics(auth), "atoms_auth_jwks_fetches_total")


def summarise(result: LoadResult) -> str:
    """One line for logs."""
    return result.summary_line()
