"""Tracing off and on: the auth service and the agent under the same load, side by side.

Each phase starts its own auth service, Atoms MCP and agent: "off" with no OTEL_* variable
(the default), "on" with tracing at a 100% sampler (`OTEL_TRACES_SAMPLER=always_on`), each
process exporting over OTLP/gRPC to a local receiver. The receiver runs in a process of its
own and only counts spans (`trace_receiver.receiver_process`). One phase's services run at
a time, so the spans that arrive during a phase are that phase's: an "off" phase must get
none. Rounds alternate the order (off then on, on then off), so a drift of the machine over
the section weighs on both sides alike.

The workloads, each as in the section it comes from:
- ValidateToken with one warm JWT, closed loop at the plan's concurrency (the closed-loop
  row "auth, warm JWT");
- CallTool(atoms, whoami) through the agent with one user token, closed loop at the users
  section's concurrency;
- the same call one at a time for the same window (the agent section's latency).

"services CPU us/call" is the user + system CPU of the processes a call goes through (the
auth service; or the agent, the Atoms MCP and the auth service) from the start of the run,
warm-up included, until its last span has arrived, divided by every call sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import grpc

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_devtools.demo.child_process import ServiceProcess
from atoms_devtools.loadgen.bench import agent_bench
from atoms_devtools.loadgen.bench.bench_plan import AGENT_METHOD, BenchPlan, BenchReport, measure
from atoms_devtools.loadgen.bench.bench_stack import AuthHandle, BenchStack, ServerHandle
from atoms_devtools.loadgen.bench.token_pools import mint_tokens
from atoms_devtools.loadgen.bench.tracing_report import (
    AGENT_ONE,
    AUTH_WARM,
    SAMPLER,
    WORKLOADS,
    RunFigures,
    TracingRuns,
    report_tracing,
)
from atoms_devtools.loadgen.bench.users_bench import WHOAMI
from atoms_devtools.loadgen.bench.validate_token_bench import base_spec
from atoms_devtools.loadgen.load_spec import LoadSpec
from atoms_devtools.loadgen.process_usage import cpu_seconds
from atoms_devtools.trace_receiver.receiver_process import ReceiverProcess

_ORDER = (("off", "on"), ("on", "off"))


@dataclass(frozen=True, slots=True)
class PhaseServices:
    """One phase's auth service, Atoms MCP and agent: tracing off in all three, or on in all three."""

    mode: str
    auth: AuthHandle
    mcp: ServiceProcess
    agent: ServerHandle

    def pids(self, workload: str) -> list[int]:
        """The processes a call of `workload` goes through."""
        auth_pid = self.auth.process.process.pid
        if workload == AUTH_WARM:
            return [auth_pid]
        return [self.agent.process.process.pid, self.mcp.process.pid, auth_pid]


async def run_tracing(report: BenchReport, plan: BenchPlan, *, stack: BenchStack) -> None:
    """Run every round's off and on phases; add the side-by-side section and the targets."""
    print(f"tracing off and on ({SAMPLER}), {plan.tracing_rounds} round(s)", flush=True)
    token = mint_tokens(stack.keys_file, issuer=stack.issuer, count=1, tag="tracing")[0]
    receiver = ReceiverProcess()
    await receiver.start()
    runs = TracingRuns()
    try:
        for index in range(plan.tracing_rounds):
            for mode in _ORDER[index % 2]:
                await _phase(
                    report,
                    plan,
                    stack=stack,
                    receiver=receiver,
                    mode=mode,
                    index=index,
                    token=token,
                    runs=runs,
                )
        receiver_cpu_s = cpu_seconds(receiver.pid)
    finally:
        await receiver.stop()
    report_tracing(report, plan, runs, receiver_cpu_s)


