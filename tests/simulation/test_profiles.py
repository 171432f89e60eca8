"""Load profiles: every shipped example runs through every case; bad profiles are
refused with the field named, exit 2, and nothing is drawn."""

from pathlib import Path

import pytest

from escala.simulation.profile import load_profile, sample
from tests.cli.run import escala

LOAD = "connections: 5, messagesPerSecond: 1"
EXAMPLES = sorted((Path(__file__).parents[2] / "src/escala/simulation/profiles").glob("*.yaml"))


def write(tmp_path: Path, spec: str) -> Path:
    path = tmp_path / "profile.yaml"
    head = "apiVersion: escala.io/v1alpha1\nkind: LoadProfile\nmetadata: {name: p}\nspec:\n"
    path.write_text(head + spec)
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_shipped_example_runs_every_case(example: Path, capsys, tmp_path) -> None:
    png = tmp_path / "run.png"
    result = escala(
        capsys, "simulate", str(example), "--compare", "ec2,fargate,kubernetes", "--png", str(png)
    )
    assert result.code == 0, result.err
    for case in ("ec2", "fargate", "kubernetes"):
        assert case in result.out
    assert png.read_bytes().startswith(b"\x89PNG")


def test_there_are_examples_of_steps_ramps_and_a_day() -> None:
    specs = [load_profile(p).spec for p in EXAMPLES]
    assert any(s.steps for s in specs) and any(s.ramps for s in specs)
    assert any(s.day for s in specs)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            "  duration: 1h\n  steps:\n  - {from: 0m, to: 10m, connections: -5, "
            "messagesPerSecond: 1}\n",
            "spec.steps[0].connections: Input should be greater than or equal to 0",
        ),
        (
            "  duration: 1h\n  steps:\n  - {from: 0m, to: 10m, connections: many, "
            "messagesPerSecond: 1}\n",
            "spec.steps[0].connections: Input should be a valid number",
        ),
        (
            f"  duration: 1h\n  steps:\n  - {{from: 0m, to: 30m, {LOAD}}}\n"
            f"  - {{from: 20m, to: 40m, {LOAD}}}\n",
            "spec.steps[1]: overlaps spec.steps[0] (0s-30m); make it start at 30m or later",
        ),
        (
            f"  duration: 1h\n  steps:\n  - {{from: 0m, to: 30m, {LOAD}}}\n"
            "  ramps:\n  - {from: 10m, to: 40m, connections: [1, 2], messagesPerSecond: [1, 2]}\n",
            "spec.ramps[0]: overlaps spec.steps[0]",
        ),
        (
            f"  duration: 400d\n  steps:\n  - {{from: 0m, to: 10m, {LOAD}}}\n",
            "spec.duration: 400d must be more than 0 and at most a year",
        ),
        (
            f"  duration: 1h\n  steps:\n  - {{from: 30m, to: 10m, {LOAD}}}\n",
            "spec.steps[0].to: 10m must be after from (30m)",
        ),
        (
            f"  duration: 1h\n  steps:\n  - {{from: 0m, to: 2h, {LOAD}}}\n",
            "spec.steps[0].to: 2h is past spec.duration (1h)",
        ),
        (
            "  duration: soon\n  steps: []\n",
            "spec.duration: 'soon' is not a duration",
        ),
        (
            "  duration: 1h\n  steps:\n  - {from: 0m, to: 1m, connections: 5, messagesPerSecnd: 1}",
            "spec.steps[0].messagesPerSecnd: Extra inputs are not permitted",
        ),
    ],
    ids=["negative", "non-numeric", "overlap", "overlap-ramp", "over-a-year", "backwards",
         "past-the-end", "bad-duration", "typo"],
)  # fmt: skip
def test_bad_profiles_are_refused_naming_the_field(
    spec: str, problem: str, tmp_path: Path, capsys
) -> None:
    png = tmp_path / "never.png"
    result = escala(capsys, "simulate", str(write(tmp_path, spec)), "--png", str(png))
    assert result.code == 2, result.err
    assert problem in result.err, result.err
    assert not png.exists()


def test_noise_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  duration: 2h\n  noise: 0.2\n  day: {minConnections: 10, maxConnections: 100, "
        "messagesPerConnection: 0.1}\n",
    )
    profile = load_profile(path)
    a, b, c = sample(profile, 5, 1), sample(profile, 5, 1), sample(profile, 5, 2)
    assert (a.connections == b.connections).all()
    assert (a.connections != c.connections).any()
    # One factor per simulated minute: 12 ticks of 5 s share it.
    assert len(set(a.connections[:12] / a.connections[:12].max())) <= 12


def test_a_ramp_goes_linearly_between_its_ends(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  duration: 10m\n  ramps:\n  - {from: 0m, to: 10m, connections: [0, 600], "
        "messagesPerSecond: [0, 60]}\n",
    )
    load = sample(load_profile(path), 60, 0)
    assert list(load.connections) == [0, 60, 120, 180, 240, 300, 360, 420, 480, 540]
    assert load.messages_per_s[5] == 30
