"""The region's availability zones, for `create cluster` without `--zones` (as the seed
lists them with `aws ec2 describe-availability-zones`)."""

from botocore.exceptions import BotoCoreError, ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError

DAY2_ACTIONS = ("ec2:DescribeAvailabilityZones",)


def available_zones(cloud: ClientFactory) -> list[str]:
    """The region's available zones, by name; Local and Wavelength Zones left out (kops
    and EKS place masters only in the region's own availability zones)."""
    try:
        answer = cloud.client("ec2").describe_availability_zones(
            Filters=[
                {"Name": "state", "Values": ["available"]},
                {"Name": "zone-type", "Values": ["availability-zone"]},
            ]
        )
    except (ClientError, BotoCoreError) as e:
        raise CloudError(f"listing the availability zones of region {cloud.region}: {e}") from e
    return sorted(z["ZoneName"] for z in answer["AvailabilityZones"])
