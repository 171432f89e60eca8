"""`delete chatservice` and `delete cluster` find what to delete by ownership tag alone.
A chat service's name has no dot and a cluster's always has one, so each command refuses
the other's kind of name (exit 2) instead of deleting the other's resources."""

import boto3

from escala.cloud.aws.tags import as_list, cluster_tags
from tests.cli.run import escala

CLUSTER = "k8s.example.com"


def _vpc_of(owner: str) -> str:
    tags = as_list(cluster_tags(owner, f"vpc.{owner}"))
    return boto3.client("ec2").create_vpc(
        CidrBlock="10.7.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}]
    )["Vpc"]["VpcId"]


def _exists(vpc_id: str) -> bool:
    return bool(boto3.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"])


def test_delete_chatservice_refuses_a_cluster_name(aws, state, capsys):
    vpc_id = _vpc_of(CLUSTER)
    result = escala(capsys, "delete", "chatservice", CLUSTER, "--yes", *state)
    assert result.code == 2, result.out
    assert "is not a chat service's name" in result.err and "escala delete cluster" in result.err
    assert _exists(vpc_id)


def test_delete_cluster_refuses_a_chat_service_name(aws, state, capsys):
    vpc_id = _vpc_of("chat")
    result = escala(capsys, "delete", "cluster", "--name", "chat", "--yes", *state)
    assert result.code == 2, result.out
    assert "is not a cluster's name" in result.err and "escala delete chatservice" in result.err
    assert _exists(vpc_id)
