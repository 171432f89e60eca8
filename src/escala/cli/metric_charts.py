"""Charts of CloudWatch series: in the terminal (plotext) and as a PNG (matplotlib).

Only series with datapoints are drawn: an empty one is reported in words by the caller,
never drawn as a flat line that would look like data.
"""

from pathlib import Path

from escala.ops.metrics import Chart

COUNTS = ("instances", "tasks")


def terminal_chart(chart: Chart, width: int, colour: bool) -> str:
    """One line chart, `width` columns wide; x is minutes since its first datapoint (plotext
    6 draws numbers, not times)."""
    import plotext

    times = chart.series.timestamps
    minutes = [(t - times[0]).total_seconds() / 60 for t in times]
    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, 14)
    figure.theme("clear")
    figure.draw(figure.signal(minutes, chart.series.values).lines())
    figure.label(f"minutes since {times[0]:%H:%M} UTC", axis="x")
    figure.title(f"{chart.key}: {chart.title} ({chart.unit})")
    return str(figure.build().string(colorless=not colour))


def draw_png(charts: list[Chart], path: Path, title: str) -> None:
    """One panel per series, sharing the time axis, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # constrained, not tight_layout: with many panels the latter lets the figure's title
    # run into the first panel's
    fig, axes = plt.subplots(len(charts), 1, sharex=True, figsize=(9, 2.2 * len(charts) + 0.8),
                             squeeze=False, layout="constrained")  # fmt: skip
    for axis, chart in zip(axes[:, 0], charts, strict=True):
        # counts of instances or tasks hold until the next datapoint: drawn as steps
        counts = chart.unit in COUNTS
        axis.plot(chart.series.timestamps, chart.series.values, marker=".", linewidth=1.2,
                  drawstyle="steps-post" if counts else "default")  # fmt: skip
        if counts:
            # half an instance of room either side: a count that never changed (a master's
            # group) gets the integer ticks too, not matplotlib's 0.945 .. 1.050
            values = chart.series.values
            axis.set_ylim(min(values) - 0.5, max(values) + 0.5)
            axis.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        axis.set_ylabel(chart.unit)
        axis.set_title(f"{chart.key}: {chart.title}", fontsize=10, loc="left")
        axis.grid(alpha=0.3)
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes[-1, 0].set_xlabel("time (UTC)")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
