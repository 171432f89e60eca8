"""EC2 instances the cluster owns (launched by its ASGs, tagged at launch).

escala never creates instances directly, so this is no task: `delete cluster` only
finds and terminates the ones left, since they hold subnets, security groups and etcd
volumes.
"""

from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import as_dict, owned_filters
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
