"""The seed's three steps (3.14) through the CLI: create an EBS volume for the cluster
(moto), put it in the cluster as a PersistentVolume bound to a claim (the Kubernetes API
fake), list and delete it; bad input is named, exits 2 and creates nothing."""

from pathlib import Path

import boto3
import kubernetes_validate
import pytest
import yaml

from escala.cloud.aws.tags import as_dict, as_list, ownership_tag
from escala.state import StateStore
from tests.cli.run import Result, escala
from tests.kube.fake_apiserver import FakeApiServer
from tests.reconcile.specs import NAME, ZONES

NEW = ("create", "volume", "chat-history", "--name", NAME, "--zone", ZONES[1], "--size", "20")


def run(capsys, store: StateStore, *args: str) -> Result:
    return escala(capsys, *args, "--state", store.url)


def volumes(*filters: dict) -> list[dict]:
    return boto3.client("ec2").describe_volumes(Filters=list(filters))["Volumes"]


TAGGED = {"Name": "tag:KubernetesCluster", "Values": [NAME]}


def test_create_plans_then_creates_an_encrypted_gp3_owned_and_retained(capsys, store) -> None:
    args = (*NEW, "--iops", "6000", "--throughput", "500")
    dry = run(capsys, store, *args)
    assert dry.code == 0, dry.err
    assert "EBSVolume/chat-history" in dry.out and "Must specify --yes" in dry.out
    assert volumes() == []

    done = run(capsys, store, *args, "--yes")
    assert done.code == 0, done.err
    [volume] = volumes()
    assert (volume["AvailabilityZone"], volume["Size"], volume["VolumeType"]) == (
        ZONES[1],
        20,
        "gp3",
    )
    assert (volume["Iops"], volume["Throughput"], volume["Encrypted"]) == (6000, 500, True)
    tags = as_dict(volume["Tags"])
    assert tags[ownership_tag(NAME)] == "owned" and tags["KubernetesCluster"] == NAME
    assert tags["escala.io/volume"] == "chat-history"
    assert tags["escala.io/reclaim-policy"] == "Retain"

    again = run(capsys, store, *args, "--yes")
    assert again.code == 2
    assert "'chat-history' already exists" in again.err and volume["VolumeId"] in again.err
    assert len(volumes()) == 1


def test_gp3_takes_what_aws_allows_since_2025(capsys, store) -> None:
    """64 TiB, 80,000 IOPS and 2,000 MiB/s (the EC2 API Reference, CreateVolume): a
    volume past the old 16 TiB / 16,000 IOPS / 1,000 MiB/s is created."""
    args = [*NEW, "--iops", "80000", "--throughput", "2000", "--yes"]
    args[args.index("--size") + 1] = "65536"
    done = run(capsys, store, *args)
    assert done.code == 0, done.err
    [volume] = volumes()
    assert (volume["Size"], volume["Iops"], volume["Throughput"]) == (65536, 80000, 2000)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"--zone": "eu-west-1d"}, "--zone: 'eu-west-1d' is not one of the cluster's zones"),
        ({"--size": "0"}, "--size: 0 GiB is outside 1..65536 GiB for gp3"),
        ({"--size": "65537"}, "--size: 65537 GiB is outside 1..65536"),
        ({"--type": "gp2", "--size": "16385"}, "--size: 16385 GiB is outside 1..16384 GiB for gp2"),
        ({"--type": "st1", "--size": "100"}, "--size: 100 GiB is outside 125..16384 GiB for st1"),
        ({"--type": "sc1", "--size": "16385"}, "--size: 16385 GiB is outside 125..16384 GiB"),
        ({"--type": "io9"}, "--type: 'io9'"),
        ({"--iops": "2999"}, "--iops: 2999 is outside gp3's 3000..10000 for 20 GiB"),
        (
            {"--iops": "12000"},
            "--iops: 12000 is outside gp3's 3000..10000 for 20 GiB (at most 500 per GiB, "
            "80000 in all); lower --iops, or raise --size to 24 GiB",
        ),
        (
            {"--size": "200", "--iops": "80001"},
            "--iops: 80001 is outside gp3's 3000..80000 for 200 GiB (at most 500 per GiB, 80000 "
            "in all); give --iops 80000 or less",
        ),
        ({"--throughput": "124"}, "--throughput: 124 MiB/s is outside gp3's 125..750"),
        (
            {"--throughput": "800"},
            "--throughput: 800 MiB/s is outside gp3's 125..750 for 3000 IOPS (at most 0.25 "
            "MiB/s per IOPS, 2000 in all); lower --throughput, or raise --iops to 3200 IOPS",
        ),
        (
            {"--size": "200", "--iops": "80000", "--throughput": "2001"},
            "--throughput: 2001 MiB/s is outside gp3's 125..2000 for 80000 IOPS (at most 0.25 "
            "MiB/s per IOPS, 2000 in all); give --throughput 2000 or less",
        ),
        ({"--type": "gp2", "--iops": "3000"}, "--iops: only gp3 volumes take it"),
    ],
)
def test_bad_input_is_named_exits_2_and_creates_nothing(capsys, store, flags, named) -> None:
    args = list(NEW)
    for flag, value in flags.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    out = run(capsys, store, *args, "--yes")
    assert out.code == 2
    assert named in out.err
    assert volumes() == []


