"""The capacity model file: the shipped one loads, a fit recovers known costs, and a
model from another escala version or with a field missing is refused, exit 2."""

from pathlib import Path

import pytest
import yaml

from escala import __version__
from escala.simulation.capacity import LadderPoint, Machine, Measured, dump_model, fit, load_model
from tests.cli.run import escala

PROFILE = Path(__file__).parents[2] / "src/escala/simulation/profiles/lobby-spike.yaml"


def measured(points: list[LadderPoint]) -> Measured:
    machine = Machine(cpu="test", cores=2, os="linux", python="3.11")
    return Measured(
        date="2026-12-03T00:00:00Z", machine=machine, server="fast", redis=True,
        versions={"escala": __version__}, points=points,
    )  # fmt: skip


def point(conns: int, sent: float, cpu: float, rss: float, p99: float | None) -> LadderPoint:
    delivered = sent * max(conns - 1, 0)
    return LadderPoint(
        connections=conns, sent_per_s=sent, delivered_per_s=delivered, cpu_cores=cpu,
        rss_mib=rss, p99_ms=p99, load_cpu_cores=0.1,
    )  # fmt: skip


def ladder() -> list[LadderPoint]:
    """A replica costing 1 µcore per connection, 2 µcores per delivery, 10 µcores per
    message and 0.01 core idle; 20 KiB per connection over 100 MiB."""

    def cpu(c: int, sent: float) -> float:
        return 0.01 + 1e-6 * c + 2e-6 * sent * (c - 1) + 1e-5 * sent

    idle = [point(c, 0, cpu(c, 0), 100 + c * 20 / 1024, None) for c in (500, 1000, 2000)]
    busy = [point(c, r, cpu(c, r), 140, 20 + 1000 * cpu(c, r) ** 4)
            for c, r in ((200, 50), (200, 200), (1000, 50), (1000, 200), (1000, 400))]  # fmt: skip
    return idle + busy


def test_a_fit_recovers_the_costs_and_the_knee() -> None:
    model = fit(ladder(), 100.0, measured(ladder()))
    assert model.cpu.per_connection == pytest.approx(1e-6, rel=1e-3)
    assert model.cpu.per_delivered == pytest.approx(2e-6, rel=1e-3)
    assert model.cpu.per_message == pytest.approx(1e-5, rel=1e-2)
    assert model.memory.per_connection_kib == pytest.approx(20, rel=1e-3)
    # p99 = 20 + 1000 cpu^4 crosses 100 ms at cpu = 0.53 cores, between the 200 msgs/s
    # rung (0.41 cores) and the 400 one (0.81): a knee the replica itself caused.
    assert model.latency.knee_from == "measured"
    assert 200 * 999 < model.latency.knee_delivered_per_s < 400 * 999
    assert 0.41 < model.latency.knee_cpu_cores < 0.81


def test_the_shipped_model_loads_and_says_where_it_was_measured() -> None:
    model = load_model()
    assert model.escala_version == __version__
    assert model.measured.server == "fast" and model.measured.redis
    assert len(model.measured.points) >= 10
    assert model.latency.knee_delivered_per_s > 0


def simulate_with(tmp_path: Path, capsys, change) -> object:  # type: ignore[no-untyped-def]
    """`escala simulate` with a fitted model file that `change` has edited."""
    data = yaml.safe_load(dump_model(fit(ladder(), 100.0, measured(ladder()))))
    change(data)
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(data))
    return escala(capsys, "simulate", str(PROFILE), "--model", str(path))


def test_a_model_from_another_version_is_refused(tmp_path: Path, capsys) -> None:
    result = simulate_with(tmp_path, capsys, lambda d: d.update(escalaVersion="0.0.9"))
    assert result.code == 2
    assert "escalaVersion: measured with escala 0.0.9" in result.err
    assert "escala load --calibrate" in result.err


def test_a_model_with_a_field_missing_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    def drop(data: dict) -> None:
        del data["cpu"]["perDelivered"]
        del data["latency"]

    result = simulate_with(tmp_path, capsys, drop)
    assert result.code == 2
    assert "cpu.perDelivered: Field required" in result.err
    assert "latency: Field required" in result.err
