"""render: the bench report as Markdown (machine, sections, targets), for the terminal and the docs."""

from __future__ import annotations

from atoms_devtools.loadgen.bench.bench_plan import BenchReport

_VERDICT = {True: "met", False: "NOT met", None: "reported"}


def render(report: BenchReport) -> str:
    """Return the report as Markdown tables."""
    lines: list[str] = []
    machine = report.facts.get("machine", {})
    if machine:
        start = ", ".join(f"{x:.2f}" for x in machine.get("loadavg_start", ()))
        end = ", ".join(f"{x:.2f}" for x in machine.get("loadavg_end", ()))
        lines += [
            f"Measured {machine.get('date')} on {machine.get('nproc')} cores ({machine.get('cpu')}), "
            f"{machine.get('memory_gib')} GiB, Python {machine.get('python')}, "
            f"commit {machine.get('commit')}; "
            f"load average {start} at the start, {end} at the end; "
            f"{report.facts.get('elapsed_s', '?')} s in all.",
            "",
        ]
    if "ceiling_drift" in report.facts:
        lines += [
            "Ceiling drift between the start and the end of the closed-loop runs: "
            f"{report.facts['ceiling_drift']:.1%}.",
            "",
        ]
    for title, header, rows in report.sections:
        lines += [f"### {title}", "", _row(header), _row(["---"] * len(header))]
        lines += [_row(row) for row in rows]
        lines.append("")
    if report.targets:
        lines += ["### Targets", "", _row(["target", "measured", "verdict"]), _row(["---"] * 3)]
        lines += [_row([text, measured, _VERDICT[met]]) for text, measured, met in report.targets]
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
