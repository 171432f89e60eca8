"""`escala create|get|delete volume` and `escala create persistentvolume`: the seed's
persistent volumes (3.14) the escala way.

A static volume is an encrypted EBS volume in one of the cluster's zones, tagged as
owned by the cluster (so `delete cluster` finds it) and as retained (so it keeps it
unless told: it holds data a user made it for). Creating and deleting are planned, and
only done with `--yes`, like every verb that changes the cloud. The volume then enters
the cluster as a PersistentVolume bound to a claim (`escala.kube.static_volume`).
"""

import re
from dataclasses import dataclass

from escala.api import Cluster
from escala.cloud.aws.ebs_volume import EbsVolume
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import cluster_tags
from escala.cloud.aws.volume_inventory import VOLUME_TAG, VolumeInfo, cluster_volumes
from escala.errors import AlreadyExists, NotFound, SpecInvalid, UsageError
from escala.kube.static_volume import StaticVolume
from escala.kube.storage_classes import RECLAIM_TAG
from escala.reconcile.engine import Apply, DryRun, run
from escala.reconcile.plan import Action, Change, Plan

# EBS limits, as AWS documents them (read 2026-12-04). Sizes and the gp3 ranges: the EC2
# API Reference, CreateVolume (Size, Iops, Throughput),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html (the same
# text is in the EC2 model of botocore 1.44.8). gp3's two ratios, 500 IOPS per GiB and
# 0.25 MiB/s per provisioned IOPS: the EBS User Guide, "General Purpose SSD volumes",
# https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html. AWS raised gp3
# in 2025 from 16 TiB, 16,000 IOPS and 1,000 MiB/s; gp2, st1 and sc1 are unchanged.
# GiB a volume of each type can hold.
SIZE_LIMITS = {"gp3": (1, 65536), "gp2": (1, 16384), "st1": (125, 16384), "sc1": (125, 16384)}
# gp3's provisioned performance: IOPS 3000..80000 and at most 500 per GiB; throughput
# 125..2000 MiB/s and at most 0.25 MiB/s per provisioned IOPS (one MiB/s per 4 IOPS).
GP3_IOPS = (3000, 80000)
GP3_IOPS_PER_GIB = 500
GP3_THROUGHPUT = (125, 2000)
GP3_IOPS_PER_MIBS = 4
GP3_BASELINE_IOPS = 3000
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class VolumeRequest:
    """What `escala create volume` was asked for."""

    cluster_name: str
    name: str
    zone: str
    size: int
    volume_type: str = "gp3"
    iops: int | None = None
    throughput: int | None = None


def check_request(request: VolumeRequest, cluster: Cluster) -> None:
    """Raise SpecInvalid naming every unusable flag at once (exit code 2)."""
    problems = []
    if len(request.name) > 63 or not _NAME.match(request.name):
        problems.append(
            f"NAME: {request.name!r} is not a volume name; use lower-case letters, digits "
            "and '-' (at most 63), e.g. chat-history"
        )
    zones = sorted({s.zone for s in cluster.spec.subnets})
    if request.zone not in zones:
        problems.append(
            f"--zone: {request.zone!r} is not one of the cluster's zones ({', '.join(zones)}); "
            "an EBS volume only attaches to instances in its own zone"
        )
    if request.volume_type not in SIZE_LIMITS:
        problems.append(f"--type: {request.volume_type!r}; give one of {', '.join(SIZE_LIMITS)}")
    else:
        low, high = SIZE_LIMITS[request.volume_type]
        if not low <= request.size <= high:
            problems.append(
                f"--size: {request.size} GiB is outside {low}..{high} GiB for "
                f"{request.volume_type}; give a size in that range"
            )
    problems += _performance_problems(request)
    if problems:
        raise SpecInvalid(problems, "escala create volume")


