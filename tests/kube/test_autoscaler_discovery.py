"""cluster-autoscaler finds the node groups through the AWS API, by tags.

`escala update cluster --yes` builds a cluster in moto (server mode); then the ASGs are
looked up the way cluster-autoscaler's AWS provider does for
`--node-group-auto-discovery=asg:tag=...`: DescribeAutoScalingGroups filtered by each tag
key (the API keeps the groups that carry them all). It must find the node group, with the
maxSize it may grow to, and none of the masters.
"""

import boto3

from escala.cloud.aws.session import ClientFactory
from escala.kube.cluster_autoscaler import args
from escala.ops.update import update_cluster
from escala.state import open_store
from tests.reconcile.specs import NAME, write_cluster


def discover(keys: list[str]) -> list[dict]:
    """The groups the API returns for the tag-key filters (no filtering of our own)."""
    client = boto3.client("autoscaling")
    filters = [{"Name": "tag-key", "Values": [key]} for key in keys]
    pages = client.get_paginator("describe_auto_scaling_groups").paginate(Filters=filters)
    return [g for page in pages for g in page["AutoScalingGroups"]]


def test_cluster_autoscaler_discovers_the_node_group_and_no_master(aws, tmp_path) -> None:
    store = open_store(f"file://{tmp_path}/state")
    write_cluster(store)
    assert update_cluster(store, NAME, ClientFactory(), yes=True).applied

    [flag] = [a for a in args(NAME) if a.startswith("--node-group-auto-discovery=")]
    keys = flag.removeprefix("--node-group-auto-discovery=asg:tag=").split(",")
    found = discover(keys)

    assert [g["AutoScalingGroupName"] for g in found] == [f"nodes.{NAME}"]
    assert set(keys) <= {t["Key"] for t in found[0]["Tags"]}
    assert len(boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]) > 1
    [nodes] = [g for g in store.list_instance_groups(NAME) if g.metadata.name == "nodes"]
    assert found[0]["MaxSize"] == nodes.spec.max_size
    assert found[0]["MinSize"] == nodes.spec.min_size
