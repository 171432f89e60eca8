"""EC2 instances the cluster owns (launched by its ASGs, tagged at launch).

escala never creates instances directly, so this is no task: `delete cluster` only
finds and terminates the ones left, since they hold subnets, security groups and etcd
volumes.
"""

from collections.abc import Mapping
from typing import Any

from escala.cloud.aws.session import ClientFactory, call
from escala.cloud.aws.tags import as_dict, as_list, owned_filters
from escala.reconcile.task import Owned

GONE = ("terminated", "shutting-down")


class Instance:
    kind = "Instance"
    iam_actions = ("ec2:DescribeInstances", "ec2:TerminateInstances")

    @classmethod
    def delete_id(cls, cloud: ClientFactory, resource_id: str) -> None:
        """Terminate, unless deleting its ASG already did."""
        ec2 = cloud.client("ec2")
        reservations = ec2.describe_instances(InstanceIds=[resource_id])["Reservations"]
        states = [i["State"]["Name"] for r in reservations for i in r["Instances"]]
        if states and all(state in GONE for state in states):
            return
        ec2.terminate_instances(InstanceIds=[resource_id])

    @classmethod
    def discover(cls, cloud: ClientFactory, cluster_name: str) -> list[Owned]:
        found = []
        pages = cloud.client("ec2").get_paginator("describe_instances")
        for page in pages.paginate(Filters=owned_filters(cluster_name)):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance["State"]["Name"] in GONE:
                        continue
                    blocks = [g["GroupId"] for g in instance.get("SecurityGroups", [])]
                    blocks += [instance[k] for k in ("SubnetId", "VpcId") if instance.get(k)]
                    tags = as_dict(instance.get("Tags"))
                    group = tags.get("aws:autoscaling:groupName")
                    found.append(
                        Owned(
                            cls.kind,
                            tags.get("Name", instance["InstanceId"]),
                            instance["InstanceId"],
                            cls.delete_id,
                            blocks=blocks,
                            # terminating an instance its ASG still manages only replaces it
                            blocked_by=[group] if group else [],
                        )
                    )
        return found


# The day-2 calls of validate and rolling-update (escala.ops.cloud_groups): part of the
# operator's least-privilege policy (escala.cloud.aws.registry).
DAY2_ACTIONS = ("ec2:DescribeInstances", "ec2:CreateTags", "ec2:TerminateInstances")
LIVE = ["pending", "running", "stopping", "stopped"]


def describe_instances(aws: ClientFactory, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The instances as EC2 describes them, by ID."""
    if not ids:
        return {}
    paginator = aws.client("ec2").get_paginator("describe_instances")
    pages = call(
        f"reading instances {', '.join(ids)}", lambda: list(paginator.paginate(InstanceIds=ids))
    )
    return {
        i["InstanceId"]: i for page in pages for r in page["Reservations"] for i in r["Instances"]
    }


def tag_instances(aws: ClientFactory, ids: list[str], tags: Mapping[str, str], doing: str) -> None:
    call(doing, aws.client("ec2").create_tags, Resources=ids, Tags=as_list(tags))


def live_instances_tagged(aws: ClientFactory, tags: Mapping[str, str], doing: str) -> list[str]:
    """IDs of the instances not yet terminated that carry every one of `tags`, sorted."""
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
    filters.append({"Name": "instance-state-name", "Values": LIVE})
    paginator = aws.client("ec2").get_paginator("describe_instances")
    pages = call(doing, lambda: list(paginator.paginate(Filters=filters)))
    return sorted(
        i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]
    )


def terminate_instance(aws: ClientFactory, instance_id: str, doing: str) -> None:
    call(doing, aws.client("ec2").terminate_instances, InstanceIds=[instance_id])
