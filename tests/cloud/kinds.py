"""One small graph of tasks per AWS kind, for tests/cloud/test_kinds.py.

`build(changed)` answers fresh task objects every call, as every `escala update` builds
its graph anew: the kind under test comes last, after what it refers to. `changed=True`
is the same graph with one field of the spec changed (`Case.field`).
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.ebs_volume import EbsVolume
from escala.cloud.aws.ecr_repository import EcrRepository
from escala.cloud.aws.ecs_cluster import EcsCluster
from escala.cloud.aws.ecs_service import EcsService
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.iam_role import ECS_TASKS, IamRole
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.key_pair import KeyPair
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.load_balancer import Listener, LoadBalancer, TargetGroup
from escala.cloud.aws.log_group import LogGroup
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.scalable_target import ECS_CPU, ScalableTarget, ServiceScalingPolicy
from escala.cloud.aws.scaling_policy import ASG_CPU, ScalingPolicy, TrackedMetric
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.tags import cluster_tags
from escala.cloud.aws.task_definition import TaskDefinition
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.task import Task

OWNER = "kinds.k8s.local"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
# One of the public Ubuntu AMIs moto ships, named the kops way (<owner>/<name>).
IMAGE = "099720109477/ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"
CHAT_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala"


def _public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return line.decode() + " admin@escala"


PUBLIC_KEYS = (_public_key(), _public_key())


def _tags(name: str) -> dict[str, str]:
    return cluster_tags(OWNER, name)


def _policy(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def _vpc() -> Vpc:
    return Vpc(name=OWNER, cidr="172.20.0.0/16", tags=_tags(OWNER))


def _subnets(vpc: Vpc, count: int = 2) -> list[Subnet]:
    return [
        Subnet(
            name=f"{zone}.{OWNER}",
            vpc=vpc,
            zone=zone,
            cidr=f"172.20.{32 * i}.0/19",
            tags=_tags(f"{zone}.{OWNER}"),
        )
        for i, zone in enumerate(ZONES[:count])
    ]


def _group(vpc: Vpc, role: str = "nodes", description: str = "") -> SecurityGroup:
    name = f"{role}.{OWNER}"
    return SecurityGroup(
        name=name, vpc=vpc, description=description or f"{role} of {OWNER}", tags=_tags(name)
    )


def _role(role: str = "nodes", policy: dict[str, Any] | None = None, **kw: Any) -> IamRole:
    name = f"{role}.{OWNER}"
    policy = policy or _policy("ec2:DescribeInstances")
    return IamRole(name=name, policy=policy, tags=_tags(name), **kw)


def _launch_template(changed: bool = False) -> list[Task]:
    vpc = _vpc()
    group = _group(vpc)
    role = _role()
    profile = InstanceProfile(name=role.name, role=role, tags=_tags(role.name))
    template = LaunchTemplate(
        name=f"nodes.{OWNER}",
        image=IMAGE,
        machine_type="t3.medium" if changed else "t3.small",
        root_volume_size=16,
        root_volume_type="gp3",
        instance_profile=profile,
        security_groups=[group],
        key_pair=None,
        user_data="#cloud-config\n{}\n",
        tags=_tags(f"nodes.{OWNER}"),
    )
    return [vpc, group, role, profile, template]


def _autoscaling_group(changed: bool = False) -> list[Task]:
    tasks = _launch_template()
    vpc, template = tasks[0], tasks[-1]
    assert isinstance(vpc, Vpc) and isinstance(template, LaunchTemplate)
    subnets = _subnets(vpc)
    # min 0: moto launches no instances, and the group deletes at once
    group = AutoscalingGroup(
        name=f"nodes.{OWNER}",
        launch_template=template,
        min_size=0,
        max_size=3 if changed else 2,
        subnets=subnets,
        tags=_tags(f"nodes.{OWNER}"),
    )
    return [*tasks, *subnets, group]


def _load_balancer(changed: bool = False) -> list[Task]:
    vpc = _vpc()
    subnets = _subnets(vpc, 3)
    group = _group(vpc, "alb")
    balancer = LoadBalancer(
        name="chat-kinds",
        subnets=subnets if changed else subnets[:2],
        security_groups=[group],
        type="application",
        tags=_tags("chat-kinds"),
    )
    return [vpc, *subnets, group, balancer]


def _target_group(vpc: Vpc, name: str = "chat-kinds", health: str = "/readyz", **kw: Any):
    return TargetGroup(
        name=name,
        vpc=vpc,
        port=3000,
        protocol="HTTP",
        health_check_path=health,
        sticky=True,
        tags=_tags(name),
        **kw,
    )


def _listener(changed: bool = False) -> list[Task]:
    tasks = _load_balancer()
    vpc, balancer = tasks[0], tasks[-1]
    assert isinstance(vpc, Vpc) and isinstance(balancer, LoadBalancer)
    targets = [_target_group(vpc, "chat-kinds"), _target_group(vpc, "chat-kinds-b")]
    listener = Listener(
        name="chat-kinds",
        load_balancer=balancer,
        target_group=targets[changed],
        port=80,
        protocol="HTTP",
        tags=_tags("chat-kinds"),
    )
    return [*tasks, *targets, listener]


def _task_definition(changed: bool = False) -> list[Task]:
    role = _role("task-execution", _policy("logs:CreateLogStream"), trusted_service=ECS_TASKS)
    logs = LogGroup(name="/escala/chat/kinds", tags=_tags("/escala/chat/kinds"))
    definition = TaskDefinition(
        name="chat-kinds",
        image=f"{CHAT_IMAGE}:0.2.0" if changed else f"{CHAT_IMAGE}:0.1.0",
        cpu=256,
        memory=512,
        port=3000,
        execution_role=role,
        log_group=logs,
        region="eu-west-1",
        secrets={"ESCALA_CHAT_REDIS": "/escala/chat/redis"},
        tags=_tags("chat-kinds"),
    )
    return [role, logs, definition]


def _ecs_service(changed: bool = False) -> list[Task]:
    network = _load_balancer()
    vpc, subnets, balancer = network[0], network[1:4], network[-1]
    assert isinstance(vpc, Vpc) and isinstance(balancer, LoadBalancer)
    target = _target_group(vpc, target_type="ip")
    listener = Listener(
        name="chat-kinds",
        load_balancer=balancer,
        target_group=target,
        port=80,
        protocol="HTTP",
        tags=_tags("chat-kinds"),
    )
    tasks_group = _group(vpc, "tasks")
    cluster = EcsCluster(name="chat-kinds", tags=_tags("chat-kinds"))
    definition = _task_definition()
    service = EcsService(
        name="chat-kinds",
        cluster=cluster,
        task_definition=definition[-1],  # type: ignore[arg-type]
        subnets=subnets if changed else subnets[:2],  # type: ignore[arg-type]
        security_groups=[tasks_group],
        target_group=target,
        listener=listener,
        port=3000,
        desired_count=1,
        tags=_tags("chat-kinds"),
    )
    return [*network, target, listener, tasks_group, cluster, *definition, service]


def _scalable_target(changed: bool = False) -> list[Task]:
    tasks = _ecs_service()
    service = tasks[-1]
    assert isinstance(service, EcsService)
    target = ScalableTarget(
        name="chat-kinds", service=service, min_capacity=1, max_capacity=6 if changed else 4
    )
    return [*tasks, target]


def _service_scaling_policy(changed: bool = False) -> list[Task]:
    tasks = _scalable_target()
    target = tasks[-1]
    assert isinstance(target, ScalableTarget)
    policy = ServiceScalingPolicy(
        name="cpu-target",
        target=target,
        target_value=60 if changed else 50,
        metric=TrackedMetric(predefined=ECS_CPU),
    )
    return [*tasks, policy]


def _scaling_policy(changed: bool = False) -> list[Task]:
    tasks = _autoscaling_group()
    group = tasks[-1]
    assert isinstance(group, AutoscalingGroup)
    policy = ScalingPolicy(
        name=f"cpu-target.{OWNER}",
        group=group,
        target_value=40 if changed else 50,
        metric=TrackedMetric(predefined=ASG_CPU),
    )
    return [*tasks, policy]


def _disable_dns_hostnames(cloud: ClientFactory, vpc: Task) -> None:
    cloud.client("ec2").modify_vpc_attribute(VpcId=vpc.id, EnableDnsHostnames={"Value": False})


def _detach_gateway(cloud: ClientFactory, gateway: Task) -> None:
    assert isinstance(gateway, InternetGateway)
    cloud.client("ec2").detach_internet_gateway(InternetGatewayId=gateway.id, VpcId=gateway.vpc.id)


def _remove_profile_role(cloud: ClientFactory, profile: Task) -> None:
    assert isinstance(profile, InstanceProfile)
    cloud.client("iam").remove_role_from_instance_profile(
        InstanceProfileName=profile.name, RoleName=profile.role.name
    )


def _vpc_only(changed: bool) -> list[Task]:
    return [_vpc()]


def _subnet(changed: bool) -> list[Task]:
    vpc = _vpc()
    subnet = _subnets(vpc, 1)[0]
    subnet.public = not changed
    return [vpc, subnet]


def _internet_gateway(changed: bool) -> list[Task]:
    vpc = _vpc()
    return [vpc, InternetGateway(name=OWNER, vpc=vpc, tags=_tags(OWNER))]


def _route_table(changed: bool) -> list[Task]:
    vpc = _vpc()
    subnets = _subnets(vpc)
    gateway = InternetGateway(name=OWNER, vpc=vpc, tags=_tags(OWNER))
    table = RouteTable(
        name=OWNER,
        vpc=vpc,
        internet_gateway=gateway,
        subnets=subnets if changed else subnets[:1],
        tags=_tags(OWNER),
    )
    return [vpc, *subnets, gateway, table]


def _elastic_ip(changed: bool) -> list[Task]:
    name = f"eu-west-1a.{OWNER}"
    return [ElasticIp(name=name, tags=_tags(name))]


def _nat_gateway(changed: bool) -> list[Task]:
    """In the first subnet; changed, in the second: AWS cannot move a NAT gateway."""
    vpc = _vpc()
    subnets = _subnets(vpc)
    address = _elastic_ip(changed)[0]
    assert isinstance(address, ElasticIp)
    name = f"eu-west-1a.{OWNER}"
    gateway = NatGateway(name=name, subnet=subnets[changed], elastic_ip=address, tags=_tags(name))
    return [vpc, *subnets, address, gateway]


def private_route_table(changed: bool) -> list[Task]:
    """A zone's private table: its default route through the NAT gateway."""
    tasks = _nat_gateway(False)
    vpc, subnets, gateway = tasks[0], tasks[1:3], tasks[-1]
    assert isinstance(vpc, Vpc) and isinstance(gateway, NatGateway)
    name = f"private-eu-west-1a.{OWNER}"
    table = RouteTable(
        name=name,
        vpc=vpc,
        nat_gateway=gateway,
        subnets=subnets if changed else subnets[:1],  # type: ignore[arg-type]
        tags=_tags(name),
    )
    return [*tasks, table]


