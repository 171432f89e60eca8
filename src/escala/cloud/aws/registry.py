"""The registry of AWS kinds escala knows: what it builds and what it deletes.

`ALL_TASKS` are the task classes the model builds; `ALL_DELETABLE` adds what only
`delete cluster` meets (instances, Kubernetes' classic ELBs); `CHAT_SERVICE_DELETABLE`
is what `delete chatservice` looks for. The operator's
least-privilege IAM policy is `operator_iam_actions()`, the union of every kind's
`iam_actions` and the day-2 actions declared beside the kinds, so a new task cannot
forget to ask for its permissions.
"""

from escala.cloud.aws import (
    autoscaling_group,
    cloudwatch_metrics,
    ecr_login,
    instance,
    instance_types,
    launch_template,
    load_balancer,
    metric_alarm,
    run_command,
    s3_bucket,
    scaling_activity,
    ssm_parameter,
    zones,
)
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.cloud.aws.classic_load_balancer import ClassicLoadBalancer
from escala.cloud.aws.ebs_volume import EbsVolume
from escala.cloud.aws.ecr_repository import EcrRepository
from escala.cloud.aws.ecs_cluster import EcsCluster
from escala.cloud.aws.ecs_service import EcsService
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.iam_role import IamRole
from escala.cloud.aws.instance import Instance
from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.internet_gateway import InternetGateway
from escala.cloud.aws.key_pair import KeyPair
from escala.cloud.aws.launch_template import LaunchTemplate
from escala.cloud.aws.load_balancer import Listener, LoadBalancer, TargetGroup
from escala.cloud.aws.log_group import LogGroup
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.route_table import RouteTable
from escala.cloud.aws.scalable_target import ScalableTarget, ServiceScalingPolicy
from escala.cloud.aws.scaling_policy import ScalingPolicy
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.subnet import Subnet
from escala.cloud.aws.task_definition import TaskDefinition
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.task import Discoverable, Owned, Task

ALL_TASKS: tuple[type[Task], ...] = (
    Vpc,
    Subnet,
    InternetGateway,
    ElasticIp,
    NatGateway,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    IamRole,
    InstanceProfile,
    KeyPair,
    LaunchTemplate,
    AutoscalingGroup,
    ScalingPolicy,
    LoadBalancer,
    TargetGroup,
    Listener,
    EbsVolume,
    EcsCluster,
    LogGroup,
    TaskDefinition,
    EcsService,
    ScalableTarget,
    ServiceScalingPolicy,
    EcrRepository,
)

# Every kind `delete cluster` looks for by ownership tag (listeners and rules go with
# their load balancer / security group).
ALL_DELETABLE: tuple[type[Discoverable], ...] = (
    AutoscalingGroup,
    Instance,
    LoadBalancer,
    ClassicLoadBalancer,
    TargetGroup,
    LaunchTemplate,
    EbsVolume,
    KeyPair,
    InstanceProfile,
    IamRole,
    SecurityGroup,
    RouteTable,
    NatGateway,
    ElasticIp,
    InternetGateway,
    Subnet,
    Vpc,
    EcrRepository,
)

# A chat service owns these too (its Fargate case); clusters never do, so `delete
# cluster` does not look for them. The scalable target goes first: it scales the service;
# its policies before it, with their alarms.
CHAT_SERVICE_DELETABLE: tuple[type[Discoverable], ...] = (
    ServiceScalingPolicy,
    ScalableTarget,
    EcsService,
    EcsCluster,
    TaskDefinition,
    LogGroup,
    *ALL_DELETABLE,
)

# Reads `update`/`delete cluster` make outside any one task.
EXTRA_ACTIONS = ("ec2:DescribeAvailabilityZones", "ec2:DescribeRegions")
# The calls commands make outside the engine, each declared beside its kind: validate and
# rolling-update (ASGs, instances, launch-template versions), export kubeconfig and access
# grant (the API load balancer), create chatservice (SSM parameters), the state bucket,
# restore etcd (SSM Run Command), image push (ECR's login and upload), describe and
# metrics (scaling activities, alarms, target health, GetMetricData).
# create cluster's zones and create instancegroup's instance types.
DAY2_ACTIONS = (
    *autoscaling_group.DAY2_ACTIONS,
    *instance.DAY2_ACTIONS,
    *launch_template.DAY2_ACTIONS,
    *load_balancer.DAY2_ACTIONS,
    *ssm_parameter.DAY2_ACTIONS,
    *s3_bucket.STATE_BUCKET_ACTIONS,
    *run_command.DAY2_ACTIONS,
    *ecr_login.PUSH_IAM_ACTIONS,
    *scaling_activity.DAY2_ACTIONS,
    *metric_alarm.DAY2_ACTIONS,
    *cloudwatch_metrics.DAY2_ACTIONS,
    *zones.DAY2_ACTIONS,
    *instance_types.DAY2_ACTIONS,
)


def operator_iam_actions() -> list[str]:
    """Every IAM action escala's commands call, sorted and without repeats: the
    operator's least-privilege policy (`escala iam create-operator`)."""
    actions = {a for kind in (*ALL_TASKS, *ALL_DELETABLE) for a in kind.iam_actions}
    return sorted(actions | set(EXTRA_ACTIONS) | set(DAY2_ACTIONS))


def find_owned(
    cloud: ClientFactory,
    cluster_name: str,
    kinds: tuple[type[Discoverable], ...] = ALL_DELETABLE,
) -> list[Owned]:
    """Every resource of `kinds` tagged as owned by the cluster (or chat service),
    Kubernetes-made ones included."""
    return [found for kind in kinds for found in kind.discover(cloud, cluster_name)]
