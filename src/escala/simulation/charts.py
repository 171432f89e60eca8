"""Pictures of simulated runs: a PNG (matplotlib) with the load, the CPU demand against
the capacity, and the replicas and nodes over time, minutes over the latency target
shaded; a terminal chart (plotext) of the replicas. Several runs share one chart."""

from pathlib import Path

import numpy as np

from escala.simulation.simulator import Run

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def draw_png(runs: list[Run], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (load_ax, cpu_ax, count_ax) = plt.subplots(3, 1, sharex=True, figsize=(10, 9))
    first = runs[0].series
    hours = first.times_s / 3600
    load_ax.plot(hours, first.connections, color="black", label="connections")
    load_ax.set_ylabel("connections")
    rate_ax = load_ax.twinx()
    rate_ax.plot(hours, first.messages_per_s, color="grey", linestyle="--", label="msgs/s")
    rate_ax.set_ylabel("messages/s")
    load_ax.set_title(title)
    load_ax.legend(loc="upper left")
    rate_ax.legend(loc="upper right")
    for run, color in zip(runs, COLORS, strict=False):
        s, label = run.series, run.summary.label
        cpu_ax.plot(hours, s.capacity_cores, color=color, label=f"{label} capacity")
        cpu_ax.plot(hours, s.demand_cores, color=color, linestyle=":", label=f"{label} demand")
        count_ax.step(hours, s.ready, where="post", color=color, label=f"{label} ready replicas")
        if s.nodes.any():
            count_ax.step(
                hours, s.nodes, where="post", color=color, linestyle="--", label=f"{label} nodes"
            )
        for ax in (cpu_ax, count_ax):
            _shade(ax, hours, s.over_target, color)
    cpu_ax.set_ylabel("CPU (cores)")
    cpu_ax.legend(loc="upper left", fontsize="small")
    count_ax.set_ylabel("replicas / nodes")
    count_ax.set_xlabel("hours (shaded: over the latency target)")
    count_ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _shade(ax: object, hours: np.ndarray, over: np.ndarray, color: str) -> None:
    """One translucent band per stretch of ticks over the target."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], over.astype(int), [0]))))
    step = hours[1] - hours[0] if len(hours) > 1 else 0.0
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(hours[start], hours[end - 1] + step, color=color, alpha=0.15, lw=0)  # type: ignore[attr-defined]


def terminal_chart(runs: list[Run], width: int = 100, height: int = 20, color: bool = False) -> str:
    """Ready replicas of each run over time, as text (plotext 6)."""
    import plotext

    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, height)
    figure.theme("clear")
    for run in runs:
        s = run.series
        every = max(1, len(s.times_s) // (2 * width))
        signal = figure.signal(list(s.times_s[::every] / 3600), list(s.ready[::every]))
        figure.draw(signal.lines().label(run.summary.label))
    figure.label("hours", axis="x")
    figure.title("ready replicas")
    return str(figure.build().string(colorless=not color))