async def _phase(
    report: BenchReport,
    plan: BenchPlan,
    *,
    stack: BenchStack,
    receiver: ReceiverProcess,
    mode: str,
    index: int,
    token: str,
    runs: TracingRuns,
) -> None:
    env = (
        receiver.exporter_environment(batch_delay_ms=plan.tracing_batch_delay_ms, sampler=SAMPLER)
        if mode == "on"
        else {}
    )
    quiet_s = _quiet_s(plan)
    at_start = await receiver.span_counts()
    services = await _start_services(stack, mode=mode, name=f"tracing-{mode}-{index + 1}", env=env)
    try:
        for workload in WORKLOADS:
            pids = services.pids(workload)
            spans_before, cpu_before = await receiver.span_counts(), _cpu_seconds(pids)
            figures = await _drive(report, plan, workload, services, token, label=f"{mode} {index + 1}")
            spans_after = await receiver.wait_until_quiet(quiet_s=quiet_s)
            cpu_s = _cpu_seconds(pids) - cpu_before
            runs.add(workload, mode, replace(figures, cpu_s=cpu_s, spans=_delta(spans_before, spans_after)))
    finally:
        for process in (services.agent.process, services.mcp, services.auth.process):
            await stack.stop(process)
    at_end = await receiver.wait_until_quiet(quiet_s=quiet_s)
    runs.phases.append({"mode": mode, "round": index + 1, "spans": _delta(at_start, at_end)})
    print(f"  phase {mode} {index + 1}: spans received {_delta(at_start, at_end) or 'none'}", flush=True)


async def _start_services(stack: BenchStack, *, mode: str, name: str, env: dict[str, str]) -> PhaseServices:
    auth = await stack.start_auth(f"auth-{name}", env=env)
    mcp_url, mcp = await stack.start_mcp_server(auth, name=f"atoms-mcp-{name}", env=env)
    agent = await stack.start_agent_server(auth, mcp_url, name=f"agent-{name}", env=env)
    return PhaseServices(mode=mode, auth=auth, mcp=mcp, agent=agent)


async def _drive(
    report: BenchReport, plan: BenchPlan, workload: str, services: PhaseServices, token: str, *, label: str
) -> RunFigures:
    """Send the workload's calls; return its figures without CPU or spans."""
    if workload == AGENT_ONE:
        return await _one_at_a_time(plan, services.agent.address, token)
    if workload == AUTH_WARM:
        spec = replace(
            base_spec(plan, services.auth.address, "", server_pid=services.auth.process.process.pid),
            token=token,
        )
    else:
        spec = LoadSpec(
            target=services.agent.address,
            method=AGENT_METHOD,
            request_json=WHOAMI,
            token=token,
            token_metadata="authorization",  # noqa: S106 - a metadata key
            concurrency=plan.users_concurrency,
            warmup_s=plan.warmup_s,
            duration_s=plan.duration_s,
            timeout_s=30.0,
            server_pid=services.agent.process.process.pid,
        )
    result = await measure(report, replace(spec, name=f"tracing {label}: {workload}"))
    return RunFigures(
        calls_sent=result.calls + result.warmup_calls,
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        errors=result.errors,
    )


async def _one_at_a_time(plan: BenchPlan, address: str, token: str) -> RunFigures:
    """Warm-up calls, then one call after another for the plan's window (as long as the loaded runs)."""
    request = agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami")
    metadata = (("authorization", f"Bearer {token}"),)
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = agent_pb2_grpc.AgentServiceStub(channel)
        for _ in range(agent_bench.WARMUP_CALLS):
            await stub.CallTool(request, metadata=metadata, timeout=10)
        window_end = time.perf_counter() + plan.duration_s
        while (started := time.perf_counter()) < window_end:
            await stub.CallTool(request, metadata=metadata, timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
    summary = agent_bench.summarize_latencies(latencies)
    print(f"  one at a time: {len(latencies)} calls, p50 {summary['p50']:.2f} ms", flush=True)
    return RunFigures(
        calls_sent=len(latencies) + agent_bench.WARMUP_CALLS,
        rps=len(latencies) / plan.duration_s,
        p50_ms=summary["p50"],
        p99_ms=summary["p99"],
        errors=0,  # a failed call raises and ends the bench
    )


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        name: count - before.get(name, 0) for name, count in after.items() if count != before.get(name, 0)
    }


def _cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def _quiet_s(plan: BenchPlan) -> float:
    """How long no span must arrive before a run's spans count as all sent (3 batch delays)."""
    return 3 * plan.tracing_batch_delay_ms / 1000
