"""The cluster diagram of the docs is drawn from the builders, so it shows what
`update cluster` creates and in which order."""

from pathlib import Path

from escala.api.create import build_cluster
from escala.api.defaults import complete
from escala.model.cluster import build_tasks
from escala.model.diagram import EXAMPLE, kind_graph, layers, main


def test_the_diagram_counts_every_resource_and_orders_kinds_as_update_creates_them() -> None:
    cluster, groups = build_cluster(EXAMPLE)
    tasks = build_tasks(*complete(cluster, groups, "s3://state"))
    counts, refers = kind_graph(tasks)
    assert sum(counts.values()) == len(tasks)
    assert counts["Subnet"] == len(EXAMPLE.zones)
    depth = {kind: i for i, row in enumerate(layers(counts, refers)) for kind in row}
    assert depth["VPC"] == 0
    for kind, targets in refers.items():
        for target in targets:
            assert depth[kind] > depth[target], (kind, target)


def test_make_docs_writes_the_png(tmp_path: Path, capsys) -> None:
    path = tmp_path / "images" / "cluster.png"
    main([str(path)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cluster, groups = build_cluster(EXAMPLE)
    tasks = build_tasks(*complete(cluster, groups, "s3://proyecto-state"))
    assert f"{len(tasks)} resources of {len(kind_graph(tasks)[0])} kinds" in capsys.readouterr().out
