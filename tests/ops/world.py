"""A small cluster for the operations tests: AWS in moto, Kubernetes in the fake.

The instance groups' ASGs and launch templates are made with boto3 directly, following
the naming contract (`<ig>.<cluster>`, explicit launch-template versions, ownership
tags), the way `update cluster` builds them. `Kubelets` plays the machines' part: every
running instance of the cluster registers as a node (masters with kubeadm's static
control-plane pods), and a terminated instance's node goes away, as the cloud controller
manager would do.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from escala.api import Cluster, ClusterSpec, InstanceGroup, InstanceGroupSpec, ObjectMeta, Role
from escala.ops.validate import CONTROL_PLANE_COMPONENTS
from escala.state import StateStore, open_store
from tests.kube.fake_apiserver import MIRROR, FakeCluster

CLUSTER = "proyecto.k8s.local"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
MASTERS = [f"master-{z}" for z in ZONES]
NODES = "nodes"
AMI = "ami-12c6146b"


def _tags(group: str, role: str) -> list[dict[str, str]]:
    return [
        {"Key": "KubernetesCluster", "Value": CLUSTER},
        {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"},
        {"Key": "Name", "Value": f"{group}.{CLUSTER}"},
        {"Key": "escala.io/instancegroup", "Value": group},
        {"Key": "escala.io/role", "Value": role},
    ]


def build_aws(node_count: int = 2) -> dict[str, str]:
    """VPC, subnets, and one launch template + ASG per instance group; returns subnets."""
    ec2, asg = boto3.client("ec2"), boto3.client("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {
        zone: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate(ZONES, start=1)
    }
    groups = [(m, "master", [subnets[m.removeprefix("master-")]], 1) for m in MASTERS]
    groups.append((NODES, "node", list(subnets.values()), node_count))
    for name, role, group_subnets, size in groups:
        full = f"{name}.{CLUSTER}"
        ec2.create_launch_template(
            LaunchTemplateName=full,
            LaunchTemplateData={
                "ImageId": AMI,
                "InstanceType": "t3.medium",
                "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags(name, role)}],
            },
        )
        asg.create_auto_scaling_group(
            AutoScalingGroupName=full,
            LaunchTemplate={"LaunchTemplateName": full, "Version": "1"},
            MinSize=size,
            MaxSize=size,
            DesiredCapacity=size,
            VPCZoneIdentifier=",".join(group_subnets),
            Tags=[{**t, "PropagateAtLaunch": True} for t in _tags(name, role)],
        )
    return subnets


def change_machine_type(group: str, machine_type: str = "t3.large") -> str:
    """What `update cluster` does after `edit ig`: a new template version, made the
    template's default, and the ASG pointed at it by number."""
    ec2, asg = boto3.client("ec2"), boto3.client("autoscaling")
    full = f"{group}.{CLUSTER}"
    version = ec2.create_launch_template_version(
        LaunchTemplateName=full,
        SourceVersion="1",
        LaunchTemplateData={"InstanceType": machine_type},
    )["LaunchTemplateVersion"]["VersionNumber"]
    ec2.modify_launch_template(LaunchTemplateName=full, DefaultVersion=str(version))
    asg.update_auto_scaling_group(
        AutoScalingGroupName=full,
        LaunchTemplate={"LaunchTemplateName": full, "Version": str(version)},
    )
    return str(version)


def group_instances(group: str) -> list[str]:
    found = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{group}.{CLUSTER}"]
    )["AutoScalingGroups"][0]
    return sorted(i["InstanceId"] for i in found["Instances"])


def build_store(path: Path, node_count: int = 2) -> StateStore:
    store = open_store(f"file://{path}")
    cluster = Cluster(
        metadata=ObjectMeta(name=CLUSTER),
        spec=ClusterSpec(region="eu-west-1", kubernetes_version="1.30.4"),
    )
    store.put_cluster(cluster, cluster)
    labels = {"escala.io/cluster": CLUSTER}
    for name in MASTERS:
        spec = InstanceGroupSpec(
            role=Role.master,
            machine_type="t3.medium",
            min_size=1,
            max_size=1,
            subnets=[name.removeprefix("master-")],
        )
        store.put_instance_group(
            CLUSTER, InstanceGroup(metadata=ObjectMeta(name=name, labels=labels), spec=spec)
        )
    spec = InstanceGroupSpec(
        role=Role.node,
        machine_type="t3.medium",
        min_size=node_count,
        max_size=node_count,
        subnets=ZONES,
    )
    store.put_instance_group(
        CLUSTER, InstanceGroup(metadata=ObjectMeta(name=NODES, labels=labels), spec=spec)
    )
    return store


@dataclass
class Kubelets:
    """Registers the cluster's running instances as nodes in the fake, and forgets the
    terminated ones. `sync()` once, or `start()` a thread that syncs continuously.

    Each instance registers once, as a kubelet does (its registration is done at start-up,
    not repeated): a node deleted through the API while its instance still runs, as a drain
    does before terminating, stays gone."""

    fake: FakeCluster
    interval: float = 0.1
    withheld: set[str] = field(default_factory=set)  # instances that never join
    registered: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sync(self) -> None:
        ec2 = boto3.client("ec2")
        running: dict[str, dict[str, str]] = {}
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "tag:KubernetesCluster", "Values": [CLUSTER]}]
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for i in reservation["Instances"]:
                    if i["State"]["Name"] == "running" and i["InstanceId"] not in self.withheld:
                        tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                        running[i["InstanceId"]] = {
                            "name": i["PrivateDnsName"],
                            "zone": i["Placement"]["AvailabilityZone"],
                            "role": tags.get("escala.io/role", "node"),
                        }
        with self.fake.lock:
            known = {
                n["spec"].get("providerID", "").rsplit("/", 1)[-1]: name
                for name, n in self.fake.nodes.items()
            }
            for instance_id, name in known.items():
                if instance_id not in running:
                    self.fake.remove_node(name)
            for instance_id, info in running.items():
                if instance_id not in known and instance_id not in self.registered:
                    self._register(instance_id, info)

    def withhold(self, instance_id: str) -> None:
        """Make an instance one whose kubelet has not joined yet: its node goes, and it
        registers when taken out of `withheld`."""
        self.withheld.add(instance_id)
        self.registered.discard(instance_id)
        with self.fake.lock:
            for name, node in list(self.fake.nodes.items()):
                if node["spec"].get("providerID", "").endswith(f"/{instance_id}"):
                    self.fake.remove_node(name)

    def _register(self, instance_id: str, info: dict[str, str]) -> None:
        self.registered.add(instance_id)
        node = info["name"]
        self.fake.add_node(node, f"aws:///{info['zone']}/{instance_id}", role=info["role"])
        self.fake.add_pod(
            "kube-system",
            f"kube-proxy-{instance_id[-5:]}",
            node,
            {"k8s-app": "kube-proxy"},
            owner=("DaemonSet", "kube-proxy"),
        )
        if info["role"] == "master":
            for component in CONTROL_PLANE_COMPONENTS:
                self.fake.add_pod(
                    "kube-system",
                    f"{component}-{node}",
                    node,
                    {"component": component, "tier": "control-plane"},
                    annotations={MIRROR: "static"},
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sync()

    def start(self) -> "Kubelets":
        self.sync()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
