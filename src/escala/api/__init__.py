"""The spec types: what a user writes about a cluster, as plain versioned data.

Nothing here talks to a cloud, a chat server or Kubernetes; the state store keeps these
documents and every other part of escala reads them.
"""

from escala.api.types import (
    API_VERSION,
    Authorization,
    Cluster,
    ClusterSpec,
    EtcdCluster,
    EtcdMember,
    InstanceGroup,
    InstanceGroupSpec,
    MixedInstancesPolicy,
    NatMode,
    Networking,
    ObjectMeta,
    Role,
    SpotAllocationStrategy,
    Subnet,
    SubnetType,
    Topology,
    TopologySpec,
    dump_document,
    parse_document,
    parse_documents,
)

__all__ = [
    "API_VERSION",
    "Authorization",
    "Cluster",
    "ClusterSpec",
    "EtcdCluster",
    "EtcdMember",
    "InstanceGroup",
    "InstanceGroupSpec",
    "MixedInstancesPolicy",
    "NatMode",
    "Networking",
    "ObjectMeta",
    "Role",
    "SpotAllocationStrategy",
    "Subnet",
    "SubnetType",
    "Topology",
    "TopologySpec",
    "dump_document",
    "parse_document",
    "parse_documents",
]
