"""The chat's own CloudWatch metrics, written as embedded metric format (EMF) lines.

When `ESCALA_CHAT_CLOUDWATCH_SERVICE` names the chat service, each replica prints one
JSON line every `ESCALA_CHAT_CLOUDWATCH_INTERVAL` seconds (60) with its connected clients,
the chat messages it broadcast per second and the copies of chat messages it wrote to
its clients per second (deliveries: a broadcast to a room of 50 is one message out and
49 deliveries, spread over the replicas the room's members are connected to). The
platform's awslogs driver (ECS on Fargate,
Docker on EC2) sends the line to the service's log group, and CloudWatch Logs turns it
into datapoints of `Escala/Chat`, dimension `Service=<name>`. One datapoint per replica
per minute makes the metric's Average the clients *per replica*, which is what a
target-tracking policy on connections needs. The chat makes no AWS call and holds no
AWS credentials: the line is all it does.
"""

import json
import os
import socket
import sys
import threading
import time
from typing import TextIO

from escala.api.chat_service_spec import (
    CONNECTIONS_METRIC,
    DELIVERIES_METRIC,
    MESSAGES_METRIC,
    METRICS_NAMESPACE,
    SERVICE_DIMENSION,
)
from escala.chat.metrics import Metrics
from escala.errors import UsageError

SERVICE_ENV = "ESCALA_CHAT_CLOUDWATCH_SERVICE"
INTERVAL_ENV = "ESCALA_CHAT_CLOUDWATCH_INTERVAL"
DEFAULT_INTERVAL = 60.0


def emf_line(
    service: str,
    replica: str,
    connected: float,
    *,
    messages_per_second: float,
    deliveries_per_second: float,
    now_ms: int,
) -> str:
    """One EMF document (CloudWatch's specification: `_aws.CloudWatchMetrics` names the
    members that are metrics; the rest, `Replica` here, stays searchable log data)."""
    document = {
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [[SERVICE_DIMENSION]],
                    "Metrics": [
                        {"Name": CONNECTIONS_METRIC, "Unit": "Count"},
                        {"Name": MESSAGES_METRIC, "Unit": "Count/Second"},
                        {"Name": DELIVERIES_METRIC, "Unit": "Count/Second"},
                    ],
                }
            ],
        },
        SERVICE_DIMENSION: service,
        "Replica": replica,
        CONNECTIONS_METRIC: connected,
        MESSAGES_METRIC: round(messages_per_second, 3),
        DELIVERIES_METRIC: round(deliveries_per_second, 3),
    }
    return json.dumps(document, separators=(",", ":"))


class EmfPublisher(threading.Thread):
    """Reads the replica's Prometheus registry and prints an EMF line per interval.

    A thread, not a task: its blocking writes to stdout never stall the server's event
    loop, and reading a prometheus_client value is thread-safe."""

    def __init__(
        self, metrics: Metrics, service: str, interval: float, stream: TextIO = sys.stdout
    ) -> None:
        super().__init__(name="escala-emf", daemon=True)
        self.metrics, self.service, self.interval, self.stream = (
            metrics,
            service,
            interval,
            stream,
        )
        self.replica = socket.gethostname()
        self.stopped = threading.Event()

    def _sample(self, name: str) -> float:
        return self.metrics.registry.get_sample_value(name) or 0.0

    def _counts(self) -> tuple[float, float, float]:
        """The counters the rates come from, and when they were read."""
        return (
            self._sample("escala_chat_messages_out_total"),
            self._sample("escala_chat_messages_delivered_total"),
            time.monotonic(),
        )

    def run(self) -> None:
        last_out, last_delivered, last_time = self._counts()
        while not self.stopped.wait(self.interval):
            out, delivered, now = self._counts()
            elapsed = max(now - last_time, 1e-9)
            line = emf_line(
                self.service,
                self.replica,
                int(self._sample("escala_chat_connected_clients")),
                messages_per_second=(out - last_out) / elapsed,
                deliveries_per_second=(delivered - last_delivered) / elapsed,
                now_ms=int(time.time() * 1000),
            )
            last_out, last_delivered, last_time = out, delivered, now
            self.stream.write(line + "\n")
            self.stream.flush()


def start_publisher(metrics: Metrics, stream: TextIO = sys.stdout) -> EmfPublisher | None:
    """Start publishing when the environment names the service (the task definition or
    the EC2 unit sets it); otherwise do nothing and return None."""
    service = os.environ.get(SERVICE_ENV)
    if not service:
        return None
    text = os.environ.get(INTERVAL_ENV) or str(DEFAULT_INTERVAL)
    try:
        interval = float(text)
    except ValueError:
        interval = 0.0
    if not 1 <= interval <= 3600:
        raise UsageError(f"{INTERVAL_ENV}: {text!r} must be seconds from 1 to 3600, e.g. 60")
    publisher = EmfPublisher(metrics, service, interval, stream)
    publisher.start()
    return publisher
