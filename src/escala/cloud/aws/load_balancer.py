"""Load balancers (ELBv2): the API's Network Load Balancer (TCP 443 across the zones to
the masters' 6443) and the chat services' Application Load Balancers (HTTP 80 to the
chat's 3000, sticky: Socket.IO's long-polling needs every request of a session on the
replica that opened it).

Three tasks, as in AWS: the load balancer, its target group (ASGs register their
instances in it, ECS services their tasks' IPs) and the listener joining them.
`discover` also finds the load balancers and target groups Kubernetes made for
`type: LoadBalancer` Services, which carry the same ownership tag.
"""

import dataclasses
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import as_list, owned_by_tags
from escala.cloud.aws.vpc import Vpc
from escala.errors import CloudError
from escala.reconcile.retry import error_code, is_not_found
from escala.reconcile.task import FieldChange, Fields, Owned, Task, ids

API_PORT = 443
MASTER_API_PORT = 6443


def elb_name(prefix: str, cluster_name: str) -> str:
    """ELB names: at most 32 characters of letters, digits and dashes, no dash at the end."""
    return f"{prefix}-{cluster_name.replace('.', '-')}"[:32].rstrip("-")


def api_load_balancer_name(cluster_name: str) -> str:
    """The cluster's API Network Load Balancer: what kubeconfigs and kubelets point at."""
    return elb_name("api", cluster_name)


# What `dns_name` calls (export kubeconfig, access grant): part of the operator policy.
DAY2_ACTIONS = ("elasticloadbalancing:DescribeLoadBalancers",)


def dns_name(cloud: ClientFactory, name: str) -> str | None:
    """The DNS name of the load balancer called `name`, or None when there is none."""
    try:
        found = cloud.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    except ClientError as e:
        if error_code(e) == "LoadBalancerNotFound":
            return None
        raise CloudError(f"looking up the load balancer {name}: {e}") from e
    return str(found[0]["DNSName"]) if found else None


def _owned(
    cloud: ClientFactory, describe: str, list_key: str, arn_key: str, cluster_name: str
) -> Iterator[dict[str, Any]]:
    """The ELBv2 items (load balancers, target groups) whose tags say the cluster owns
    them."""
    elbv2 = cloud.client("elbv2")
    pages = elbv2.get_paginator(describe).paginate()
    by_arn = {item[arn_key]: item for page in pages for item in page[list_key]}

    def read_tags(arns: list[str]) -> Iterator[tuple[str, Any]]:
        answer = elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
        return ((d["ResourceArn"], d.get("Tags")) for d in answer)

    return owned_by_tags(by_arn, read_tags, cluster_name)


