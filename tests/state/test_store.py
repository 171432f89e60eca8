"""The state store keeps the same layout in S3 (moto server) and in a directory."""

import boto3
import pytest

from escala.api import Cluster, InstanceGroup, ObjectMeta
from escala.api.chat_service_spec import ChatService, ChatServiceSpec, Platform
from escala.api.types import InstanceGroupSpec, Role
from escala.errors import AlreadyExists, NotFound, UsageError
from escala.state import open_store


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path):
    if request.param == "file":
        return open_store(f"file://{tmp_path}/state")
    request.getfixturevalue("aws")
    boto3.client("s3").create_bucket(
        Bucket="state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return open_store("s3://state/prefix")


def _cluster(name: str = "proyecto.k8s.local") -> Cluster:
    return Cluster(metadata=ObjectMeta(name=name))


def test_cluster_round_trips_and_lists(store) -> None:
    store.create_cluster(_cluster())
    store.put_instance_group(
        "proyecto.k8s.local",
        InstanceGroup(metadata=ObjectMeta(name="nodes"), spec=InstanceGroupSpec(role=Role.node)),
    )
    assert store.list_clusters() == ["proyecto.k8s.local"]
    assert store.get_cluster("proyecto.k8s.local") == _cluster()
    assert [g.name for g in store.list_instance_groups("proyecto.k8s.local")] == ["nodes"]


def test_creating_twice_is_refused(store) -> None:
    store.create_cluster(_cluster())
    with pytest.raises(AlreadyExists):
        store.create_cluster(_cluster())


def test_delete_removes_every_object(store) -> None:
    store.create_cluster(_cluster())
    store.write_secret("proyecto.k8s.local", "pki/private/ca/key.pem", b"secret")
    store.delete_cluster("proyecto.k8s.local")
    assert store.list_clusters() == []
    assert store.objects.list("proyecto.k8s.local/") == []
    with pytest.raises(NotFound):
        store.get_cluster("proyecto.k8s.local")


def test_unknown_scheme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="s3:// or file://"):
        open_store("gs://bucket")


def test_a_chat_service_named_config_is_not_listed_as_a_cluster(store) -> None:
    """Its key is chatservices/config, shaped like a cluster's <name>/config."""
    store.create_cluster(_cluster())
    store.put_chat_service(
        ChatService(metadata=ObjectMeta(name="config"), spec=ChatServiceSpec(platform=Platform.ec2))
    )
    assert store.list_clusters() == ["proyecto.k8s.local"]
    assert [s.name for s in store.list_chat_services()] == ["config"]
