"""A picture of the cluster escala builds, drawn from the builders themselves.

`python -m escala.model.diagram docs/images/cluster.png` (what `make docs` runs) builds
the tasks of the README's cluster (3 masters in 3 zones, nodes across them) and draws
one box per kind of AWS resource, with how many of it, and an arrow from each kind to
the kinds it refers to. Made from `build_tasks`, so the picture changes with the model.
"""

import sys
from collections import defaultdict
from pathlib import Path

from escala.api.create import CreateClusterOptions, build_cluster
from escala.api.defaults import complete
from escala.model.cluster import build_tasks
from escala.reconcile.task import Task

EXAMPLE = CreateClusterOptions(
    name="proyecto.k8s.local", zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"]
)


def kind_graph(tasks: dict[str, Task]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """How many tasks of each kind, and which kinds each kind's tasks refer to."""
    counts: dict[str, int] = defaultdict(int)
    refers: dict[str, set[str]] = defaultdict(set)
    for task in tasks.values():
        counts[task.kind] += 1
        refers[task.kind].update(d.kind for d in task.dependencies() if d.kind != task.kind)
    return dict(counts), dict(refers)


def layers(counts: dict[str, int], refers: dict[str, set[str]]) -> list[list[str]]:
    """Kinds by depth: those that refer to nothing first, each later one after all it
    refers to (the order `update` creates them in)."""
    depth: dict[str, int] = {}

    def of(kind: str) -> int:
        if kind not in depth:
            depth[kind] = 1 + max((of(r) for r in refers.get(kind, ())), default=-1)
        return depth[kind]

    out: list[list[str]] = [[] for _ in range(max(map(of, counts)) + 1)]
    for kind in sorted(counts):
        out[of(kind)].append(kind)
    return out


def draw(tasks: dict[str, Task], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    counts, refers = kind_graph(tasks)
    rows = layers(counts, refers)
    width = max(len(r) for r in rows)
    fig, ax = plt.subplots(figsize=(2.3 * width + 1, 1.25 * len(rows) + 1), dpi=110)
    where: dict[str, tuple[float, float]] = {}
    for y, row in enumerate(rows):
        for x, kind in enumerate(row):
            where[kind] = (x + (width - len(row)) / 2, -y)
    for kind, targets in refers.items():
        for target in targets:
            (x0, y0), (x1, y1) = where[kind], where[target]
            ax.annotate(
                "",
                xy=(x1, y1 - 0.22),
                xytext=(x0, y0 + 0.22),
                arrowprops={"arrowstyle": "->", "color": "#9aa5b1", "lw": 0.9},
            )
    for kind, (x, y) in where.items():
        ax.add_patch(
            FancyBboxPatch(
                (x - 0.45, y - 0.2),
                0.9,
                0.4,
                boxstyle="round,pad=0.02",
                facecolor="#e6edfb",
                edgecolor="#2b59c3",
            )
        )
        label = kind if counts[kind] == 1 else f"{kind} x{counts[kind]}"
        ax.text(x, y, label, ha="center", va="center", fontsize=8.5)
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-len(rows) + 0.5, 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str]) -> None:
    cluster, groups = build_cluster(EXAMPLE)
    completed, completed_groups = complete(cluster, groups, "s3://proyecto-state")
    tasks = build_tasks(completed, completed_groups)
    path = Path(argv[0] if argv else "cluster.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    title = (
        f"escala create cluster --zones {','.join(EXAMPLE.zones)}: {len(tasks)} AWS resources "
        "(arrow: refers to, so is created after)"
    )
    draw(tasks, path, title)
    print(f"{path}: {len(tasks)} resources of {len(kind_graph(tasks)[0])} kinds")


if __name__ == "__main__":
    main(sys.argv[1:])