def _security_group(changed: bool) -> list[Task]:
    vpc = _vpc()
    return [vpc, _group(vpc, description="the nodes, renamed" if changed else "")]


def rule_graph(cidr: str = "203.0.113.0/24", managed_ports: tuple[int, ...] = ()) -> list[Task]:
    """SSH from `cidr` into the nodes' group; on `managed_ports` the group revokes CIDRs
    no rule wants."""
    vpc = _vpc()
    group = _group(vpc)
    group.managed_ports = managed_ports
    rule = SecurityGroupRule(name=f"ssh-{OWNER}", group=group, from_port=22, to_port=22, cidr=cidr)
    return [vpc, group, rule]


def _security_group_rule(changed: bool) -> list[Task]:
    return rule_graph()


def _iam_role(changed: bool) -> list[Task]:
    actions = ("ec2:DescribeInstances", "ec2:DescribeRegions")
    return [_role(policy=_policy(*actions[: 2 if changed else 1]))]


def _instance_profile(changed: bool) -> list[Task]:
    role = _role()
    return [role, InstanceProfile(name=role.name, role=role, tags=_tags(role.name))]


def _key_pair(changed: bool) -> list[Task]:
    name = f"kubernetes.{OWNER}"
    return [KeyPair(name=name, public_key=PUBLIC_KEYS[changed], tags=_tags(name))]


