"""AWS target tracking against the Application Auto Scaling and EC2 Auto Scaling user
guides: scale out after 3 one-minute datapoints above the target, scale in after 15 below
90 % of it; instance warm-up (EC2) and the scale-in cooldown (ECS)."""

from escala.simulation.loops.alarms import AlarmParameters
from escala.simulation.loops.app_autoscaling import EcsParameters, EcsTargetTracking
from escala.simulation.loops.target_tracking import Ec2Parameters, Ec2TargetTracking

TARGET = 50.0


def ec2(min_size: int = 1, max_size: int = 10) -> Ec2TargetTracking:
    return Ec2TargetTracking(Ec2Parameters(AlarmParameters(TARGET), min_size, max_size))


def test_scale_out_only_after_three_breaching_minutes() -> None:
    loop = ec2()
    assert loop.evaluate(2, counted=2, warming=0, datapoint=80) == 2
    assert loop.evaluate(2, counted=2, warming=0, datapoint=80) == 2
    # Third minute above 50 %: ceil(2 x 80 / 50) = ceil(3.2) = 4.
    assert loop.evaluate(2, counted=2, warming=0, datapoint=80) == 4


def test_a_minute_under_the_target_restarts_the_count() -> None:
    loop = ec2()
    for datapoint in (80, 80, 40, 80, 80):
        assert loop.evaluate(2, counted=2, warming=0, datapoint=datapoint) == 2
    assert loop.evaluate(2, counted=2, warming=0, datapoint=80) == 4


def test_scale_in_after_fifteen_minutes_under_ninety_percent_of_target() -> None:
    loop = ec2()
    for minute in range(14):
        assert loop.evaluate(4, counted=4, warming=0, datapoint=20) == 4, minute
    # 15th datapoint under 45 %: ceil(4 x 20 / 50) = 2.
    assert loop.evaluate(4, counted=4, warming=0, datapoint=20) == 2


def test_between_ninety_percent_and_the_target_nothing_moves() -> None:
    loop = ec2()
    for _ in range(60):
        assert loop.evaluate(4, counted=4, warming=0, datapoint=46) == 4


def test_instances_warming_up_are_not_added_twice_and_block_scale_in() -> None:
    loop = ec2()
    for _ in range(2):
        loop.evaluate(4, counted=2, warming=2, datapoint=90)
    # 2 counted instances at 90 %: ceil(3.6) = 4, already the desired capacity.
    assert loop.evaluate(4, counted=2, warming=2, datapoint=90) == 4
    calm = ec2()
    for _ in range(20):
        assert calm.evaluate(4, counted=3, warming=1, datapoint=10) == 4


def test_ecs_scale_in_waits_for_the_scale_in_cooldown() -> None:
    loop = EcsTargetTracking(EcsParameters(AlarmParameters(TARGET), 1, 10, scale_in_cooldown_s=300))
    desired, now = 8, 0.0
    for _ in range(15):
        desired = loop.evaluate(now, desired, desired, 20.0)
        now += 60
    assert desired == 4  # ceil(8 x 20 / 50)
    # Still low: each further scale-in only once 300 s have passed since the last one.
    times = []
    for _ in range(10):
        before = desired
        desired = loop.evaluate(now, desired, desired, 20.0)
        if desired != before:
            times.append(now)
        now += 60
    assert times == [840 + 300, 840 + 600]
    assert desired == 1  # 4 -> 2 -> 1 (minCapacity)


def test_ecs_scale_out_after_three_minutes_over_target() -> None:
    loop = EcsTargetTracking(EcsParameters(AlarmParameters(TARGET), 1, 10))
    assert loop.evaluate(0, 2, 2, 100.0) == 2
    assert loop.evaluate(60, 2, 2, 100.0) == 2
    assert loop.evaluate(120, 2, 2, 100.0) == 4
