"""`escala simulate PROFILE`: how a case would follow a load profile, before paying for it."""

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from escala.cli.naming import STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, table
from escala.errors import UsageError
from escala.state import open_store

if TYPE_CHECKING:
    from escala.ops.simulate import Simulation


def simulate_command(
    profile: Path = typer.Argument(..., help="A LoadProfile YAML (see docs/scaling.md)."),
    case: str = typer.Option(
        "ec2",
        "--case",
        help="ec2, fargate, kubernetes, chatservice/NAME or cluster/NAME (a stored spec).",
    ),
    compare: str | None = typer.Option(
        None,
        "--compare",
        help="Several cases on one chart instead: e.g. ec2,fargate@60,kubernetes "
        "(@ sets a case's CPU target).",
    ),
    target: float | None = typer.Option(
        None, "--target", help="CPU target, percent (1-100); overrides the case's."
    ),
    min_size: int | None = typer.Option(None, "--min", help="Fewest replicas."),
    max_size: int | None = typer.Option(None, "--max", help="Most replicas."),
    model: Path | None = typer.Option(
        None, "--model", help="A capacity model from `escala load --calibrate` (default: shipped)."
    ),
    seed: int = typer.Option(0, "--seed", help="Same seed, same run."),
    png: Path | None = typer.Option(None, "--png", help="Draw the run(s) to this PNG."),
    chart: bool = typer.Option(False, "--chart", help="Also draw replicas in the terminal."),
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Simulate the scaling of a case over a load profile: capacity, minutes over the
    latency target, minutes over-provisioned, cost."""
    from escala.ops.simulate import SimulateOptions, run_simulation

    if png is not None and not png.parent.is_dir():
        raise UsageError(f"--png {png}: the folder {png.parent} does not exist")
    entries = tuple(e for e in (compare or case).split(",") if e.strip())
    if not entries:
        raise UsageError("--compare: give cases separated by commas, e.g. ec2,fargate")
    options = SimulateOptions(profile, entries, model, target, min_size, max_size, seed)
    done = run_simulation(options, lambda: open_store(state))
    if png is not None:
        from escala.simulation.charts import draw_png

        draw_png(done.runs, png, f"escala simulate: {done.profile.name}")
    emit(as_dict(done), output, lambda: _table(done))
    if output is OutputFormat.table:
        if chart:
            from escala.simulation.charts import terminal_chart

            text = terminal_chart(done.runs, color=console.is_terminal)
            console.out(text, highlight=False)
        if png is not None:
            console.print(f"chart written to {png}")


def as_dict(done: "Simulation") -> dict[str, object]:
    from escala.simulation.cost import prices

    p = prices()
    measured = done.model.measured
    return {
        "profile": done.profile.name,
        "model": {
            "measured": measured.date,
            "machine": measured.machine.cpu,
            "server": measured.server,
            "latencyTargetMs": done.model.latency.target_ms,
            "kneeFrom": done.model.latency.knee_from,
        },
        "prices": {"date": p.date, "region": p.region, "currency": "USD"},
        "runs": [{"case": asdict(r.case), "summary": asdict(r.summary)} for r in done.runs],
    }


def _table(done: "Simulation") -> object:
    from escala.simulation.cost import prices

    rows = []
    for r in done.runs:
        s = r.summary
        rows.append(
            (
                s.label,
                f"{s.cpu_target:g}%",
                s.peak_replicas,
                s.peak_nodes or "-",
                f"{s.minutes_over_target:.1f}",
                f"{s.longest_over_target_min:.1f}",
                f"{s.minutes_over_provisioned:.1f}",
                f"${s.cost_per_hour:.3f}",
                f"${s.total_cost:.2f}",
            )
        )
    p, latency = prices(), done.model.latency
    title = (
        f"{done.profile.name}: latency target p99 {latency.target_ms:g} ms; "
        f"prices {p.region} on-demand, {p.date}"
    )
    columns = ["CASE", "TARGET", "PEAK REPLICAS", "PEAK NODES", "MIN OVER TARGET"]
    columns += ["LONGEST (MIN)", "MIN OVER-PROVISIONED", "COST/HOUR", "TOTAL"]
    return table(columns, rows, title=title)
