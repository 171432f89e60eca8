"""How long `escala` takes to start: `--help` and simple verbs, each run N times in a
fresh interpreter; prints the median and fastest wall-clock time and the median CPU time
(user + system) of the child, in seconds. `get clusters` and `get chatservices` read an
empty file:// state store made for the run.

    .venv/bin/python benchmarks/startup.py [--runs 15]

Figures go in docs/startup.md. On a shared machine the wall-clock time waits for the
CPU; the CPU time is close to what an idle machine's wall-clock time would be.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = [
    ["--help"],
    ["version"],
    ["create", "--help"],
    ["get", "clusters", "--help"],
    ["update", "cluster", "--help"],
    ["get", "chatservices", "--help"],
    ["update", "chatservice", "--help"],
    ["get", "clusters"],
    ["get", "chatservices"],
    ["chat", "serve", "--help"],
]


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one run of `argv` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def report(label: str, argv: list[str], runs: int) -> None:
    walls, cpus = zip(*(timed(argv) for _ in range(runs)), strict=True)
    print(
        f"{label:34} wall median {statistics.median(walls):.3f} s  min {min(walls):.3f} s"
        f"  cpu median {statistics.median(cpus):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    report("python -c pass", [sys.executable, "-c", "pass"], runs)
    with tempfile.TemporaryDirectory() as state:
        os.environ["ESCALA_STATE_STORE"] = f"file://{state}"
        for argv in COMMANDS:
            report("escala " + " ".join(argv), [sys.executable, "-m", "escala", *argv], runs)


if __name__ == "__main__":
    main()
