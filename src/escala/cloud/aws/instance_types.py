"""Which EC2 instance types a region offers, so a mixed instances policy naming a type
that does not exist there is refused before anything is written."""

from botocore.exceptions import BotoCoreError, ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError

DAY2_ACTIONS = ("ec2:DescribeInstanceTypeOfferings",)


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
