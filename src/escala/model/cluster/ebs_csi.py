"""The EBS CSI driver's controller IAM, on the masters' role (the controller runs there).

kops's way (`AddAWSEBSCSIDriverPermissions`): reads are unconditional; a volume may only
be created when the request tags it `KubernetesCluster=<cluster>` (the driver's
`--extra-tags` does, `escala.kube.ebs_csi_driver`), and only tagged at creation; every
change to an existing volume (attach, detach, modify, delete, retag) needs the volume
to carry the cluster's tag already, and retagging may not touch `KubernetesCluster`.
So the driver of one cluster can neither create an untagged volume nor touch another
cluster's.
"""

from typing import Any

from escala.cloud.aws.tags import CLUSTER_TAG, csi_volume_tags

READ = (
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstances",
    "ec2:DescribeSnapshots",
    "ec2:DescribeTags",
    "ec2:DescribeVolumes",
    "ec2:DescribeVolumesModifications",
)
MODIFY_OWNED = ("ec2:AttachVolume", "ec2:DeleteVolume", "ec2:DetachVolume", "ec2:ModifyVolume")
VOLUMES = "arn:aws:ec2:*:*:volume/*"


def ebs_csi_statements(cluster_name: str) -> list[dict[str, Any]]:
    request_tag = {f"aws:RequestTag/{k}": v for k, v in csi_volume_tags(cluster_name).items()}
    resource_tag = {f"aws:ResourceTag/{CLUSTER_TAG}": cluster_name}
    return [
        {"Effect": "Allow", "Action": list(READ), "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateVolume"],
            "Resource": VOLUMES,
            "Condition": {"StringEquals": request_tag},
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": VOLUMES,
            "Condition": {"StringEquals": {**request_tag, "ec2:CreateAction": ["CreateVolume"]}},
        },
        {
            "Effect": "Allow",
            "Action": list(MODIFY_OWNED),
            "Resource": "*",
            "Condition": {"StringEquals": resource_tag},
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
            "Resource": VOLUMES,
            "Condition": {
                "Null": {f"aws:RequestTag/{CLUSTER_TAG}": "true"},
                "StringEquals": resource_tag,
            },
        },
    ]
