"""The CloudWatch metrics escala knows by name (`cpu`, `requests`, `connections`, ...),
per platform: pure data, apart from escala.ops.metrics (which reads them through boto3)
so that `escala metrics --help` can list the names without loading the AWS client.
"""

import dataclasses
from collections.abc import Callable

from escala.api.chat_service_spec import (
    CONNECTIONS_METRIC,
    DELIVERIES_METRIC,
    MESSAGES_METRIC,
    METRICS_NAMESPACE,
    SERVICE_DIMENSION,
    Platform,
)

Dimensions = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Metric:
    """A CloudWatch metric as escala names it; `dimensions` turns the service's names
    (its ASG, ECS cluster/service, load balancer) into the metric's dimensions."""

    title: str
    unit: str
    namespace: str
    name: str
    stat: str
    dimensions: Callable[["Names"], Dimensions]


@dataclasses.dataclass(frozen=True)
class Names:
    """The AWS names a chat service's metrics are filed under."""

    service: str
    group: str  # the EC2 case's Auto Scaling Group
    ecs: str  # the Fargate case's ECS cluster and service (same name)
    load_balancer: str | None  # `app/<name>/<id>`; None until the ALB exists


def _asg(n: Names) -> Dimensions:
    return (("AutoScalingGroupName", n.group),)


def _ecs(n: Names) -> Dimensions:
    return (("ClusterName", n.ecs), ("ServiceName", n.ecs))


def _alb(n: Names) -> Dimensions:
    return (("LoadBalancer", n.load_balancer or ""),)


def _chat(n: Names) -> Dimensions:
    return ((SERVICE_DIMENSION, n.service),)


ALB = "AWS/ApplicationELB"
_CHAT_METRICS = {
    "connections": Metric("connected clients per replica", "clients", METRICS_NAMESPACE,
                          CONNECTIONS_METRIC, "Average", _chat),
    "messages": Metric("messages broadcast per second, all replicas", "msgs/s",
                       METRICS_NAMESPACE, MESSAGES_METRIC, "Sum", _chat),
    "deliveries": Metric("messages delivered to clients per second, all replicas", "msgs/s",
                         METRICS_NAMESPACE, DELIVERIES_METRIC, "Sum", _chat),
    "requests": Metric("load balancer requests per period", "requests", ALB, "RequestCount",
                       "Sum", _alb),
    "response-time": Metric("target response time", "s", ALB, "TargetResponseTime",
                            "Average", _alb),
    "active-connections": Metric("load balancer connections", "connections", ALB,
                                 "ActiveConnectionCount", "Sum", _alb),
}  # fmt: skip
# Application Auto Scaling has no group metrics of its own: ECS publishes task counts
# under Container Insights, which escala turns on for the chat's ECS cluster.
CATALOGUE: dict[Platform, dict[str, Metric]] = {
    Platform.ec2: {
        "cpu": Metric("average CPU of the instances", "%", "AWS/EC2", "CPUUtilization",
                      "Average", _asg),
        "desired": Metric("desired instances", "instances", "AWS/AutoScaling",
                          "GroupDesiredCapacity", "Average", _asg),
        "running": Metric("in-service instances", "instances", "AWS/AutoScaling",
                          "GroupInServiceInstances", "Average", _asg),
        **_CHAT_METRICS,
    },
    Platform.fargate: {
        "cpu": Metric("average CPU of the tasks", "%", "AWS/ECS", "CPUUtilization", "Average",
                      _ecs),
        "memory": Metric("average memory of the tasks", "%", "AWS/ECS", "MemoryUtilization",
                         "Average", _ecs),
        "desired": Metric("desired tasks", "tasks", "ECS/ContainerInsights", "DesiredTaskCount",
                          "Average", _ecs),
        "running": Metric("running tasks", "tasks", "ECS/ContainerInsights", "RunningTaskCount",
                          "Average", _ecs),
        **_CHAT_METRICS,
    },
}  # fmt: skip
# A cluster's instance groups: the same three per group.
CLUSTER_CATALOGUE = {k: CATALOGUE[Platform.ec2][k] for k in ("cpu", "desired", "running")}
