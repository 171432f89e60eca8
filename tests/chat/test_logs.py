"""`--log-format json` makes every line a JSON object."""

import json
import subprocess
import urllib.request
from pathlib import Path

from tests.chat.servers import serve_argv
from tests.servers import free_port, wait_for_port


def test_json_logs(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        serve_argv(port, tmp_path, "--log-format", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, proc)  # type: ignore[arg-type]
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").read()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines
    assert all({"ts", "level", "logger", "message"} <= set(e) for e in lines)
    assert any(str(port) in e["message"] for e in lines)  # the "listening on" line
