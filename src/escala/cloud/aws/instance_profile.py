"""The instance profile that hands an IAM role to the instances of a launch template."""

import dataclasses

from botocore.exceptions import ClientError

from escala.cloud.aws.iam_role import IamRole, iam_names
from escala.cloud.aws.session import ClientFactory, unless_gone
from escala.cloud.aws.tags import as_dict, as_list, is_owned
from escala.reconcile.retry import is_not_found
from escala.reconcile.task import FieldChange, Fields, Owned, Task


@dataclasses.dataclass(eq=False, kw_only=True)
class InstanceProfile(Task):
    kind = "InstanceProfile"
    iam_actions = (
        "iam:GetInstanceProfile",
        "iam:CreateInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:ListInstanceProfiles",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:PassRole",
    )

    role: IamRole

    def desired(self) -> Fields:
        return {"role": self.role.name}

    def find(self, cloud: ClientFactory) -> Fields | None:
        try:
            profile = cloud.client("iam").get_instance_profile(InstanceProfileName=self.name)
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        self.id = profile["InstanceProfile"]["Arn"]
        roles = [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]]
        return {"role": roles[0] if roles else None}

    def create(self, cloud: ClientFactory) -> None:
        profile = cloud.client("iam").create_instance_profile(
            InstanceProfileName=self.name, Tags=as_list(self.tags)
        )
        self.id = profile["InstanceProfile"]["Arn"]
        self.update(cloud, [])

    def update(self, cloud: ClientFactory, changes: list[FieldChange]) -> None:
        cloud.client("iam").add_role_to_instance_profile(
            InstanceProfileName=self.name, RoleName=self.role.name
        )

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        iam = cloud.client("iam")
        profile = iam.get_instance_profile(InstanceProfileName=resource_id)["InstanceProfile"]
        for role in profile["Roles"]:
            unless_gone(
                iam.remove_role_from_instance_profile,
                InstanceProfileName=resource_id,
                RoleName=role["RoleName"],
            )
        iam.delete_instance_profile(InstanceProfileName=resource_id)

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        iam = cloud.client("iam")
        found = []
        for name in iam_names(cloud, "list_instance_profiles", "InstanceProfiles", cluster_name):
            # GetInstanceProfile carries the tags (moto lacks ListInstanceProfileTags)
            profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
            if is_owned(as_dict(profile.get("Tags")), cluster_name):
                found.append(Owned(cls.kind, name, name, cls.delete_id))
        return found
