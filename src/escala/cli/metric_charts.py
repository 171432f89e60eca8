"""Charts of CloudWatch series: in the terminal (plotext) and as a PNG (matplotlib).

Only series with datapoints are drawn: an empty one is reported in words by the caller,
never drawn as a flat line that would look like data.
"""

from pathlib import Path

from escala.ops.metrics import Chart

COUNTS = ("instances", "tasks")
_PLOTEXT_DATE = "d/m/Y H:M"  # how plotext reads the x values below
_PYTHON_DATE = "%d/%m/%Y %H:%M"


def terminal_chart(chart: Chart, width: int, colour: bool) -> str:
    """One line chart, `width` columns wide, times on the x axis (UTC, HH:MM)."""
    import plotext as plt

    plt.clear_figure()
    plt.date_form(_PLOTEXT_DATE, "H:M")
    times = [t.strftime(_PYTHON_DATE) for t in chart.series.timestamps]
    plt.plot(times, chart.series.values, marker="braille")
    plt.plotsize(width, 12)
    plt.title(f"{chart.key}: {chart.title} ({chart.unit})")
    plt.theme("clear")
    text = plt.build()
    return text if colour else plt.uncolorize(text)


def draw_png(charts: list[Chart], path: Path, title: str) -> None:
    """One panel per series, sharing the time axis, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(len(charts), 1, sharex=True, figsize=(9, 2.2 * len(charts) + 0.8),
                             squeeze=False)  # fmt: skip
    for axis, chart in zip(axes[:, 0], charts, strict=True):
        # counts of instances or tasks hold until the next datapoint: drawn as steps
        counts = chart.unit in COUNTS
        axis.plot(chart.series.timestamps, chart.series.values, marker=".", linewidth=1.2,
                  drawstyle="steps-post" if counts else "default")  # fmt: skip
        if counts:
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(chart.unit)
        axis.set_title(f"{chart.key}: {chart.title}", fontsize=10, loc="left")
        axis.grid(alpha=0.3)
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes[-1, 0].set_xlabel("time (UTC)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
