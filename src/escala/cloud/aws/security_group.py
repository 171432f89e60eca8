"""Security groups (masters, nodes, API load balancer) and their ingress rules.

Rules are tasks of their own, as in kops: the masters' and the nodes' groups refer to
each other, which as fields of one task would be a cycle.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from escala.cloud.aws.ec2_task import Ec2Task
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import tag_specifications
from escala.cloud.aws.vpc import Vpc
from escala.reconcile.retry import is_not_found
from escala.reconcile.task import Fields, Owned, Task


def _revoker(group_id: str, permission: dict[str, Any]) -> Callable[[ClientFactory, str], None]:
    """A delete function (as `Owned` takes) that revokes one ingress permission."""

    def revoke(cloud: ClientFactory, _: str) -> None:
        cloud.client("ec2").revoke_security_group_ingress(
            GroupId=group_id, IpPermissions=[permission]
        )

    return revoke


@dataclasses.dataclass(eq=False, kw_only=True)
class SecurityGroup(Ec2Task):
    kind = "SecurityGroup"
    ec2_describe = "describe_security_groups"
    ec2_id_key = "GroupId"
    iam_actions = (
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:DeleteSecurityGroup",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:CreateTags",
    )
    immutable = frozenset({"description"})

    vpc: Vpc
    description: str
    # Ports whose CIDR rules escala alone manages (kops's RemoveExtraRules): a CIDR no
    # rule task wants any more is revoked. Other rules (Kubernetes adds some for
    # Service load balancers) are never touched.
    managed_ports: tuple[int, ...] = ()

    def desired(self) -> Fields:
        return {"description": self.description}

    def extras(self, cloud: ClientFactory, tasks: list[Task]) -> list[Owned]:
        """CIDR rules on `managed_ports` that no SecurityGroupRule task wants."""
        if self.id is None or not self.managed_ports:
            return []
        wanted = {
            (t.from_port, t.source_cidr)
            for t in tasks
            if isinstance(t, SecurityGroupRule) and t.group is self and t.source_cidr
        }
        group = cloud.client("ec2").describe_security_groups(GroupIds=[self.id])
        found = []
        for permission in group["SecurityGroups"][0].get("IpPermissions", []):
            port = permission.get("FromPort")
            if port not in self.managed_ports or permission.get("ToPort") != port:
                continue
            for ip_range in permission.get("IpRanges", []):
                cidr = ip_range["CidrIp"]
                if (port, cidr) in wanted:
                    continue
                protocol = permission["IpProtocol"]
                revoke = {
                    "IpProtocol": protocol,
                    "FromPort": port,
                    "ToPort": port,
                    "IpRanges": [{"CidrIp": cidr}],
                }
                found.append(
                    Owned(
                        SecurityGroupRule.kind,
                        f"{self.name}: {protocol}/{port} from {cidr}",
                        f"{self.id}/{port}/{cidr}",
                        _revoker(self.id, revoke),
                    )
                )
        return found

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.vpc.id is None:
            return None
        groups = cloud.client("ec2").describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [self.vpc.id]},
                {"Name": "group-name", "Values": [self.name]},
            ]
        )["SecurityGroups"]
        if not groups:
            return None
        self.id = groups[0]["GroupId"]
        return {"description": groups[0]["Description"]}

    def create(self, cloud: ClientFactory) -> None:
        self.id = cloud.client("ec2").create_security_group(
            GroupName=self.name,
            Description=self.description,
            VpcId=self.vpc.id,
            TagSpecifications=tag_specifications("security-group", self.tags),
        )["GroupId"]

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """Revoke the group's own rules first: rules naming other groups keep those alive."""
        ec2 = cloud.client("ec2")
        try:
            group = ec2.describe_security_groups(GroupIds=[resource_id])["SecurityGroups"][0]
        except ClientError as e:
            if is_not_found(e):
                return
            raise
        for permission in group.get("IpPermissions", []):
            try:
                ec2.revoke_security_group_ingress(GroupId=resource_id, IpPermissions=[permission])
            except ClientError as e:
                if not is_not_found(e):  # a rule naming a group already deleted
                    raise
        ec2.delete_security_group(GroupId=resource_id)

    @staticmethod
    def ec2_blocks(item: dict[str, Any]) -> list[str]:
        return [item["VpcId"]]


@dataclasses.dataclass(eq=False, kw_only=True)
class SecurityGroupRule(Task):
    """One ingress rule: from a CIDR, from another group or from an Elastic IP (a NAT
    gateway's address, known once allocated), to a port range (or all)."""

    kind = "SecurityGroupRule"
    iam_actions = ("ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupIngress")

    group: SecurityGroup
    protocol: str = "tcp"  # "-1" means every protocol and port; "4" is IP-in-IP
    from_port: int | None = None
    to_port: int | None = None
    cidr: str | None = None
    source: SecurityGroup | None = None
    address: ElasticIp | None = None

    @property
    def source_cidr(self) -> str | None:
        """The CIDR allowed in: `cidr`, or the address's /32 once it is allocated."""
        if self.address is not None:
            return f"{self.address.public_ip}/32" if self.address.public_ip else None
        return self.cidr

    def _from(self) -> str | None:
        if self.address is not None:
            return self.address.key  # its IP is AWS's to choose: not part of the diff
        return self.cidr if self.cidr else self.source.name if self.source else None

    def desired(self) -> Fields:
        if self.protocol == "-1":
            ports = "all"
        elif self.from_port is None:
            ports = f"protocol {self.protocol}"
        else:
            ports = f"{self.protocol}/{self.from_port}"
            if self.to_port != self.from_port:
                ports += f"-{self.to_port}"
        return {
            "group": self.group.name,
            "ports": ports,
            "from": self._from(),
        }

    def _permission(self) -> dict[str, Any]:
        permission: dict[str, Any] = {"IpProtocol": self.protocol}
        if self.from_port is not None:
            permission.update(FromPort=self.from_port, ToPort=self.to_port)
        if self.source_cidr:
            permission["IpRanges"] = [{"CidrIp": self.source_cidr}]
        elif self.source is not None:
            permission["UserIdGroupPairs"] = [{"GroupId": self.source.id}]
        return permission

    def _matches(self, permission: dict[str, Any]) -> bool:
        if permission.get("IpProtocol") != self.protocol:
            return False
        if self.from_port is not None and (
            permission.get("FromPort") != self.from_port or permission.get("ToPort") != self.to_port
        ):
            return False
        if self.source_cidr:
            return any(r.get("CidrIp") == self.source_cidr for r in permission.get("IpRanges", []))
        return any(
            p.get("GroupId") == (self.source.id if self.source else None)
            for p in permission.get("UserIdGroupPairs", [])
        )

    def find(self, cloud: ClientFactory) -> Fields | None:
        if self.group.id is None or (self.source is not None and self.source.id is None):
            return None
        if self.address is not None and self.source_cidr is None:
            return None
        group = cloud.client("ec2").describe_security_groups(GroupIds=[self.group.id])
        permissions = group["SecurityGroups"][0].get("IpPermissions", [])
        return self.desired() if any(self._matches(p) for p in permissions) else None

    def create(self, cloud: ClientFactory) -> None:
        cloud.client("ec2").authorize_security_group_ingress(
            GroupId=self.group.id, IpPermissions=[self._permission()]
        )
        self.id = self.name

    def delete(self, cloud: ClientFactory) -> None:
        cloud.client("ec2").revoke_security_group_ingress(
            GroupId=self.group.id, IpPermissions=[self._permission()]
        )
