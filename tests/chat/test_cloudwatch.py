"""The chat's own CloudWatch metrics: a real replica prints EMF lines with its connected
clients and the chat messages it broadcast and delivered per second; shipped to
CloudWatch Logs as the awslogs driver would, the sandbox extracts them, and `escala
metrics` reads them back."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from escala.chat.cloudwatch import emf_line
from tests.chat.test_server import Client
from tests.cli.run import escala
from tests.datapoints import shown_values
from tests.servers import free_port, stop, wait_for_port

SERVICE = "sala"
CLIENTS = 3
MESSAGES = 4


def test_an_emf_line_follows_the_specification() -> None:
    document = json.loads(emf_line(SERVICE, "ip-10-0-0-7", 12, messages_per_second=3.25,
                                   deliveries_per_second=39.0, now_ms=1764748800000))  # fmt: skip
    meta = document["_aws"]
    assert meta["Timestamp"] == 1764748800000
    (directive,) = meta["CloudWatchMetrics"]
    assert directive["Namespace"] == "Escala/Chat"
    # every dimension and metric a directive names is a member of the document
    for names in directive["Dimensions"]:
        assert all(name in document for name in names)
    assert {m["Name"]: document[m["Name"]] for m in directive["Metrics"]} == {
        "ConnectedClients": 12,
        "MessagesOut": 3.25,
        "MessagesDelivered": 39.0,
    }
    assert {m["Unit"] for m in directive["Metrics"]} <= {"Count", "Count/Second"}
    assert (document["Service"], document["Replica"]) == (SERVICE, "ip-10-0-0-7")


def _read_lines(proc: subprocess.Popen[str], into: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        into.append(line)


Documents = list[dict[str, Any]]


async def _wait_for(condition: Callable[[Documents], bool], lines: list[str], what: str
                    ) -> Documents:  # fmt: skip
    """The replica's EMF documents once `condition(documents)` holds (20 s at most)."""
    deadline = time.monotonic() + 20
    while True:
        emf = [json.loads(line) for line in list(lines) if line.startswith('{"_aws"')]
        if condition(emf):
            return emf
        assert time.monotonic() < deadline, f"{what}: {lines}"
        await asyncio.sleep(0.2)


async def test_a_replica_publishes_its_clients_and_deliveries_and_escala_reads_them_back(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    env = {**os.environ, "ESCALA_CHAT_CLOUDWATCH_SERVICE": SERVICE,
           "ESCALA_CHAT_CLOUDWATCH_INTERVAL": "1"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "escala", "chat", "serve", "--port", str(port),
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=_read_lines, args=(proc, lines), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    clients = [Client() for _ in range(CLIENTS)]
    sender, receivers = clients[0], clients[1:]
    try:
        wait_for_port(port, proc)  # type: ignore[arg-type]
        for client in clients:
            await client.sio.connect(url, transports=["websocket"])
        await _wait_for(lambda emf: any(d["ConnectedClients"] == CLIENTS for d in emf), lines,
                        f"no EMF line with {CLIENTS} clients")  # fmt: skip
        # every client is in the default room: each message reaches the other two
        await sender.sio.call("add user", "ana")
        for i in range(MESSAGES):
            await sender.sio.call("new message", f"hola {i}")
        for receiver in receivers:
            assert [(await receiver.next("new message"))["message"] for _ in range(MESSAGES)] == [
                f"hola {i}" for i in range(MESSAGES)
            ]
        # a line sampled after every copy was written (the one being printed may not be)
        printed = len(lines)
        emf = await _wait_for(lambda _: len(lines) > printed + 1, lines, "no EMF line after")
        metrics = urllib.request.urlopen(url + "/metrics").read().decode()
    finally:
        for client in clients:
            await client.sio.disconnect()
        stop(proc)  # type: ignore[arg-type]
    assert f"escala_chat_messages_out_total {MESSAGES:.1f}" in metrics
    assert f"escala_chat_messages_delivered_total {2 * MESSAGES:.1f}" in metrics

    # what the awslogs driver does with the replica's output, from the lines written while
    # all the clients were connected (one-second lines: a minute's Average is theirs)
    full = [json.dumps(d) for d in emf if d["ConnectedClients"] == CLIENTS]
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=f"/escala/chat/{SERVICE}")
    logs.create_log_stream(logGroupName=f"/escala/chat/{SERVICE}", logStreamName="replica-1")
    put = logs.put_log_events(
        logGroupName=f"/escala/chat/{SERVICE}",
        logStreamName="replica-1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": line} for line in full],
    )
    assert "rejectedLogEventsInfo" not in put, put
    state = ["--state", f"file://{tmp_path}/state"]
    created = escala(capsys, "create", "chatservice", SERVICE, "--platform", "fargate",
                     "--zones", "eu-west-1a,eu-west-1b", "--image", "escala:0.1.0",
                     "--redis-parameter", "/escala/chat/redis", *state)  # fmt: skip
    assert created.code == 0, created.err
    read = escala(capsys, "metrics", "chatservice", SERVICE, "-m", "connections,messages",
                  "-m", "deliveries", "--since", "1h", *state, "-o", "json")  # fmt: skip
    assert read.code == 0, read.err
    document = json.loads(read.out)
    assert set(shown_values(document, "connections")) == {CLIENTS}
    # per second, so the sums of the lines' rates; each line's two rates share a period
    out, delivered = (sum(shown_values(document, m)) for m in ("messages", "deliveries"))
    assert out > 0 and delivered == pytest.approx(2 * out, rel=0.02)

    shown = escala(capsys, "metrics", "chatservice", SERVICE, "-m", "deliveries", "--since",
                   "1h", *state)  # fmt: skip
    assert shown.code == 0, shown.err
    assert "deliveries: messages delivered to clients per second, all replicas (msgs/s)" in (
        shown.out
    )
