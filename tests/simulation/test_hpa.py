"""The HPA against hand-computed cases from the Kubernetes documentation
("Horizontal Pod Autoscaling": algorithm details, default behavior)."""

from escala.simulation.loops.hpa import HorizontalPodAutoscaler, HPAParameters, usage_recommendation

TARGET = 50.0  # percent of the pods' CPU request


def hpa(min_replicas: int = 1, max_replicas: int = 20) -> HorizontalPodAutoscaler:
    return HorizontalPodAutoscaler(HPAParameters(TARGET, min_replicas, max_replicas))


def test_four_replicas_at_140_percent_of_target_become_six() -> None:
    # ceil(4 x 1.4) = ceil(5.6) = 6
    assert usage_recommendation(4, 1.4 * TARGET, 0, TARGET, 0.1) == 6
    assert hpa().sync(0, current=4, ready=4, utilization=1.4 * TARGET, unready=0) == 6


def test_four_replicas_at_105_percent_stay_four_within_the_tolerance() -> None:
    assert usage_recommendation(4, 1.05 * TARGET, 0, TARGET, 0.1) is None
    assert hpa().sync(0, current=4, ready=4, utilization=1.05 * TARGET, unready=0) == 4
    # 89 % of the target is outside the 10 % band: ceil(4 x 0.89) = 4 all the same, and
    # 80 % goes down: ceil(3.2) = 4; 70 %: ceil(2.8) = 3.
    assert usage_recommendation(4, 0.7 * TARGET, 0, TARGET, 0.1) == 3


def test_scale_down_is_held_for_the_five_minute_stabilization_window() -> None:
    h = hpa()
    assert h.sync(0, current=4, ready=4, utilization=TARGET * 1.0, unready=0) == 4
    # From 15 s on the load halves: the metric asks for 2, but the highest recommendation
    # of the last 300 s (the 4 at t=0) wins until it is older than the window.
    for t in range(15, 300, 15):
        assert h.sync(t, current=4, ready=4, utilization=TARGET / 2, unready=0) == 4, t
    assert h.sync(300, current=4, ready=4, utilization=TARGET / 2, unready=0) == 4
    assert h.sync(315, current=4, ready=4, utilization=TARGET / 2, unready=0) == 2


def test_scale_up_is_limited_to_four_pods_or_double_per_15_seconds() -> None:
    h = hpa(max_replicas=50)
    # 2 pods at 10x the target ask for 20; the policies allow max(2 + 4, 2 x 2) = 6.
    assert h.sync(0, current=2, ready=2, utilization=10 * TARGET, unready=0) == 6
    # 15 s later the period has passed: max(6 + 4, 6 x 2) = 12 of the 60 asked for.
    assert h.sync(15, current=6, ready=6, utilization=10 * TARGET, unready=0) == 12


def test_pods_not_yet_ready_count_as_idle_when_scaling_up() -> None:
    # 2 ready pods at 150 %, 2 starting: (150 x 2 / 4) / 100 = 0.75 -> no scale-up.
    assert usage_recommendation(2, 1.5 * TARGET, 2, TARGET, 0.1) is None
    # 2 ready at 400 %, 2 starting: 400 x 2 / 4 = 200 % -> ceil(4 x 2) = 8.
    assert usage_recommendation(2, 4 * TARGET, 2, TARGET, 0.1) == 8


def test_min_and_max_replicas_bound_the_answer() -> None:
    assert hpa(min_replicas=3).sync(0, current=3, ready=3, utilization=1.0, unready=0) == 3
    assert hpa(max_replicas=5).sync(0, current=4, ready=4, utilization=4 * TARGET, unready=0) == 5
