"""How long `escala` takes to start: `--help` and simple verbs, each run N times in a
fresh interpreter; the median and the fastest run are printed (wall-clock seconds).

    .venv/bin/python benchmarks/startup.py [--runs 15]

Figures go in docs/performance.md; a shared machine makes them noisy, so read the
fastest run as what the code costs and the median as what a busy machine gives.
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = [
    ["--help"],
    ["version"],
    ["create", "--help"],
    ["get", "clusters", "--help"],
    ["update", "cluster", "--help"],
    ["chat", "serve", "--help"],
]


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "escala", *argv],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare = [timed_python() for _ in range(runs)]
    print(f"{'python -c pass':32} median {statistics.median(bare):.3f} s  min {min(bare):.3f} s")
    for argv in COMMANDS:
        times = [timed(argv) for _ in range(runs)]
        label = "escala " + " ".join(argv)
        print(f"{label:32} median {statistics.median(times):.3f} s  min {min(times):.3f} s")


def timed_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
