"""The EBS CSI driver and the StorageClasses: valid for every supported Kubernetes version,
installed by the first master at boot and by `deploy chat`, idempotent against the API
fake, and tied to the cluster: its controller runs where its IAM is, that IAM only
creates volumes tagged for the cluster and only touches volumes already tagged so, and
the driver tags every volume the way both the policy and `delete cluster` expect."""

import fnmatch

import kubernetes_validate
import pytest

from escala.cloud.aws.tags import CLUSTER_TAG, csi_volume_tags, owned_filters
from escala.kube import ebs_csi_driver as csi
from escala.kube.addons import storage_addons
from escala.kube.client import KubeClient
from escala.kube.storage_classes import DEFAULT_ANNOTATION, RECLAIM_TAG
from escala.kube.versions import SUPPORTED
from escala.model.cluster.iam_roles import master_policy, node_policy
from tests.kube.test_manifests import by_kind
from tests.reconcile.specs import NAME, completed

ADDONS = storage_addons(NAME, "eu-west-1", csi_volume_tags(NAME))
VOLUME_ACTIONS = {"ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume",
                  "ec2:DeleteVolume", "ec2:ModifyVolume"}  # fmt: skip


@pytest.mark.parametrize("minor", sorted(SUPPORTED))
def test_the_driver_and_classes_validate_for_each_supported_version(minor) -> None:
    for obj in ADDONS:
        kubernetes_validate.validate(obj, minor, strict=True)


def test_the_driver_image_and_sidecars_are_pinned() -> None:
    pods = [
        o["spec"]["template"]["spec"] for o in ADDONS if o["kind"] in ("Deployment", "DaemonSet")
    ]
    images = {c["image"] for pod in pods for c in pod["containers"]}
    assert f"public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:{csi.VERSION}" in images
    assert all(":" in i and not i.endswith(":latest") for i in images)


def test_one_default_class_gp3_encrypted_late_bound_growable_deleted_and_one_retained() -> None:
    classes = [o for o in ADDONS if o["kind"] == "StorageClass"]
    default = [c for c in classes if c["metadata"]["annotations"][DEFAULT_ANNOTATION] == "true"]
    assert [c["metadata"]["name"] for c in default] == ["gp3"]
    [gp3] = default
    assert gp3["provisioner"] == csi.DRIVER == by_kind(ADDONS, "CSIDriver")["metadata"]["name"]
    assert (gp3["parameters"]["type"], gp3["parameters"]["encrypted"]) == ("gp3", "true")
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    assert gp3["allowVolumeExpansion"] is True
    assert gp3["reclaimPolicy"] == "Delete"
    retained = by_kind(ADDONS, "StorageClass", "gp3-retain")
    assert retained["reclaimPolicy"] == "Retain"
    assert retained["parameters"]["tagSpecification_1"] == f"{RECLAIM_TAG}=Retain"


def _controller_args() -> list[str]:
    pod = by_kind(ADDONS, "Deployment", csi.CONTROLLER)["spec"]["template"]["spec"]
    [plugin] = [c for c in pod["containers"] if c["name"] == "ebs-plugin"]
    return plugin["args"]


def _created_volume_tags() -> dict[str, str]:
    """The tags the driver puts on a volume it creates, from its flags (what its
    `--k8s-tag-cluster-id` and `--extra-tags` documentedly add)."""
    flags = dict(a.removeprefix("--").split("=", 1) for a in _controller_args() if "=" in a)
    cluster_id = flags["k8s-tag-cluster-id"]
    extra = dict(pair.split("=", 1) for pair in flags["extra-tags"].split(","))
    return {f"kubernetes.io/cluster/{cluster_id}": "owned", **extra}


def test_every_volume_the_driver_creates_is_found_by_delete_cluster() -> None:
    tags = _created_volume_tags()
    [owned] = owned_filters(NAME)
    assert tags[owned["Name"].removeprefix("tag:")] in owned["Values"]
    assert tags[CLUSTER_TAG] == NAME
    assert not any(k.startswith("kubernetes.io") for k in csi_volume_tags(NAME))  # reserved


def _allowing(policy: dict, action: str) -> list[dict]:
    return [
        s for s in policy["Statement"]
        if any(fnmatch.fnmatchcase(action, a) for a in s["Action"])
    ]  # fmt: skip


def test_the_masters_may_create_only_volumes_tagged_as_the_drivers_are() -> None:
    cluster, _ = completed()
    [create] = _allowing(master_policy(cluster), "ec2:CreateVolume")
    required = create["Condition"]["StringEquals"]
    tags = _created_volume_tags()
    assert required and all(
        tags.get(key.removeprefix("aws:RequestTag/")) == value for key, value in required.items()
    )


def test_every_change_to_a_volume_needs_the_clusters_tag_and_nodes_get_none() -> None:
    cluster, _ = completed()
    for action in VOLUME_ACTIONS - {"ec2:CreateVolume"}:
        statements = _allowing(master_policy(cluster), action)
        assert statements, action
        for statement in statements:
            owned = statement["Condition"]["StringEquals"]
            assert owned[f"aws:ResourceTag/{CLUSTER_TAG}"] == NAME, action
    node = node_policy(cluster)
    assert not [a for a in VOLUME_ACTIONS if _allowing(node, a)]


def test_the_controller_runs_on_the_masters_as_a_bound_service_account() -> None:
    pod = by_kind(ADDONS, "Deployment", csi.CONTROLLER)["spec"]["template"]["spec"]
    assert pod["nodeSelector"][csi.CONTROL_PLANE] == ""
    assert any(t["key"] == csi.CONTROL_PLANE for t in pod["tolerations"] if "key" in t)
    accounts = {o["metadata"]["name"] for o in ADDONS if o["kind"] == "ServiceAccount"}
    assert pod["serviceAccountName"] in accounts
    roles = {(o["kind"], o["metadata"]["name"]) for o in ADDONS if o["kind"].endswith("Role")}
    for bound in (o for o in ADDONS if o["kind"].endswith("Binding")):
        assert (bound["roleRef"]["kind"], bound["roleRef"]["name"]) in roles
        assert {s["name"] for s in bound["subjects"]} <= accounts
    provisioner = next(
        b for b in ADDONS if b.get("roleRef", {}).get("name") == "ebs-external-provisioner-role"
    )
    assert provisioner["subjects"][0]["name"] == pod["serviceAccountName"]


def test_applying_the_driver_twice_changes_nothing_the_second_time(kube: KubeClient) -> None:
    assert {kube.apply(obj) for obj in ADDONS} == {"created"}
    assert {kube.apply(obj) for obj in ADDONS} == {"unchanged"}
