"""Writes an hour of CloudWatch datapoints for the chat services `web` (EC2) and `sala`
(Fargate) of docs/scaling.md's "Real output", with PutMetricData, as AWS and the chat
would have published them while a load rose to 1500 clients and fell back.

moto publishes no metric of its own, so this is how the `escala metrics chatservice`
charts there were made: create the two services in `escala sandbox`, run this against
it from the repository root (`PYTHONPATH=. python docs/seed_metrics.py`, the sandbox's
AWS_* variables exported), then the commands the doc shows. One datapoint a minute, the
last one a minute ago (the tests' `put_minutes`); the same numbers every run.
"""

import math

import boto3
from tests.datapoints import put_minutes

MINUTES = 60
PEAK = 1500


def clients(minute: int) -> float:
    """200 clients, rising to PEAK by minute 25, held, and back to 200 by the hour."""
    rise = min(1.0, max(0.0, (minute - 5) / 20))
    fall = min(1.0, max(0.0, (MINUTES - minute) / 12))
    return 200 + (PEAK - 200) * min(rise, fall) + 15 * math.sin(minute / 3)


def steps(minute: int, changes: list[tuple[int, int]], start: int) -> int:
    """The count at `minute` given (minute, new count) changes."""
    count = start
    for at, value in changes:
        if minute >= at:
            count = value
    return count


def load_balancer(name: str) -> str:
    """`app/<name>/<id>`, the LoadBalancer dimension of the ALB called `name`."""
    [found] = boto3.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    return found["LoadBalancerArn"].split(":loadbalancer/", 1)[1]


def seed(service: str, desired_changes: list[tuple[int, int]], lag: int, ec2: bool) -> None:
    minutes = range(MINUTES)
    desired = [steps(m, desired_changes, 2) for m in minutes]
    running = [steps(m, [(at + lag, n) for at, n in desired_changes], 2) for m in minutes]
    total = [clients(m) for m in minutes]
    per_replica = [c / r for c, r in zip(total, running, strict=True)]
    cpu = [8 + 0.07 * p for p in per_replica]
    if ec2:
        group = {"AutoScalingGroupName": f"chat.{service}"}
        put_minutes("AWS/AutoScaling", "GroupDesiredCapacity", group, desired)
        put_minutes("AWS/AutoScaling", "GroupInServiceInstances", group, running)
        put_minutes("AWS/EC2", "CPUUtilization", group, cpu)
    else:
        ecs = {"ClusterName": f"chat-{service}", "ServiceName": f"chat-{service}"}
        put_minutes("ECS/ContainerInsights", "DesiredTaskCount", ecs, desired)
        put_minutes("ECS/ContainerInsights", "RunningTaskCount", ecs, running)
        put_minutes("AWS/ECS", "CPUUtilization", ecs, cpu)
    put_minutes("Escala/Chat", "ConnectedClients", {"Service": service}, per_replica)
    alb = {"LoadBalancer": load_balancer(f"chat-{service}")}
    put_minutes("AWS/ApplicationELB", "ActiveConnectionCount", alb, total)
    response = [0.002 + p / 1e5 for p in per_replica]
    put_minutes("AWS/ApplicationELB", "TargetResponseTime", alb, response)


if __name__ == "__main__":
    # web scales on connections per instance (target 500), sala on CPU.
    seed("web", [(20, 3), (54, 2)], lag=1, ec2=True)
    seed("sala", [(16, 3), (24, 4), (47, 3), (57, 2)], lag=2, ec2=False)
    print(f"wrote {MINUTES} minutes of datapoints for web and sala")
