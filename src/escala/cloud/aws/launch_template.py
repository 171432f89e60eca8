"""The launch template of one instance group: image, type, root disk, IMDSv2, user-data,
basic or detailed monitoring.

A change makes a new *version* and makes it the template's *default*; the group's ASG
is then pointed at that explicit version number (an instance whose version differs
from its ASG's needs updating). The default matters to anything that launches from
the template without naming a version (a console user, moto's ASGs): it must launch
the current spec too. `find` therefore compares the *default* version with the spec,
so an apply interrupted between the two calls is finished by the next run.
"""

import base64
import dataclasses
import hashlib
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.instance_profile import InstanceProfile
from escala.cloud.aws.key_pair import KeyPair
from escala.cloud.aws.security_group import SecurityGroup
from escala.cloud.aws.session import ClientFactory, call
from escala.cloud.aws.tags import as_list, owned_filters, tag_specifications
from escala.errors import UsageError
from escala.reconcile.retry import error_code, is_not_found
from escala.reconcile.task import FieldChange, Fields, Owned, Task


def user_data_digest(user_data: str) -> str:
    """What the plan shows of the user-data: its size and hash, never its content."""
    return f"sha256:{hashlib.sha256(user_data.encode()).hexdigest()[:12]} ({len(user_data)} bytes)"


def resolve_image(cloud: ClientFactory, image: str) -> str:
    """An AMI ID from the spec's image: `ami-...`, or kops's `<owner>/<name>` (newest match).

    Raises UsageError naming the field when no image matches.
    """
    ec2 = cloud.client("ec2")
    if image.startswith("ami-"):
        query: dict[str, Any] = {"ImageIds": [image]}
    else:
        owner, _, name = image.partition("/")
        if not name:
            raise UsageError(
                f"spec.image: {image!r} is neither an AMI ID (ami-...) nor <owner>/<name>"
            )
        query = {"Owners": [owner], "Filters": [{"Name": "name", "Values": [name]}]}
    try:
        images = ec2.describe_images(**query)["Images"]
    except ClientError as e:
        if not error_code(e).startswith("InvalidAMIID"):  # NotFound, Malformed
            raise
        images = []
    if not images:
        raise UsageError(
            f"spec.image: no AMI matches {image!r} in region {cloud.region}; set the instance "
            "group's image to an existing AMI ID or <owner>/<name> (`escala edit instancegroup`)"
        )
    return str(max(images, key=lambda i: i.get("CreationDate", ""))["ImageId"])


def launch_template_id(cloud: ClientFactory, name: str) -> str | None:
    """The ID of the launch template named `name`, None if there is none."""
    try:
        found = cloud.client("ec2").describe_launch_templates(LaunchTemplateNames=[name])
    except ClientError as e:
        if is_not_found(e):
            return None
        raise
    return str(found["LaunchTemplates"][0]["LaunchTemplateId"])


