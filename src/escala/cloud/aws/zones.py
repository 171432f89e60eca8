"""The region's availability zones: for `create cluster` without `--zones` (as the seed
lists them with `aws ec2 describe-availability-zones`), and to check the zones a spec
names before anything is created."""

from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError, UsageError

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


def check_zones(
    cloud: ClientFactory, zones: Iterable[str], flag: str = "--zones", fix: str = ""
) -> None:
    """Refuse zones the region does not have before anything is created: an unknown zone
    otherwise passes the plan and fails `update --yes` halfway, resources left behind.
    The UsageError names `flag`, lists the region's own zones and ends with `fix`."""
    wanted = list(dict.fromkeys(zones))
    have = available_zones(cloud)
    unknown = [z for z in wanted if z not in have]
    if unknown:
        raise UsageError(
            f"{flag}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not "
            f"{'an available zone' if len(unknown) == 1 else 'available zones'} of "
            f"{cloud.region}; its zones are {', '.join(have) or '(none)'}{fix}"
        )
