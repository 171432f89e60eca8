"""Which EC2 instance types a region offers, so a mixed instances policy naming a type
that does not exist there is refused before anything is written; and how many vCPUs a
type has, which the chat's CPU policy is relative to."""

from botocore.exceptions import BotoCoreError, ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError, UsageError
from escala.reconcile.retry import error_code

DAY2_ACTIONS = ("ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes")


def instance_vcpus(cloud: ClientFactory, instance_type: str, field: str) -> int:
    """The default vCPUs of `instance_type` (DescribeInstanceTypes); a type the region
    does not know is a UsageError naming `field`."""
    try:
        found = cloud.client("ec2").describe_instance_types(InstanceTypes=[instance_type])
    except ClientError as e:
        if error_code(e) != "InvalidInstanceType":
            raise CloudError(f"reading instance type {instance_type} in {cloud.region}: {e}") from e
        found = {"InstanceTypes": []}
    except BotoCoreError as e:
        raise CloudError(f"reading instance type {instance_type} in {cloud.region}: {e}") from e
    if not found["InstanceTypes"]:
        raise UsageError(
            f"{field}: {instance_type!r} is not an EC2 instance type in {cloud.region}; "
            "use one the region offers, e.g. t3.small (`aws ec2 describe-instance-types`)"
        )
    return int(found["InstanceTypes"][0]["VCpuInfo"]["DefaultVCpus"])


def offered_instance_types(cloud: ClientFactory, instance_types: list[str]) -> set[str]:
    """The subset of `instance_types` the region offers."""
    if not instance_types:
        return set()
    paginator = cloud.client("ec2").get_paginator("describe_instance_type_offerings")
    pages = paginator.paginate(
        LocationType="region",
        Filters=[{"Name": "instance-type", "Values": sorted(set(instance_types))}],
    )
    try:
        return {o["InstanceType"] for page in pages for o in page["InstanceTypeOfferings"]}
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"listing the instance types offered in {cloud.region}: {e}") from e