def _ebs_volume(changed: bool) -> list[Task]:
    name = f"a.etcd-main.{OWNER}"
    return [EbsVolume(name=name, zone=ZONES[0], size=20 if changed else 10, tags=_tags(name))]


def _target_group_only(changed: bool) -> list[Task]:
    vpc = _vpc()
    return [vpc, _target_group(vpc, health="/healthz" if changed else "/readyz")]


def _ecs_cluster(changed: bool) -> list[Task]:
    return [EcsCluster(name="chat-kinds", tags=_tags("chat-kinds"))]


def _ecr_repository(changed: bool) -> list[Task]:
    name = f"escala/{OWNER}"
    return [EcrRepository(name=name, tags=_tags(name))]


def _allow_mutable_tags(cloud: ClientFactory, repository: Task) -> None:
    cloud.client("ecr").put_image_tag_mutability(
        repositoryName=repository.name, imageTagMutability="MUTABLE"
    )


def _log_group(changed: bool) -> list[Task]:
    name = "/escala/chat/kinds"
    return [LogGroup(name=name, retention_days=30 if changed else 14, tags=_tags(name))]


@dataclasses.dataclass(frozen=True)
class Case:
    """One kind, and how its test changes it.

    A change is one of: the spec (`build(True)` differs in `field`, and the update makes
    AWS match); `drift`, a change made to the resource behind escala's back that the next
    update puts right; `immutable`, a spec change AWS cannot make in place, which is
    refused naming the field. `field` None: nothing of the kind can change.
    """

    kind: type[Task]
    build: Callable[[bool], list[Task]]
    field: str | None
    drift: Callable[[ClientFactory, Task], None] | None = None
    immutable: bool = False
    # Kinds that have no delete of their own go with this one (a listener with its
    # load balancer).
    deleted_with: type[Task] | None = None
    # The plan shows the old value by its AWS ID, not its name (a listener names only
    # the target group it is meant to forward to, a NAT gateway only its own subnet).
    old_shown_by_id: bool = False

    @property
    def id(self) -> str:
        return self.kind.kind


