"""The chat's own CloudWatch metric: a real replica (either server) prints EMF lines with
its connected clients; shipped to CloudWatch Logs as the awslogs driver would, the
sandbox extracts them, and `escala metrics` reads them back."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import socketio

from escala.chat.cloudwatch import emf_line
from tests.cli.run import escala
from tests.servers import free_port, stop, wait_for_port

SERVICE = "sala"
CLIENTS = 3


def test_an_emf_line_follows_the_specification() -> None:
    document = json.loads(emf_line(SERVICE, "ip-10-0-0-7", 12, 3.25, 1764748800000))
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
    }
    assert {m["Unit"] for m in directive["Metrics"]} <= {"Count", "Count/Second"}
    assert (document["Service"], document["Replica"]) == (SERVICE, "ip-10-0-0-7")


def _read_lines(proc: subprocess.Popen[str], into: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        into.append(line)


async def test_a_replica_publishes_its_clients_and_escala_reads_them_back(
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
    clients = [socketio.AsyncClient() for _ in range(CLIENTS)]
    try:
        wait_for_port(port, proc)  # type: ignore[arg-type]
        for client in clients:
            await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        deadline = time.monotonic() + 20
        emf: list[dict] = []  # type: ignore[type-arg]
        while not any(d["ConnectedClients"] == CLIENTS for d in emf):
            assert time.monotonic() < deadline, f"no EMF line with {CLIENTS} clients: {lines}"
            time.sleep(0.2)
            emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    finally:
        for client in clients:
            await client.disconnect()
        stop(proc)  # type: ignore[arg-type]

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
    read = escala(capsys, "metrics", "chatservice", SERVICE, "-m", "connections", "--since",
                  "1h", *state, "-o", "json")  # fmt: skip
    assert read.code == 0, read.err
    (series,) = json.loads(read.out)["metrics"]
    assert {d["value"] for d in series["datapoints"]} == {CLIENTS}
