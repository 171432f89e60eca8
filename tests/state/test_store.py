"""The state store keeps the same layout in S3 (moto server) and in a directory."""

import boto3
import pytest
import yaml

from escala.api import Cluster, InstanceGroup, ObjectMeta
from escala.api.chat_deployment import ChatDeployment
from escala.api.chat_service_spec import ChatService, ChatServiceSpec, Platform
from escala.api.types import InstanceGroupSpec, Role
from escala.errors import AlreadyExists, NotFound, SpecInvalid, UsageError
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


def test_the_chat_deployment_is_stored_as_asked_under_its_cluster(store) -> None:
    """Only what a flag set is written, so a default left alone stays escala's; the
    replica count is the first deploy's only and is not kept."""
    name = "proyecto.k8s.local"
    store.create_cluster(_cluster())
    assert store.get_chat_deployment(name) is None
    chat = ChatDeployment.for_cluster(name, "1.31.2", "eu-west-1", max_replicas=20, replicas=3)
    store.put_chat_deployment(chat)

    assert yaml.safe_load(store.objects.read(f"{name}/chatdeployment") or b"") == {
        "apiVersion": "escala.io/v1alpha1",
        "kind": "ChatDeployment",
        "metadata": {"name": name},
        "spec": {"kubernetesVersion": "1.31.2", "region": "eu-west-1", "maxReplicas": 20},
    }
    stored = store.get_chat_deployment(name)
    assert stored is not None
    assert (stored.spec.max_replicas, stored.spec.min_replicas, stored.spec.replicas) == (
        20,
        2,
        None,
    )
    assert store.list_clusters() == [name]

    store.delete_chat_deployment(name)
    assert store.get_chat_deployment(name) is None
    store.put_chat_deployment(chat)
    store.delete_cluster(name)
    assert store.get_chat_deployment(name) is None
    assert store.objects.list(f"{name}/") == []


def test_a_hand_edited_chat_deployment_is_refused_naming_the_field(store) -> None:
    store.objects.write(
        "proyecto.k8s.local/chatdeployment",
        b"apiVersion: escala.io/v1alpha1\nkind: ChatDeployment\nmetadata: {name: x}\n"
        b"spec: {kubernetesVersion: '1.31.2', region: eu-west-1, maxReplica: 20}\n",
    )
    with pytest.raises(SpecInvalid) as e:
        store.get_chat_deployment("proyecto.k8s.local")
    assert "spec.maxReplica: unknown field; did you mean 'maxReplicas'?" in str(e.value)
    assert "proyecto.k8s.local/chatdeployment" in str(e.value)
