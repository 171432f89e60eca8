"""cluster-autoscaler against its FAQ: scale-up for pending pods, scale-down of a node
under 50 % for 10 minutes, not within 10 minutes of a scale-up."""

from escala.simulation.loops.cluster_autoscaler import (
    CAParameters,
    ClusterAutoscaler,
    NodeView,
)

SLOTS = 6  # pods per node


def ca(min_nodes: int = 1, max_nodes: int = 10) -> ClusterAutoscaler:
    return ClusterAutoscaler(CAParameters(min_nodes, max_nodes), SLOTS)


def nodes(*pods: int, booting: int = 0) -> list[NodeView]:
    views = [NodeView(f"n{i}", p, True) for i, p in enumerate(pods)]
    return views + [NodeView(f"b{i}", 0, False) for i in range(booting)]


def test_pending_pods_ask_for_enough_new_nodes() -> None:
    # 7 pending pods, 6 per node: 2 nodes.
    assert ca().scan(0, nodes(6, 6), pending=7).add == 2
    # A node already booting has room for 6 of them: one more.
    assert ca().scan(0, nodes(6, 6, booting=1), pending=7).add == 1
    # ... and none when the booting nodes hold them all; never past maxNodes.
    assert ca().scan(0, nodes(6, booting=2), pending=7).add == 0
    assert ca(max_nodes=3).scan(0, nodes(6, 6), pending=20).add == 1


def test_a_node_under_half_full_goes_after_ten_minutes_unneeded() -> None:
    a = ca()
    # n1 holds 2 of 6 (33 %) and its pods fit on n0 (4 free slots).
    for t in range(0, 600, 10):
        assert a.scan(t, nodes(2, 2), pending=0).remove == (), t
    assert a.scan(600, nodes(2, 2), pending=0).remove == ("n0",)


def test_a_node_at_half_or_more_stays() -> None:
    a = ca()
    for t in range(0, 1300, 10):
        assert a.scan(t, nodes(3, 3), pending=0).remove == (), t


def test_no_scale_down_for_ten_minutes_after_a_scale_up() -> None:
    a = ca()
    assert a.scan(0, nodes(6), pending=1).add == 1
    for t in range(10, 600, 10):
        assert a.scan(t, nodes(1, 0), pending=0).remove == (), t
    assert a.scan(610, nodes(1, 0), pending=0).remove == ("n1",)  # the empty one


def test_empty_nodes_go_together_busy_ones_one_at_a_time() -> None:
    a = ca()
    for t in range(0, 610, 10):
        decision = a.scan(t, nodes(5, 0, 0, 0), pending=0)
    assert decision.remove == ("n1", "n2", "n3")
    b = ca()
    for t in range(0, 610, 10):
        decision = b.scan(t, nodes(1, 1, 1, 6), pending=0)
    assert len(decision.remove) == 1
