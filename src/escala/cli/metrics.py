"""`escala metrics chatservice NAME` and `escala metrics cluster --name C`: CloudWatch
series of a scaling case, as terminal charts, a PNG (`--png`) or data (`-o json|yaml`).
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from escala.cli.naming import CHAT_SERVICE, CHAT_SERVICE_ARGUMENT, CHAT_SERVICE_OPTION, STATE_OPTION
from escala.cli.output import OUTPUT_OPTION, OutputFormat, console, emit, err_console
from escala.cli.validate import CLUSTER_ARGUMENT, KUBECONFIG_OPTION, NAME_OPTION, ClusterTarget
from escala.errors import CloudError, UsageError
from escala.ops.metric_catalogue import CATALOGUE, CLUSTER_CATALOGUE
from escala.state import open_store

if TYPE_CHECKING:
    from escala.ops.metrics import Chart, Window

app = typer.Typer(
    help="Chart a chat service's or cluster's CloudWatch metrics (CPU, load balancer, "
    "capacity, connected clients).",
    no_args_is_help=True,
)

_ALL = sorted({k for known in CATALOGUE.values() for k in known})
METRIC_OPTION = typer.Option(
    [], "--metric", "-m", help=f"Metric(s) to show, repeat or comma-separate: {', '.join(_ALL)}."
)
SINCE_OPTION = typer.Option("3h", "--since", help="Start: 90m, 3h, 2d or an ISO time (UTC).")
PERIOD_OPTION = typer.Option(60, "--period", help="Seconds per datapoint, a multiple of 60.")
PNG_OPTION = typer.Option(None, "--png", help="Also draw the charts into this PNG file.")


def _names(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _check_png(path: Path | None) -> None:
    if path is not None and not path.parent.is_dir():
        raise UsageError(f"--png {path}: folder {path.parent} does not exist; create it first")


def report(charts: "list[Chart]", span: "Window", subject: str, output: OutputFormat,
           png: Path | None) -> None:  # fmt: skip
    """Charts (or data) for the series with datapoints; the empty ones said in words."""
    from escala.cli.metric_charts import draw_png, terminal_chart

    document: dict[str, Any] = {
        "kind": "Metrics",
        "subject": subject,
        "start": span.start.isoformat(timespec="seconds"),
        "end": span.end.isoformat(timespec="seconds"),
        "period": span.period,
        "metrics": [c.to_dict() for c in charts],
    }
    with_data = [c for c in charts if c.series.values]
    between = (
        f"between {span.start:%Y-%m-%d %H:%M} and {span.end:%Y-%m-%d %H:%M} UTC "
        f"(period {span.period}s)"
    )

    def draw() -> None:
        width = min(console.width or 100, 100)
        for chart in with_data:
            console.print(terminal_chart(chart, width, sys.stdout.isatty()), markup=False,
                          highlight=False)  # fmt: skip
        for chart in charts:
            if not chart.series.values:
                why = f": {chart.note}" if chart.note else ""
                console.print(f"{chart.key}: no datapoints from CloudWatch {between}{escape(why)}",
                              highlight=False)  # fmt: skip

    emit(document, output, draw)
    if not with_data:
        err_console.print(
            f"CloudWatch returned no datapoints for {subject} {between}: nothing to chart. "
            "Metrics appear a few minutes after the resources start working; try a longer "
            "--since.",
            highlight=False,
        )
    if png is not None:
        if not with_data:
            raise CloudError(f"--png {png}: not written, there is no datapoint to draw")
        draw_png(with_data, png, f"{subject}, {between}")
        err_console.print(f"wrote {png}", highlight=False)


@app.command("chatservice")
def chat_service_metrics_command(
    service_name: str | None = CHAT_SERVICE_ARGUMENT,
    name: str | None = CHAT_SERVICE_OPTION,
    metric: list[str] = METRIC_OPTION,
    since: str = SINCE_OPTION,
    period: int = PERIOD_OPTION,
    png: Path | None = PNG_OPTION,
    state: str | None = STATE_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """CPU, load balancer, capacity and connected clients of a chat service."""
    from escala.ops.chat_service_lifecycle import clients_for
    from escala.ops.metrics import chat_service_metrics, window
    from escala.ops.status import stored_chat_service

    name = CHAT_SERVICE.name(service_name, name)
    span = window(since, period)
    _check_png(png)
    service = stored_chat_service(open_store(state), name)
    with err_console.status(f"Reading CloudWatch metrics of chat service {name}..."):
        charts = chat_service_metrics(service, clients_for(service), _names(metric), span)
    report(charts, span, f"chat service {name}", output, png)


@app.command("cluster")
def cluster_metrics_command(
    cluster: str | None = CLUSTER_ARGUMENT,
    name: str | None = NAME_OPTION,
    metric: list[str] = typer.Option(
        [], "--metric", "-m", help=f"Metric(s) per instance group: {', '.join(CLUSTER_CATALOGUE)}."
    ),
    instance_group: list[str] = typer.Option(
        [], "--instance-group", help="Only these instance groups (repeatable, or comma-separated)."
    ),
    since: str = SINCE_OPTION,
    period: int = PERIOD_OPTION,
    png: Path | None = PNG_OPTION,
    state: str | None = STATE_OPTION,
    kubeconfig: str | None = KUBECONFIG_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """CPU and desired / in-service capacity of each instance group's Auto Scaling Group."""
    from escala.ops.cloud_groups import only_groups
    from escala.ops.metrics import cluster_metrics, window

    span = window(since, period)
    _check_png(png)
    target = ClusterTarget.resolve(cluster or name, state, kubeconfig, positional=True)
    groups = only_groups(target.store.list_instance_groups(target.name), instance_group,
                         target.name)  # fmt: skip
    with err_console.status(f"Reading CloudWatch metrics of cluster {target.name}..."):
        charts = cluster_metrics(target.name, groups, target.aws(), _names(metric), span)
    report(charts, span, f"cluster {target.name}", output, png)
