"""Completed Cluster + InstanceGroups for tests, built by hand until the spec defaults
(escala.api.defaults, the specs engineer's) can fill them in."""

from escala.api import (
    Cluster,
    ClusterSpec,
    EtcdCluster,
    EtcdMember,
    InstanceGroup,
    InstanceGroupSpec,
    Networking,
    ObjectMeta,
    Role,
    Subnet,
)
from escala.api.types import CLUSTER_LABEL
from escala.state import StateStore

NAME = "proyecto.k8s.local"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
# One of the public Ubuntu AMIs moto ships, named the kops way: <owner>/<name>.
IMAGE = "099720109477/ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721"
SSH_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGlrdmFzZGZhc2RmYXNkZmFzZGZhc2RmYXNkZmFzZGZh admin@escala"
)


def completed_cluster(name: str = NAME, networking: Networking = Networking.kubenet) -> Cluster:
    zones = list(ZONES)
    return Cluster(
        metadata=ObjectMeta(name=name),
        spec=ClusterSpec(
            region="eu-west-1",
            kubernetes_version="1.31.4",
            networking=networking,
            network_cidr="172.20.0.0/16",
            pod_cidr="100.96.0.0/11",
            service_cluster_ip_range="100.64.0.0/13",
            subnets=[
                Subnet(name=z, zone=z, cidr=f"172.20.{32 * i}.0/19") for i, z in enumerate(zones)
            ],
            kubernetes_api_access=["0.0.0.0/0"],
            ssh_access=["203.0.113.0/24"],
            ssh_key_name=f"kubernetes.{name}",
            etcd_clusters=[
                EtcdCluster(
                    name=etcd,
                    etcd_members=[
                        EtcdMember(name=z[-1], instance_group=f"master-{z}") for z in zones
                    ],
                )
                for etcd in ("main", "events")
            ],
            config_base=f"s3://escala-state/{name}",
        ),
    )


def group(name: str, role: Role, subnets: list[str], size: tuple[int, int]) -> InstanceGroup:
    return InstanceGroup(
        metadata=ObjectMeta(name=name, labels={CLUSTER_LABEL: NAME}),
        spec=InstanceGroupSpec(
            role=role,
            machine_type="t3.small",
            min_size=size[0],
            max_size=size[1],
            subnets=subnets,
            image=IMAGE,
            root_volume_size=64 if role is Role.master else 128,
            root_volume_type="gp3",
        ),
    )


def completed_groups() -> list[InstanceGroup]:
    masters = [group(f"master-{z}", Role.master, [z], (1, 1)) for z in ZONES]
    return [*masters, group("nodes", Role.node, list(ZONES), (1, 3))]


def write_cluster(store: StateStore, cluster: Cluster | None = None) -> Cluster:
    """Store a completed cluster, its groups and the admin SSH key, as create cluster does."""
    cluster = cluster or completed_cluster()
    store.put_cluster(cluster, completed=cluster)
    for ig in completed_groups():
        store.put_instance_group(cluster.name, ig)
    store.write_secret(cluster.name, "pki/ssh/public/admin", SSH_PUBLIC_KEY.encode())
    return cluster
