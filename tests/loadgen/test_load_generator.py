"""The load generator against a small server: counts, outcomes, token pools, modes. No timing assertions."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from atoms.auth.v1 import auth_pb2
from atoms_devtools.loadgen import LoadSpec, LoadSpecError, TokenPool, run_load
from atoms_devtools.loadgen.bench.token_pools import write_pool
from atoms_devtools.loadgen.call_source import CallEncoder
from atoms_devtools.loadgen.load_spec import normalise_method
from tests.loadgen.conftest import RecordingServer

METHOD = "atoms.auth.v1.AuthService/ValidateToken"


def _spec(server: RecordingServer, **fields: object) -> LoadSpec:
    base = LoadSpec(
        target=server.address,
        method=METHOD,
        token="tok-fixed",
        token_field="token",
        concurrency=4,
        warmup_s=0.2,
        duration_s=0.5,
        name="test",
    )
    return replace(base, **fields)


def _pool(tmp_path: Path, lines: list[str], name: str = "pool.tokens") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _run(spec: LoadSpec):
    return await asyncio.to_thread(run_load, spec)


async def test_closed_loop_run_counts_every_call_in_the_window_as_ok(recording_server) -> None:
    result = await _run(_spec(recording_server))
    assert result.calls > 0
    assert result.outcomes == {"OK": {"OK": result.calls}}
    assert result.errors == 0
    assert set(recording_server.servicer.tokens) == {"tok-fixed"}
    assert len(recording_server.servicer.tokens) >= result.calls  # warm-up calls are sent, not counted


async def test_percentiles_are_ordered_and_the_rate_matches_the_count(recording_server) -> None:
    result = await _run(_spec(recording_server))
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms
    assert result.rps == pytest.approx(result.calls / result.window_s, rel=0.01)


async def test_an_expected_refusal_is_a_success_and_an_unexpected_one_an_error(
    recording_server, tmp_path
) -> None:
    pool = _pool(tmp_path, ["UNAUTHENTICATED bad-1", "bad-2", "OK good-1"])
    result = await _run(_spec(recording_server, token="", tokens=TokenPool(pool), expect="OK"))
    assert result.outcomes["UNAUTHENTICATED"] == {
        "UNAUTHENTICATED": result.outcomes["UNAUTHENTICATED"]["UNAUTHENTICATED"]
    }
    assert result.outcomes["OK"].get("UNAUTHENTICATED", 0) > 0  # bad-2 was expected to pass
    assert result.errors == result.outcomes["OK"]["UNAUTHENTICATED"]


async def test_a_pool_used_once_sends_each_token_exactly_once_and_ends_the_run(
    recording_server, tmp_path
) -> None:
    tokens = [f"once-{i}" for i in range(300)]
    spec = _spec(
        recording_server,
        token="",
        tokens=TokenPool(_pool(tmp_path, tokens), reuse=False),
        warmup_s=0,
        duration_s=0,
    )
    result = await _run(spec)
    assert sorted(recording_server.servicer.tokens) == sorted(tokens)
    assert result.calls == len(tokens)
    assert result.tokens_exhausted


async def test_two_processes_share_a_once_pool_without_sending_a_token_twice(
    recording_server, tmp_path
) -> None:
    tokens = [f"split-{i}" for i in range(200)]
    spec = _spec(
        recording_server,
        token="",
        tokens=TokenPool(_pool(tmp_path, tokens), reuse=False),
        processes=2,
        warmup_s=0,
        duration_s=0,
    )
    result = await _run(spec)
    assert sorted(recording_server.servicer.tokens) == sorted(tokens)
    assert result.processes == 2


async def test_a_token_in_metadata_is_sent_as_a_bearer_authorization_value(recording_server) -> None:
    await _run(_spec(recording_server, token="tok-meta", token_field="", token_metadata="authorization"))
    assert set(recording_server.servicer.authorization) == {"Bearer tok-meta"}
    assert set(recording_server.servicer.tokens) == {""}


async def test_fixed_rate_mode_sends_the_scheduled_number_of_calls(recording_server) -> None:
    result = await _run(_spec(recording_server, rate=200.0, warmup_s=0.1, duration_s=0.5))
    assert result.mode == "rate"
    assert abs(result.calls - 100) <= 2  # 200/s over 0.5 s, scheduled, not measured
    assert result.errors == 0


async def test_the_pool_switches_to_the_second_file_mid_window(recording_server, tmp_path) -> None:
    # The second pool is used once, so the run ends when it runs out, not at a clock instant:
    # however long a loaded machine stalls, calls after the switch happen before the end.
    first = _pool(tmp_path, ["before"], "first.tokens")
    after = [f"after-{i}" for i in range(40)]
    second = _pool(tmp_path, after, "second.tokens")
    spec = _spec(
        recording_server,
        token="",
        tokens=TokenPool(first),
        switch_tokens=TokenPool(second, reuse=False),
        switch_at_s=0.25,
        warmup_s=0.1,
        duration_s=600.0,  # a cap that a run ending on the pool never reaches
    )
    result = await _run(spec)
    seen = recording_server.servicer.tokens
    first_after = next(i for i, token in enumerate(seen) if token != "before")
    assert first_after > 0
    assert sorted(seen[first_after:]) == sorted(after)  # each once, and never back to the first pool
    assert result.tokens_exhausted


async def test_a_switch_pool_written_late_is_used_once_it_appears_and_nothing_fails(
    recording_server, tmp_path
) -> None:
    # The rotation bench writes its second pool during the run; on a loaded machine that can
    # be after the switch instant. The calls must go on with the first pool until it appears.
    first = _pool(tmp_path, ["before"], "first.tokens")
    second = tmp_path / "second.tokens"
    loop = asyncio.get_running_loop()
    started: asyncio.Future[float] = loop.create_future()
    spec = _spec(
        recording_server,
        token="",
        tokens=TokenPool(first),
        switch_tokens=TokenPool(second),
        switch_at_s=0.2,
        warmup_s=0.1,
        duration_s=4.0,
    )
    run = asyncio.ensure_future(
        asyncio.to_thread(
            run_load, spec, on_start=lambda at: loop.call_soon_threadsafe(started.set_result, at)
        )
    )
    switch_at = await started + spec.warmup_s + spec.switch_at_s
    await asyncio.sleep(max(0.0, switch_at - time.monotonic()))  # to the planned instant, not a wait
    sent_by_the_switch = len(recording_server.servicer.tokens)
    more_calls = asyncio.ensure_future(recording_server.servicer.wait_for_calls(sent_by_the_switch + 20))
    await asyncio.wait({run, more_calls}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    more_calls.cancel()
    write_pool(second, ["after"])
    result = await run
    seen = recording_server.servicer.tokens
    assert result.errors == 0
    assert seen[sent_by_the_switch + 19] == "before"  # the missing file did not stop the calls
    assert seen[-1] == "after"


async def test_the_result_is_written_as_json(recording_server, tmp_path) -> None:
    result = await _run(_spec(recording_server, name="json check"))
    document = json.loads(result.write(tmp_path).read_text())
    assert document["name"] == "json check"
    assert {"rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "outcomes"} <= set(document)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param({"concurrency": 1, "processes": 2}, "concurrency", id="fewer callers than processes"),
        pytest.param({"duration_s": 0}, "duration", id="no duration without a pool used once"),
        pytest.param({"token_field": ""}, "token", id="a token with nowhere to go"),
        pytest.param({"expect": "FINE"}, "expect", id="an unknown status name"),
        pytest.param({"method": "ValidateToken"}, "method", id="a method without a service"),
    ],
)
def test_inconsistent_specs_are_refused_before_any_process_starts(fields, problem) -> None:
    spec = replace(LoadSpec(target="127.0.0.1:1", method=METHOD, token="t", token_field="token"), **fields)
    with pytest.raises(LoadSpecError, match=problem):
        spec.check()


@pytest.mark.parametrize(
    "method",
    [
        "atoms.auth.v1.AuthService/ValidateToken",
        "/atoms.auth.v1.AuthService/ValidateToken",
        "atoms.auth.v1.AuthService.ValidateToken",
    ],
    ids=["grpcurl form", "wire form", "ghz symbol form"],
)
def test_every_method_spelling_becomes_the_wire_path(method) -> None:
    assert normalise_method(method) == "/atoms.auth.v1.AuthService/ValidateToken"


def test_a_token_appended_to_the_template_is_the_message_with_the_field_set() -> None:
    spec = LoadSpec(
        target="x:1",
        method=METHOD,
        request_json='{"audience": "https://mcp", "token": "old"}',
        token_field="token",
    )
    planned = CallEncoder(spec).encode("a-token", "OK")
    decoded = auth_pb2.ValidateTokenRequest.FromString(planned.request)
    assert (decoded.token, decoded.audience) == ("a-token", "https://mcp")