@dataclasses.dataclass(eq=False, kw_only=True)
class LaunchTemplate(Task):
    kind = "LaunchTemplate"
    iam_actions = (
        "ec2:DescribeImages",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:ModifyLaunchTemplate",
        "ec2:DeleteLaunchTemplate",
        "ec2:CreateTags",
    )

    image: str
    machine_type: str
    root_volume_size: int
    root_volume_type: str
    instance_profile: InstanceProfile
    security_groups: list[SecurityGroup]
    key_pair: KeyPair | None
    user_data: str = dataclasses.field(repr=False)
    # 1-minute instance metrics (CloudWatch bills them) instead of 5-minute ones: what
    # CPU target tracking should act on (EC2 Auto Scaling user guide).
    detailed_monitoring: bool = False
    image_id: str | None = dataclasses.field(default=None, init=False)
    version: int | None = dataclasses.field(default=None, init=False)
    latest_version: int | None = dataclasses.field(default=None, init=False)

    def desired(self) -> Fields:
        return {
            "imageId": self.image_id,
            "instanceType": self.machine_type,
            "rootVolume": f"{self.root_volume_size}GiB {self.root_volume_type} encrypted",
            "metadataHttpTokens": "required",
            "instanceProfile": self.instance_profile.name,
            "securityGroups": sorted(g.name for g in self.security_groups),
            "keyName": self.key_pair.name if self.key_pair else None,
            "userData": user_data_digest(self.user_data),
            "detailedMonitoring": self.detailed_monitoring,
        }

    def prepare(self, cloud: ClientFactory) -> None:
        self.image_id = resolve_image(cloud, self.image)

    def find(self, cloud: ClientFactory) -> Fields | None:
        ec2 = cloud.client("ec2")
        try:
            templates = ec2.describe_launch_templates(LaunchTemplateNames=[self.name])
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        template = templates["LaunchTemplates"][0]
        self.id = template["LaunchTemplateId"]
        self.version = int(template["DefaultVersionNumber"])
        self.latest_version = int(template["LatestVersionNumber"])
        data = ec2.describe_launch_template_versions(
            LaunchTemplateId=self.id, Versions=[str(self.version)]
        )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        disks = data.get("BlockDeviceMappings", [{}])
        ebs = disks[0].get("Ebs", {}) if disks else {}
        by_id = {g.id: g.name for g in self.security_groups}
        profile = data.get("IamInstanceProfile", {})
        return {
            "imageId": data.get("ImageId"),
            "instanceType": data.get("InstanceType"),
            "rootVolume": f"{ebs.get('VolumeSize')}GiB {ebs.get('VolumeType')}"
            + (" encrypted" if ebs.get("Encrypted") else " unencrypted"),
            "metadataHttpTokens": data.get("MetadataOptions", {}).get("HttpTokens"),
            "instanceProfile": profile.get("Name") or profile.get("Arn", "").split("/")[-1],
            "securityGroups": sorted(by_id.get(g, g) for g in data.get("SecurityGroupIds", [])),
            "keyName": data.get("KeyName"),
            "userData": user_data_digest(base64.b64decode(data.get("UserData", "")).decode()),
            "detailedMonitoring": bool(data.get("Monitoring", {}).get("Enabled", False)),
        }

    def expect(self, creating: bool) -> None:
        self.version = 1 if creating or self.latest_version is None else self.latest_version + 1

    def _data(self) -> dict[str, Any]:
        instance_tags = {k: v for k, v in self.tags.items() if k != "Name"}
        data: dict[str, Any] = {
            "ImageId": self.image_id,
            "InstanceType": self.machine_type,
            "IamInstanceProfile": {"Name": self.instance_profile.name},
            "SecurityGroupIds": [str(g.id) for g in self.security_groups],
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/sda1",
                    "Ebs": {
                        "VolumeSize": self.root_volume_size,
                        "VolumeType": self.root_volume_type,
                        "Encrypted": True,
                        "DeleteOnTermination": True,
                    },
                }
            ],
            "MetadataOptions": {
                "HttpTokens": "required",
                "HttpPutResponseHopLimit": 2,
                "HttpEndpoint": "enabled",
            },
            "UserData": base64.b64encode(self.user_data.encode()).decode(),
            "Monitoring": {"Enabled": self.detailed_monitoring},
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": as_list(self.tags)},
                {"ResourceType": "volume", "Tags": as_list(instance_tags)},
            ],
        }
        if self.key_pair is not None:
            data["KeyName"] = self.key_pair.name
        return data

    def create(self, cloud: ClientFactory) -> None:
        template = cloud.client("ec2").create_launch_template(
            LaunchTemplateName=self.name,
            LaunchTemplateData=self._data(),
            TagSpecifications=tag_specifications("launch-template", self.tags),
        )["LaunchTemplate"]
        self.id = template["LaunchTemplateId"]
        self.version = self.latest_version = int(template["LatestVersionNumber"])

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        ec2 = cloud.client("ec2")
        version = ec2.create_launch_template_version(
            LaunchTemplateId=self.id, LaunchTemplateData=self._data()
        )["LaunchTemplateVersion"]
        self.version = self.latest_version = int(version["VersionNumber"])
        ec2.modify_launch_template(LaunchTemplateId=self.id, DefaultVersion=str(self.version))

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        cloud.client("ec2").delete_launch_template(LaunchTemplateId=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        answer = cloud.client("ec2").describe_launch_templates(Filters=owned_filters(cluster_name))
        return [
            Owned(cls.kind, t["LaunchTemplateName"], t["LaunchTemplateId"], cls.delete_id)
            for t in answer["LaunchTemplates"]
        ]


# What `resolve_version` calls (validate, rolling-update): part of the operator policy.
DAY2_ACTIONS = ("ec2:DescribeLaunchTemplates",)


def resolve_version(aws: ClientFactory, template: dict[str, Any]) -> str:
    """An ASG's launch-template reference as a version number ($Latest/$Default resolved)."""
    version = str(template.get("Version") or "$Default")
    if version not in ("$Latest", "$Default"):
        return version
    kwargs = (
        {"LaunchTemplateIds": [template["LaunchTemplateId"]]}
        if template.get("LaunchTemplateId")
        else {"LaunchTemplateNames": [template["LaunchTemplateName"]]}
    )
    describe = aws.client("ec2").describe_launch_templates
    found = call("reading launch template", describe, **kwargs)["LaunchTemplates"][0]
    key = "LatestVersionNumber" if version == "$Latest" else "DefaultVersionNumber"
    return str(found[key])