def test_a_bad_name_is_named(capsys, store) -> None:
    out = run(capsys, store, "create", "volume", "Chat_History", *NEW[3:], "--yes")
    assert out.code == 2 and "NAME: 'Chat_History' is not a volume name" in out.err
    assert volumes() == []


def _driver_made() -> str:
    """A volume as the EBS CSI driver creates one for a claim of the chat's database."""
    tags = {ownership_tag(NAME): "owned", "KubernetesCluster": NAME,
            "ebs.csi.aws.com/cluster": "true", "CSIVolumeName": "pvc-1234",
            "kubernetes.io/created-for/pvc/namespace": "escala-chat",
            "kubernetes.io/created-for/pvc/name": "data-postgres-0"}  # fmt: skip
    return boto3.client("ec2").create_volume(
        AvailabilityZone=ZONES[0], Size=10, VolumeType="gp3", Encrypted=True,
        TagSpecifications=[{"ResourceType": "volume", "Tags": as_list(tags)}],
    )["VolumeId"]  # fmt: skip


def test_get_volumes_lists_static_and_driver_made_volumes_with_their_claims(capsys, store) -> None:
    assert run(capsys, store, *NEW, "--yes").code == 0
    dynamic = _driver_made()
    listed = run(capsys, store, "get", "volumes", "--name", NAME, "-o", "yaml")
    assert listed.code == 0, listed.err
    rows = {v["name"]: v for v in yaml.safe_load_all(listed.out)}
    assert rows["chat-history"]["origin"] == "static"
    [made] = [v for v in rows.values() if v["id"] == dynamic]
    assert (made["origin"], made["claim"]) == ("dynamic", "escala-chat/data-postgres-0")
    table = run(capsys, store, "get", "volumes", "--name", NAME)
    assert "chat-history" in table.out and "escala-chat/data-postgres-0" in table.out


def test_delete_volume_plans_refuses_an_attached_one_and_deletes(capsys, store) -> None:
    assert run(capsys, store, *NEW, "--yes").code == 0
    [volume] = volumes(TAGGED)
    ec2 = boto3.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": ZONES[1]}
    )["Instances"][0]["InstanceId"]
    ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=instance, Device="/dev/xvdg")
    busy = run(capsys, store, "delete", "volume", "chat-history", "--name", NAME, "--yes")
    assert busy.code == 2 and f"attached to {instance}" in busy.err
    ec2.detach_volume(VolumeId=volume["VolumeId"], InstanceId=instance)

    dry = run(capsys, store, "delete", "volume", "chat-history", "--name", NAME)
    assert dry.code == 0 and "Must specify --yes" in dry.out
    assert len(volumes(TAGGED)) == 1
    gone = run(capsys, store, "delete", "volume", "chat-history", "--name", NAME, "--yes")
    assert gone.code == 0, gone.err
    assert volumes(TAGGED) == []
    missing = run(capsys, store, "delete", "volume", "chat-history", "--name", NAME)
    assert missing.code == 2 and "no such volume" in missing.err


def test_the_persistent_volume_names_the_driver_the_volume_and_its_zone(capsys, store) -> None:
    assert run(capsys, store, *NEW, "--yes").code == 0
    [volume] = volumes()
    out = run(capsys, store, "create", "persistentvolume", "chat-history", "--name", NAME,
              "-n", "escala-chat", "-o", "yaml")  # fmt: skip
    assert out.code == 0, out.err
    pv, pvc = yaml.safe_load_all(out.out)
    for obj in (pv, pvc):
        kubernetes_validate.validate(obj, "1.31", strict=True)
    assert pv["spec"]["csi"] == {
        "driver": "ebs.csi.aws.com", "volumeHandle": volume["VolumeId"], "fsType": "ext4"
    }  # fmt: skip
    [term] = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONES[1]]}
    ]
    assert pv["spec"]["capacity"]["storage"] == "20Gi"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert (pvc["metadata"]["namespace"], pvc["spec"]["volumeName"]) == (
        "escala-chat",
        "chat-history",
    )


def test_the_claim_binds_to_the_volume_and_a_second_apply_changes_nothing(
    capsys, store, fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    assert run(capsys, store, *NEW, "--yes").code == 0
    args = ("create", "persistentvolume", "chat-history", "--name", NAME, "--kubeconfig",
            str(kubeconfig))  # fmt: skip
    first = run(capsys, store, *args)
    assert first.code == 0, first.err
    assert first.out.count("created") == 2
    assert "claim default/chat-history: Bound" in first.err
    pv = fake_api.cluster.generic[("persistentvolumes", "", "chat-history")]
    assert pv["spec"]["claimRef"]["name"] == "chat-history" and pv["status"]["phase"] == "Bound"
    second = run(capsys, store, *args)
    assert second.code == 0 and second.out.count("unchanged") == 2


def test_a_persistent_volume_for_a_volume_that_does_not_exist_is_refused(capsys, store) -> None:
    out = run(capsys, store, "create", "persistentvolume", "nope", "--name", NAME, "-o", "yaml")
    assert out.code == 2 and "escala create volume nope" in out.err
