"""How long `escala simulate` takes for one simulated day (the workday example, 17,280
ticks of 5 s) per case, the profile's sampling included. Usage (from the repository root):

    .venv/bin/python benchmarks/simulate_day.py [--repeat 5]

Not a test: the machine is shared; the best of a few repeats is the figure to record.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
from escala.simulation.capacity import load_model
from escala.simulation.cases import KINDS, default_case
from escala.simulation.profile import load_profile, sample
from escala.simulation.simulator import TICK_S, simulate

DAY = Path(__file__).parents[1] / "src/escala/simulation/profiles/workday.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model, profile = load_model(), load_profile(DAY)
    for kind in KINDS:
        times = []
        for seed in range(args.repeat):
            started = time.perf_counter()
            simulate(default_case(kind), sample(profile, TICK_S, seed), model, seed)
            times.append(time.perf_counter() - started)
        print(f"{kind:<11} best {min(times):.3f} s  median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
