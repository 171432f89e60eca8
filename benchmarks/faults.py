"""The fault campaign: seeded create -> update -> delete lives of a cluster and of both
chat services (EC2, Fargate) through `escala sandbox --faults`, each also SIGKILLed once
mid-create and once mid-delete at seeded calls; prints one row per life.

    .venv/bin/python benchmarks/faults.py [--seeds 20] [--rate 0.1] [--only cluster]

A life converged when each step (create, update, delete) succeeded within three plain
runs and both plans after them said "No changes need to be applied"; leaks are what the
account holds after the delete (tests/leaks.py). Figures go in docs/reconcile.md.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults import Outcome, Runner, lifecycles, sandbox

COLUMNS = (
    "life          seed  SIGKILL at              calls  faults  retries  runs c/u/d  converged"
    "  leaks"
)


def row(o: Outcome) -> str:
    runs = "/".join(str(o.runs.get(s, "-")) for s in ("create", "update", "delete"))
    leaks = ", ".join(o.leaks) if o.leaks else "0"
    return (
        f"{o.lifecycle:<13} {o.seed:>4}  {o.kill or '-':<21} {o.calls:>6} {o.faults:>7} "
        f"{o.retries:>8}  {runs:<10} {'yes' if o.converged else 'NO':<9}  {leaks}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument(
        "--only", action="append", help="cluster, cluster-private, chat-ec2 or chat-fargate"
    )
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL lives")
    args = parser.parse_args()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp, sandbox() as box:
        runner = Runner(box, Path(tmp))
        lives = lifecycles(Path(tmp))
        kill = () if args.no_kill else ("apply", "delete")
        print(COLUMNS, flush=True)
        for name, life in lives.items():
            if args.only and name not in args.only:
                continue
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                outcome = runner.life(life, seed, args.rate, kill)
                outcomes.append(outcome)
                print(row(outcome), flush=True)
                for error in outcome.errors:
                    print(f"    {error}", flush=True)
    failed = [o for o in outcomes if not o.converged or o.leaks]
    total_faults = sum(o.faults for o in outcomes)
    print(
        f"\n{len(outcomes)} lives, {sum(o.calls for o in outcomes)} AWS calls, "
        f"{total_faults} faults injected, {sum(o.retries for o in outcomes)} retried calls; "
        f"{len(outcomes) - len(failed)} converged with no leak, {len(failed)} did not "
        f"({time.monotonic() - started:.0f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
