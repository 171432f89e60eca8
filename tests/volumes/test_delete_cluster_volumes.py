"""`delete cluster` and the volumes: what the EBS CSI driver made for the default class
goes with the cluster (found by the tags the driver is configured with); retained ones
(the gp3-retain class, `escala create volume`) stay unless told, shared ones always, and
the command says which it kept and why. Against moto, through the CLI."""

import json

import boto3

from escala.cloud.aws.tags import as_dict, as_list, csi_volume_tags, ownership_tag
from escala.kube.storage_classes import storage_classes
from tests.cli.run import escala
from tests.reconcile.specs import NAME, ZONES
from tests.volumes.test_static_volumes import NEW


def _made_by_the_driver(storage_class: dict, claim: str) -> str:
    """A volume as the driver creates it for a claim of `storage_class`: its flags' tags
    (`--k8s-tag-cluster-id`, `--extra-tags`) and the class's `tagSpecification_N`."""
    tags = {ownership_tag(NAME): "owned", **csi_volume_tags(NAME),
            "Name": f"{NAME}-dynamic-pvc-{claim}", "ebs.csi.aws.com/cluster": "true",
            "kubernetes.io/created-for/pvc/name": claim}  # fmt: skip
    for key, value in storage_class["parameters"].items():
        if key.startswith("tagSpecification_"):
            tag, _, tag_value = value.partition("=")
            tags[tag] = tag_value
    return boto3.client("ec2").create_volume(
        AvailabilityZone=ZONES[0], Size=10, VolumeType="gp3", Encrypted=True,
        TagSpecifications=[{"ResourceType": "volume", "Tags": as_list(tags)}],
    )["VolumeId"]  # fmt: skip


def _shared() -> str:
    tags = [{"Key": ownership_tag(NAME), "Value": "shared"}]
    return boto3.client("ec2").create_volume(
        AvailabilityZone=ZONES[1], Size=5,
        TagSpecifications=[{"ResourceType": "volume", "Tags": tags}],
    )["VolumeId"]  # fmt: skip


def _left() -> set[str]:
    return {v["VolumeId"] for v in boto3.client("ec2").describe_volumes()["Volumes"]}


def test_delete_cluster_deletes_the_drivers_volumes_and_keeps_retained_and_shared(
    capsys, store
) -> None:
    default, retained_class = storage_classes()
    history = _made_by_the_driver(default, "data-postgres-0")
    kept_claim = _made_by_the_driver(retained_class, "reports")
    assert escala(capsys, *NEW, "--state", store.url, "--yes").code == 0
    [static] = [v["VolumeId"] for v in boto3.client("ec2").describe_volumes()["Volumes"]
                if as_dict(v.get("Tags")).get("escala.io/volume") == "chat-history"]  # fmt: skip
    shared = _shared()

    dry = escala(capsys, "delete", "cluster", "--name", NAME, "--state", store.url, "-o", "json")
    assert dry.code == 0, dry.err
    plan = json.loads(dry.out)
    assert [c["name"] for c in plan["changes"] if c["kind"] == "EBSVolume"] == [
        f"{NAME}-dynamic-pvc-data-postgres-0"
    ]
    reasons = {k["id"]: k["reason"] for k in plan["kept"]}
    assert set(reasons) == {kept_claim, static, shared}
    assert reasons[shared].startswith("shared") and reasons[static].startswith("retained")

    gone = escala(capsys, "delete", "cluster", "--name", NAME, "--state", store.url, "--yes")
    assert gone.code == 0, gone.err
    assert "Kept 3 volume(s)" in gone.out and "--delete-retained-volumes deletes it" in gone.out
    assert _left() == {kept_claim, static, shared}
    assert not store.has_cluster(NAME)

    told = escala(capsys, "delete", "cluster", "--name", NAME, "--state", store.url, "--yes",
                  "--delete-retained-volumes")  # fmt: skip
    assert told.code == 0, told.err
    assert _left() == {shared}  # never the cluster's to delete
    assert history not in _left()