CASES = (
    Case(Vpc, _vpc_only, "dnsHostnames", drift=_disable_dns_hostnames),
    Case(Subnet, _subnet, "publicIp"),
    Case(InternetGateway, _internet_gateway, "vpc", drift=_detach_gateway),
    Case(RouteTable, _route_table, "subnets"),
    # Nothing of an address can change: allocated, found, released.
    Case(ElasticIp, _elastic_ip, None),
    Case(NatGateway, _nat_gateway, "subnet", immutable=True, old_shown_by_id=True),
    Case(SecurityGroup, _security_group, "description", immutable=True),
    # A rule is its content: a changed rule is another rule (test_kinds has its own test).
    Case(SecurityGroupRule, _security_group_rule, None),
    Case(IamRole, _iam_role, "policy"),
    Case(InstanceProfile, _instance_profile, "role", drift=_remove_profile_role),
    Case(KeyPair, _key_pair, "publicKeySha256"),
    Case(LaunchTemplate, _launch_template, "instanceType"),
    Case(AutoscalingGroup, _autoscaling_group, "maxSize"),
    Case(ScalingPolicy, _scaling_policy, "targetValue", deleted_with=AutoscalingGroup),
    Case(LoadBalancer, _load_balancer, "subnets"),
    Case(TargetGroup, _target_group_only, "healthCheck"),
    Case(Listener, _listener, "forwardTo", deleted_with=LoadBalancer, old_shown_by_id=True),
    Case(EbsVolume, _ebs_volume, "size"),
    # Fargate is its only capacity provider, and nothing else of a cluster is compared.
    Case(EcsCluster, _ecs_cluster, None),
    Case(LogGroup, _log_group, "retentionDays"),
    # Made mutable by hand: the next update makes its tags immutable again.
    Case(EcrRepository, _ecr_repository, "tagMutability", drift=_allow_mutable_tags),
    Case(TaskDefinition, _task_definition, "image"),
    Case(EcsService, _ecs_service, "subnets"),
    Case(ScalableTarget, _scalable_target, "maxCapacity"),
    Case(ServiceScalingPolicy, _service_scaling_policy, "targetValue", deleted_with=ScalableTarget),
)
