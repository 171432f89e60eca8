"""The ownership tags every AWS resource escala creates carries (the common contract).

Deletion finds a cluster's resources by these tags, never by the spec, so nothing leaks.
A resource tagged `kubernetes.io/cluster/<name>=shared` belongs to someone else and is
never deleted.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

Item = TypeVar("Item")

CLUSTER_TAG = "KubernetesCluster"
INSTANCE_GROUP_TAG = "escala.io/instancegroup"
ROLE_TAG = "escala.io/role"
ETCD_TAG = "escala.io/etcd"
OWNED = "owned"
SHARED = "shared"


def ownership_tag(cluster_name: str) -> str:
    """`kubernetes.io/cluster/<name>`: the tag Kubernetes' own cloud code also writes."""
    return f"kubernetes.io/cluster/{cluster_name}"


def cluster_tags(cluster_name: str, name: str, **extra: str) -> dict[str, str]:
    """The tags of one resource: ownership, `Name`, plus any extra (instance group...)."""
    return {
        CLUSTER_TAG: cluster_name,
        ownership_tag(cluster_name): OWNED,
        "Name": name,
        **extra,
    }


def csi_volume_tags(cluster_name: str) -> dict[str, str]:
    """The tags the EBS CSI driver is told to put on every volume it creates (its
    `--extra-tags`), which the masters' CreateVolume permission requires. The driver
    adds `kubernetes.io/cluster/<name>=owned` itself (`--k8s-tag-cluster-id`); its
    `--extra-tags` refuses keys under `kubernetes.io`."""
    return {CLUSTER_TAG: cluster_name}


def is_owned(tags: Mapping[str, str], cluster_name: str) -> bool:
    """True when the cluster owns the resource: `shared` ones are left alone."""
    value = tags.get(ownership_tag(cluster_name))
    if value is not None:
        return value == OWNED
    return tags.get(CLUSTER_TAG) == cluster_name


def as_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """AWS's `[{"Key": k, "Value": v}]` lists as a plain dict."""
    return {t["Key"]: t.get("Value", "") for t in tags or ()}


def as_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """A dict of tags in AWS's `[{"Key": k, "Value": v}]` shape, sorted for stable calls."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_specifications(resource_type: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """EC2's TagSpecifications, so a resource is born tagged and never leaks untagged."""
    return [{"ResourceType": resource_type, "Tags": as_list(tags)}]


def tag_filters(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """EC2 describe filters matching every one of `tags` (how a task finds its resource)."""
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(tags.items())]


def owned_filters(cluster_name: str) -> list[dict[str, Any]]:
    """EC2 describe filters that select the cluster's owned resources."""
    return [{"Name": f"tag:{ownership_tag(cluster_name)}", "Values": [OWNED]}]


def legacy_filters(cluster_name: str) -> list[dict[str, Any]]:
    """EC2 describe filters for the legacy `KubernetesCluster=<name>` tag (check
    `is_owned` on what they find: a `shared` tag may sit beside it)."""
    return [{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster_name]}]


def owned_by_tags(
    items: Mapping[str, Item],
    read_tags: Callable[[list[str]], Iterable[tuple[str, Any]]],
    cluster_name: str,
    batch: int = 20,
) -> Iterator[Item]:
    """The items the cluster owns, for APIs that list tags apart from the items (ELB's
    and ELBv2's DescribeTags, at most 20 names or ARNs a call): `read_tags` takes a
    batch of keys of `items` and answers (key, AWS tag list) pairs."""
    keys = list(items)
    for start in range(0, len(keys), batch):
        for key, tags in read_tags(keys[start : start + batch]):
            if is_owned(as_dict(tags), cluster_name):
                yield items[key]
