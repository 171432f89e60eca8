"""Completed Cluster + InstanceGroups for the reconcile tests, built as `escala create
cluster` builds them (escala.api.create + escala.api.defaults)."""

from escala.api import Cluster, InstanceGroup, Networking
from escala.api.create import CreateClusterOptions, build_cluster
from escala.api.defaults import complete
from escala.state import StateStore

NAME = "proyecto.k8s.local"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
# One of the public Ubuntu AMIs moto ships, named the kops way: <owner>/<name>
# (the default, Ubuntu 24.04, is not among them).
IMAGE = "099720109477/ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"
SSH_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGlrdmFzZGZhc2RmYXNkZmFzZGZhc2RmYXNkZmFzZGZh admin@escala"
)


def completed(
    networking: Networking = Networking.kubenet, **flags: object
) -> tuple[Cluster, list[InstanceGroup]]:
    options = CreateClusterOptions(
        name=NAME,
        zones=list(ZONES),
        master_size="t3.small",
        node_size="t3.small",
        node_count=1,
        networking=networking,
        image=IMAGE,
        ssh_access=["203.0.113.0/24"],
        **flags,  # type: ignore[arg-type]
    )
    return complete(*build_cluster(options), state_url="s3://escala-state")


def write_cluster(
    store: StateStore, networking: Networking = Networking.kubenet, **flags: object
) -> Cluster:
    """Store a completed cluster, its groups and the admin SSH key, as create cluster does."""
    cluster, groups = completed(networking, **flags)
    store.put_cluster(cluster, completed=cluster)
    for group in groups:
        store.put_instance_group(cluster.name, group)
    store.write_secret(cluster.name, "pki/ssh/public/admin", SSH_PUBLIC_KEY.encode())
    return cluster