def _performance_problems(request: VolumeRequest) -> list[str]:
    if request.volume_type != "gp3":
        return [
            f"{flag}: only gp3 volumes take it (this one is {request.volume_type}); drop it"
            for flag, value in (("--iops", request.iops), ("--throughput", request.throughput))
            if value is not None
        ]
    problems = []
    iops = request.iops or GP3_BASELINE_IOPS
    if request.iops is not None:
        low, high = GP3_IOPS
        most = min(high, max(low, request.size * GP3_IOPS_PER_GIB))
        if not low <= request.iops <= most:
            problems.append(
                f"--iops: {request.iops} is outside gp3's {low}..{most} for {request.size} GiB "
                f"(at most {GP3_IOPS_PER_GIB} per GiB, {high} in all); "
                + _fix(
                    "--iops",
                    request.iops,
                    GP3_IOPS,
                    "--size",
                    -(-request.iops // GP3_IOPS_PER_GIB),
                    "GiB",
                )
            )
    if request.throughput is not None:
        low, high = GP3_THROUGHPUT
        most = min(high, iops // GP3_IOPS_PER_MIBS)
        if not low <= request.throughput <= most:
            problems.append(
                f"--throughput: {request.throughput} MiB/s is outside gp3's {low}..{most} "
                f"for {iops} IOPS (at most 0.25 MiB/s per IOPS, {high} in all); "
                + _fix(
                    "--throughput",
                    request.throughput,
                    GP3_THROUGHPUT,
                    "--iops",
                    request.throughput * GP3_IOPS_PER_MIBS,
                    "IOPS",
                )
            )
    return problems


def _fix(flag: str, value: int, limits: tuple[int, int], other: str, needs: int, unit: str) -> str:
    """How to fix `flag`: into the type's range, or else `other` raised to what it needs."""
    low, high = limits
    if value < low:
        return f"give {flag} {low} or more"
    if value > high:
        return f"give {flag} {high} or less"
    return f"lower {flag}, or raise {other} to {needs} {unit}"


def volume_task(request: VolumeRequest) -> EbsVolume:
    """The static volume's task: born owned by the cluster and tagged retained."""
    tags = cluster_tags(
        request.cluster_name,
        f"{request.name}.{request.cluster_name}",
        **{VOLUME_TAG: request.name, RECLAIM_TAG: "Retain"},
    )
    return EbsVolume(
        name=request.name,
        tags=tags,
        zone=request.zone,
        size=request.size,
        volume_type=request.volume_type,
        iops=request.iops,
        throughput=request.throughput,
    )


def list_volumes(cloud: ClientFactory, cluster_name: str) -> list[VolumeInfo]:
    """Every volume tagged for the cluster: etcd's, static ones and the driver's."""
    return cluster_volumes(cloud, cluster_name)


def find_volume(cloud: ClientFactory, cluster_name: str, name: str) -> VolumeInfo | None:
    """The cluster's static volume called `name` (by its `escala.io/volume` tag)."""
    return next(
        (v for v in cluster_volumes(cloud, cluster_name) if v.tags.get(VOLUME_TAG) == name),
        None,
    )


def create_volume(
    cloud: ClientFactory, request: VolumeRequest, cluster: Cluster, *, yes: bool
) -> Plan:
    """Plan (and with `yes` create) the volume; a name the cluster already has is refused."""
    check_request(request, cluster)
    existing = find_volume(cloud, request.cluster_name, request.name)
    if existing is not None:
        raise AlreadyExists(
            f"NAME: volume {request.name!r} already exists in {request.cluster_name} "
            f"({existing.id}, {existing.zone}); choose another name, or delete it with "
            f"`escala delete volume {request.name} --name {request.cluster_name} --yes`"
        )
    target = Apply(cloud) if yes else DryRun()
    return run(request.cluster_name, [volume_task(request)], cloud, target)


def delete_volume(cloud: ClientFactory, cluster_name: str, name: str, *, yes: bool) -> Plan:
    """Plan (and with `yes` delete) the static volume `name`; one still attached is
    refused (its pod must go first)."""
    volume = find_volume(cloud, cluster_name, name)
    if volume is None:
        raise NotFound(
            f"volume {name!r}: {cluster_name} has no such volume (see `escala get volumes`)"
        )
    if volume.attached_to:
        raise UsageError(
            f"volume {name!r} ({volume.id}) is attached to {', '.join(volume.attached_to)}; "
            "delete the pods and claim using it first"
        )
    plan = Plan(cluster_name, [Change(EbsVolume.kind, name, Action.delete)])
    if yes:
        EbsVolume.delete_id(cloud, volume.id)
        plan.applied = True
    return plan


def static_volume(
    cloud: ClientFactory, cluster_name: str, name: str, namespace: str, claim: str | None
) -> StaticVolume:
    """The cluster's view of static volume `name`, for its PersistentVolume and claim."""
    volume = find_volume(cloud, cluster_name, name)
    if volume is None:
        raise NotFound(
            f"volume {name!r}: {cluster_name} has no such volume; create it with "
            f"`escala create volume {name} --zone ZONE --size GIB --yes`"
        )
    return StaticVolume(
        name=name,
        volume_id=volume.id,
        zone=volume.zone,
        size_gib=volume.size,
        namespace=namespace,
        claim=claim,
    )
