"""Completed specs built the way `escala create cluster` builds them, for the api tests."""

from escala.api import Cluster, InstanceGroup
from escala.api.create import CreateClusterOptions, build_cluster
from escala.api.defaults import complete

NAME = "proyecto.k8s.local"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def completed(**flags: object) -> tuple[Cluster, list[InstanceGroup]]:
    options = CreateClusterOptions(**{"name": NAME, "zones": list(ZONES), **flags})  # type: ignore[arg-type]
    return complete(*build_cluster(options), state_url="file:///state")


def group(groups: list[InstanceGroup], name: str) -> InstanceGroup:
    return next(g for g in groups if g.name == name)