def _not_found_is_none(call: Any, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return call(**kwargs)  # type: ignore[no-any-return]
    except ClientError as e:
        if is_not_found(e):
            return None
        raise


@dataclasses.dataclass(eq=False, kw_only=True)
class LoadBalancer(Task):
    kind = "LoadBalancer"
    iam_actions = (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:DeleteLoadBalancer",
        "iam:CreateServiceLinkedRole",
    )
    immutable = frozenset({"type", "scheme"})

    subnets: list[Subnet]
    security_groups: list[SecurityGroup]
    type: str = "network"  # or "application"
    dns_name: str | None = dataclasses.field(default=None, init=False)

    def desired(self) -> Fields:
        return {
            "type": self.type,
            "scheme": "internet-facing",
            "subnets": sorted(s.name for s in self.subnets),
            "securityGroups": sorted(g.name for g in self.security_groups),
        }

    def find(self, cloud: ClientFactory) -> Fields | None:
        elbv2 = cloud.client("elbv2")
        answer = _not_found_is_none(elbv2.describe_load_balancers, Names=[self.name])
        if not answer or not answer["LoadBalancers"]:
            return None
        lb = answer["LoadBalancers"][0]
        self.id = lb["LoadBalancerArn"]
        self.dns_name = lb.get("DNSName")
        subnet_names = {s.id: s.name for s in self.subnets}
        group_names = {g.id: g.name for g in self.security_groups}
        zones = [z["SubnetId"] for z in lb.get("AvailabilityZones", [])]
        return {
            "type": lb["Type"],
            "scheme": lb["Scheme"],
            "subnets": sorted(subnet_names.get(s, s) for s in zones),
            "securityGroups": sorted(group_names.get(g, g) for g in lb.get("SecurityGroups", [])),
        }

    def create(self, cloud: ClientFactory) -> None:
        lb = cloud.client("elbv2").create_load_balancer(
            Name=self.name,
            Type=self.type,
            Scheme="internet-facing",
            Subnets=ids(list(self.subnets)) or [],
            SecurityGroups=ids(list(self.security_groups)) or [],
            Tags=as_list(self.tags),
        )["LoadBalancers"][0]
        self.id = lb["LoadBalancerArn"]
        self.dns_name = lb.get("DNSName")

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        elbv2 = cloud.client("elbv2")
        fields = {c.field for c in changes}
        if "subnets" in fields:
            elbv2.set_subnets(LoadBalancerArn=self.id, Subnets=ids(list(self.subnets)))
        if "securityGroups" in fields:
            elbv2.set_security_groups(
                LoadBalancerArn=self.id, SecurityGroups=ids(list(self.security_groups))
            )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("elbv2").delete_load_balancer(LoadBalancerArn=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        owned = _owned(
            cloud, "describe_load_balancers", "LoadBalancers", "LoadBalancerArn", cluster_name
        )
        return [
            Owned(
                cls.kind,
                lb["LoadBalancerName"],
                lb["LoadBalancerArn"],
                cls.delete_id,
                blocks=[z["SubnetId"] for z in lb.get("AvailabilityZones", [])]
                + lb.get("SecurityGroups", [])
                + [lb["VpcId"]],
            )
            for lb in owned
        ]


@dataclasses.dataclass(eq=False, kw_only=True)
class TargetGroup(Task):
    kind = "TargetGroup"
    iam_actions = (
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
    )
    immutable = frozenset({"protocol", "port", "vpc", "targetType"})

    vpc: Vpc
    port: int = MASTER_API_PORT
    protocol: str = "TCP"  # HTTP: health-checked on `health_check_path`
    health_check_path: str | None = None
    target_type: str = "instance"  # "ip" for Fargate tasks
    sticky: bool = False  # lb_cookie stickiness (HTTP only)

    def _health_check(self) -> str:
        return f"HTTP {self.health_check_path}" if self.health_check_path else self.protocol

    def desired(self) -> Fields:
        desired: Fields = {
            "protocol": self.protocol,
            "port": self.port,
            "vpc": self.vpc.name,
            "healthCheck": self._health_check(),
        }
        if self.target_type != "instance":
            desired["targetType"] = self.target_type
        if self.sticky:
            desired["stickiness"] = "lb_cookie"
        return desired

    def find(self, cloud: ClientFactory) -> Fields | None:
        elbv2 = cloud.client("elbv2")
        answer = _not_found_is_none(elbv2.describe_target_groups, Names=[self.name])
        if not answer or not answer["TargetGroups"]:
            return None
        group = answer["TargetGroups"][0]
        self.id = group["TargetGroupArn"]
        health = group.get("HealthCheckProtocol")
        if health == "HTTP":
            health = f"HTTP {group.get('HealthCheckPath')}"
        actual: Fields = {
            "protocol": group["Protocol"],
            "port": group["Port"],
            "vpc": self.vpc.name if group.get("VpcId") == self.vpc.id else group.get("VpcId"),
            "healthCheck": health,
            "targetType": group.get("TargetType"),
        }
        if self.sticky:
            attributes = elbv2.describe_target_group_attributes(TargetGroupArn=self.id)
            values = {a["Key"]: a["Value"] for a in attributes["Attributes"]}
            if values.get("stickiness.enabled") == "true":
                actual["stickiness"] = values.get("stickiness.type")
        return actual

    def _health_check_params(self) -> dict[str, Any]:
        if not self.health_check_path:
            return {"HealthCheckProtocol": self.protocol}
        return {"HealthCheckProtocol": "HTTP", "HealthCheckPath": self.health_check_path}

    def create(self, cloud: ClientFactory) -> None:
        group = cloud.client("elbv2").create_target_group(
            Name=self.name,
            Protocol=self.protocol,
            Port=self.port,
            VpcId=self.vpc.id,
            TargetType=self.target_type,
            Tags=as_list(self.tags),
            **self._health_check_params(),
        )["TargetGroups"][0]
        self.id = group["TargetGroupArn"]
        self._set_stickiness(cloud)

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        fields = {c.field for c in changes}
        if "healthCheck" in fields:
            cloud.client("elbv2").modify_target_group(
                TargetGroupArn=self.id, **self._health_check_params()
            )
        if "stickiness" in fields:
            self._set_stickiness(cloud)

    def _set_stickiness(self, cloud: ClientFactory) -> None:
        if not self.sticky:
            return
        cloud.client("elbv2").modify_target_group_attributes(
            TargetGroupArn=self.id,
            Attributes=[
                {"Key": "stickiness.enabled", "Value": "true"},
                {"Key": "stickiness.type", "Value": "lb_cookie"},
            ],
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("elbv2").delete_target_group(TargetGroupArn=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        owned = _owned(
            cloud, "describe_target_groups", "TargetGroups", "TargetGroupArn", cluster_name
        )
        return [
            Owned(
                cls.kind,
                g["TargetGroupName"],
                g["TargetGroupArn"],
                cls.delete_id,
                blocks=[g["VpcId"]] if g.get("VpcId") else [],
                blocked_by=g.get("LoadBalancerArns", []),
            )
            for g in owned
        ]


@dataclasses.dataclass(eq=False, kw_only=True)
class Listener(Task):
    """Deleted with its load balancer, so `delete cluster` need not find it."""

    kind = "Listener"
    iam_actions = (
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:ModifyListener",
    )

    load_balancer: LoadBalancer
    target_group: TargetGroup
    port: int = API_PORT
    protocol: str = "TCP"

    def desired(self) -> Fields:
        return {"port": self.port, "protocol": self.protocol, "forwardTo": self.target_group.name}

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.load_balancer.id is None:
            return None
        listeners = cloud.client("elbv2").describe_listeners(LoadBalancerArn=self.load_balancer.id)
        for listener in listeners["Listeners"]:
            if listener["Port"] == self.port:
                self.id = listener["ListenerArn"]
                arns = [a.get("TargetGroupArn") for a in listener.get("DefaultActions", [])]
                forward = arns[0] if arns else None
                return {
                    "port": listener["Port"],
                    "protocol": listener["Protocol"],
                    "forwardTo": self.target_group.name
                    if forward == self.target_group.id
                    else forward,
                }
        return None

    def _actions(self) -> list[dict[str, str]]:
        return [{"Type": "forward", "TargetGroupArn": str(self.target_group.id)}]

    def create(self, cloud: ClientFactory) -> None:
        listener = cloud.client("elbv2").create_listener(
            LoadBalancerArn=self.load_balancer.id,
            Protocol=self.protocol,
            Port=self.port,
            DefaultActions=self._actions(),
            Tags=as_list(self.tags),
        )["Listeners"][0]
        self.id = listener["ListenerArn"]

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("elbv2").modify_listener(
            ListenerArn=self.id,
            Protocol=self.protocol,
            Port=self.port,
            DefaultActions=self._actions(),
        )
