"""`escala load --calibrate` against a real fast replica behind a real Redis, on a short
ladder: the model file it writes loads back and says what it measured."""

from pathlib import Path

import pytest

from escala.loadgen.calibrate import CalibrateOptions, calibrate
from escala.simulation.capacity import dump_model, load_model
from tests.chat.servers import redis_server
from tests.cli.run import escala


def test_a_short_ladder_writes_a_model_that_loads(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        ladder = ((50, 0), (300, 0), (100, 20))
        model = calibrate(CalibrateOptions(redis=url, step_s=4, ladder=ladder))
    path = tmp_path / "model.yaml"
    path.write_text(dump_model(model))
    again = load_model(path)
    assert [p.connections for p in again.measured.points] == [50, 300, 100]
    sending = again.measured.points[2]
    # 20 msgs/s among 100 clients: each reaches the 99 others.
    assert sending.delivered_per_s == pytest.approx(sending.sent_per_s * 99, rel=0.05)
    assert sending.cpu_cores > 0 and sending.p99_ms is not None
    assert again.measured.redis and again.measured.server == "fast"
    assert again.measured.versions["redis-server"]  # the Redis it relayed through
    assert again.measured.versions["escala"] and again.measured.machine.cores >= 1
    assert again.memory.base_mib > 10  # a Python process holds tens of MiB


def test_calibrate_refuses_a_url_and_a_bad_step(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "m.yaml")
    result = escala(capsys, "load", "--calibrate", out, "--url", "http://127.0.0.1:1")
    assert result.code == 2 and "--calibrate starts its own replica" in result.err
    result = escala(capsys, "load", "--calibrate", out, "--step", "1s")
    assert result.code == 2 and "--step '1s': give at least 4s" in result.err
    assert not Path(out).exists()
