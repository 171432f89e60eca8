"""Cluster and InstanceGroup documents, modelled on kops's v1alpha2 API.

Each document is Kubernetes-style YAML (`apiVersion`, `kind`, `metadata.name`, `spec`),
so what sits in the state store is versioned from the first release. Field names are
camelCase on the wire, as in kops; Python code uses snake_case attributes.

These models check types and shapes only. Rules that span fields (quorum, zones in the
region, CIDR overlaps) live in `escala.api.validation`, defaults in
`escala.api.defaults`: what the user wrote is kept apart from the completed spec.
"""

import difflib
import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from escala.errors import SpecInvalid

API_VERSION = "escala.io/v1alpha1"
CLUSTER_LABEL = "escala.io/cluster"
M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
        # Validators are built when a document is first read, not at import: commands
        # that never read one (`escala create --help`) start ~30 ms sooner.
        defer_build=True,
    )


class Networking(enum.StrEnum):
    """The pod network. kubenet is kops's default: routes in the VPC route table,
    which AWS caps at 50 entries, hence at most 50 nodes."""

    kubenet = "kubenet"
    calico = "calico"
    cilium = "cilium"


class Authorization(enum.StrEnum):
    rbac = "RBAC"
    always_allow = "AlwaysAllow"


class Role(enum.StrEnum):
    """What an instance group's machines are. `ControlPlane` is accepted as today's
    name for kops's `Master`. A `Bastion` is no Kubernetes machine: the SSH jump host of
    a private topology, in its utility subnets (kops's bastion instance group)."""

    master = "Master"
    node = "Node"
    bastion = "Bastion"

    @classmethod
    def _missing_(cls, value: object) -> "Role | None":
        if isinstance(value, str) and value.lower() in ("controlplane", "control-plane", "master"):
            return cls.master
        if isinstance(value, str) and value.lower() in ("node", "bastion"):
            return cls(value.capitalize())
        return None


class SubnetType(enum.StrEnum):
    """kops's subnet types: machines run in `Public` (public topology) or `Private`
    subnets (private topology); `Utility` subnets are public but hold no Kubernetes
    machine, only the load balancers, the NAT gateways and the bastion."""

    public = "Public"
    private = "Private"
    utility = "Utility"


class Topology(enum.StrEnum):
    """Where the machines live (kops `--topology`): `public` subnets with public IPs, or
    `private` subnets reached only through the load balancer (and the bastion), with
    egress through NAT gateways in the utility subnets."""

    public = "public"
    private = "private"


class NatMode(enum.StrEnum):
    """The private subnets' way out: a NAT gateway (and Elastic IP) in every zone, so a
    zone's outage leaves the others their egress, or one for the whole cluster, cheaper
    (a NAT gateway is billed by the hour) but a single point of failure for egress."""

    per_zone = "per-zone"
    single = "single"


class TopologySpec(_Model):
    """kops's `spec.topology`: masters and nodes in the same topology; `nat` only for
    the private one (escala's own field: kops sets egress per subnet)."""

    masters: Topology = Topology.public
    nodes: Topology = Topology.public
    nat: NatMode | None = None

    @property
    def private(self) -> bool:
        return Topology.private in (self.masters, self.nodes)


class ObjectMeta(_Model):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: datetime | None = None


class Subnet(_Model):
    """One subnet per availability zone; its name is usually the zone's."""

    name: str
    zone: str
    cidr: str | None = None
    type: SubnetType = SubnetType.public


class EtcdMember(_Model):
    """One etcd member, living on the EBS volume of the master in `instance_group`."""

    name: str
    instance_group: str
    volume_size: int | None = None
    volume_type: str | None = None
    encrypted_volume: bool = True


class EtcdCluster(_Model):
    """kops runs two etcd clusters: `main` (cluster state) and `events`."""

    name: str
    etcd_members: list[EtcdMember] = Field(default_factory=list)


class ClusterSpec(_Model):
    """CIDR fields keep kops's spelling on the wire (`networkCIDR`, `podCIDR`, ...)."""

    cloud_provider: Literal["aws"] = "aws"
    region: str | None = None
    kubernetes_version: str | None = None
    networking: Networking = Networking.kubenet
    authorization: Authorization = Authorization.rbac
    network_cidr: str | None = Field(default=None, alias="networkCIDR")
    non_masquerade_cidr: str | None = Field(default=None, alias="nonMasqueradeCIDR")
    pod_cidr: str | None = Field(default=None, alias="podCIDR")
    service_cluster_ip_range: str | None = Field(default=None, alias="serviceClusterIPRange")
    subnets: list[Subnet] = Field(default_factory=list)
    topology: TopologySpec | None = None  # None: public, as before the field existed
    kubernetes_api_access: list[str] = Field(default_factory=list)
    ssh_access: list[str] = Field(default_factory=list)
    ssh_key_name: str | None = None
    etcd_clusters: list[EtcdCluster] = Field(default_factory=list)
    config_base: str | None = None
    allow_single_master: bool = False


class Cluster(_Model):
    api_version: Literal["escala.io/v1alpha1"] = API_VERSION
    kind: Literal["Cluster"] = "Cluster"
    metadata: ObjectMeta
    spec: ClusterSpec = Field(default_factory=ClusterSpec)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def private(self) -> bool:
        """Masters and nodes in private subnets (`--topology private`)."""
        return self.spec.topology is not None and self.spec.topology.private


class SpotAllocationStrategy(enum.StrEnum):
    """How the ASG picks Spot capacity (AWS's names). price-capacity-optimized is what AWS
    recommends: the pools least likely to be interrupted, at low prices."""

    price_capacity_optimized = "price-capacity-optimized"
    capacity_optimized = "capacity-optimized"
    capacity_optimized_prioritized = "capacity-optimized-prioritized"
    lowest_price = "lowest-price"


class MixedInstancesPolicy(_Model):
    """kops's mixedInstancesPolicy: a node group over several instance types, part or all
    of it on Spot. `onDemandAboveBase` is the percentage of On-Demand capacity beyond the
    `onDemandBase` instances (0 = all Spot beyond the base; 100 = all On-Demand)."""

    instances: list[str] = Field(default_factory=list)
    on_demand_base: int | None = Field(default=None, ge=0)
    on_demand_above_base: int | None = Field(default=None, ge=0, le=100)
    spot_allocation_strategy: SpotAllocationStrategy | None = None


class InstanceGroupSpec(_Model):
    role: Role
    machine_type: str | None = None
    min_size: int | None = Field(default=None, ge=0)
    max_size: int | None = Field(default=None, ge=0)
    subnets: list[str] = Field(default_factory=list)
    image: str | None = None
    root_volume_size: int | None = Field(default=None, gt=0)
    root_volume_type: str | None = None
    root_volume_encryption: bool = True
    node_labels: dict[str, str] = Field(default_factory=dict)
    taints: list[str] = Field(default_factory=list)  # key[=value]:Effect, as kops
    mixed_instances_policy: MixedInstancesPolicy | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        return Role(value) if isinstance(value, str) else value


class InstanceGroup(_Model):
    api_version: Literal["escala.io/v1alpha1"] = API_VERSION
    kind: Literal["InstanceGroup"] = "InstanceGroup"
    metadata: ObjectMeta
    spec: InstanceGroupSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def cluster_name(self) -> str | None:
        return self.metadata.labels.get(CLUSTER_LABEL)


_KINDS: dict[str, type[Cluster] | type[InstanceGroup]] = {
    "Cluster": Cluster,
    "InstanceGroup": InstanceGroup,
}


def _field_path(loc: Iterable[int | str]) -> str:
    """`("spec", "subnets", 0, "cidr")` -> `spec.subnets[0].cidr`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{to_camel(part) if '_' in part else part}" if path else part
    return path or "(document)"


def _model_at(model: type[BaseModel], loc: Iterable[int | str]) -> type[BaseModel] | None:
    """The model class that holds the field at `loc` (list indexes and dict keys skipped),
    or None when the path leaves the models."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        fields = {**current.model_fields, **_fields_by_wire_name(current)}
        if isinstance(part, int) or part not in fields:
            continue
        current = _inner_model(fields[part].annotation)
    return current


def _fields_by_wire_name(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside `X | None`, `list[X]`, `dict[str, X]`; None if there is none."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validation_problems(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """pydantic's errors in the user's terms, each with its field path: an unknown field
    with the closest known one ("did you mean"), what a number or a choice must look like,
    never pydantic's own phrases ("Extra inputs are not permitted")."""
    out = []
    for err in error.errors():
        path, kind, given = _field_path(err["loc"]), err["type"], err.get("input")
        if kind == "extra_forbidden":
            holder = _model_at(model, err["loc"][:-1])
            known = sorted(_fields_by_wire_name(holder)) if holder else []
            close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            fields = f" (known fields: {', '.join(known)})" if known and not close else ""
            out.append(f"{path}: unknown field{hint}{fields}")
        elif kind == "missing":
            out.append(f"{path}: required, but missing")
        elif kind.startswith("int_"):
            out.append(f"{path}: {given!r} is not a whole number")
        elif kind.startswith("float_"):
            out.append(f"{path}: {given!r} is not a number")
        elif kind.startswith("bool_"):
            out.append(f"{path}: {given!r} is not true or false")
        elif kind in ("enum", "literal_error"):
            out.append(f"{path}: {given!r} is not one of {err['ctx']['expected']}")
        elif kind == "value_error":
            out.append(f"{path}: {str(err['msg']).removeprefix('Value error, ')}")
        else:
            out.append(f"{path}: {str(err['msg']).replace('Input should be', 'must be')}")
    return out


def parse_kinds(kinds: Mapping[str, type[M]], data: Any, source: str) -> M:
    """One decoded document of one of `kinds` (kind name -> model). The envelope is
    checked first, so a wrong kind or version is said as such rather than as a list of
    missing fields; then SpecInvalid lists every problem with its field path."""
    if not isinstance(data, dict):
        raise SpecInvalid([f"(document): expected a mapping, got {type(data).__name__}"], source)
    kind = data.get("kind")
    if kind not in kinds:
        names = ", ".join(kinds)
        expected = names if len(kinds) == 1 else f"one of {names}"
        raise SpecInvalid([f"kind: must be {expected}, got {kind!r}"], source)
    api_version = data.get("apiVersion")
    if api_version != API_VERSION:
        raise SpecInvalid([f"apiVersion: must be {API_VERSION}, got {api_version!r}"], source)
    try:
        return kinds[kind].model_validate(data)
    except ValidationError as e:
        raise SpecInvalid(validation_problems(e, kinds[kind]), source) from e


def load_kind(model: type[M], text: str | bytes, source: str) -> M:
    """One YAML (or JSON) document of `model`'s kind, as the state store holds it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SpecInvalid([f"(document): not valid YAML: {e}"], source) from e
    return parse_kinds({model.model_fields["kind"].default: model}, data, source)


def parse_document(data: Any, source: str = "document") -> Cluster | InstanceGroup:
    """Turn one decoded YAML/JSON document into a spec object.

    Raises SpecInvalid listing every problem with its field path.
    """
    return parse_kinds(_KINDS, data, source)


def parse_documents(text: str, source: str = "document") -> list[Cluster | InstanceGroup]:
    """Parse a multi-document YAML (or JSON) text, as `escala replace -f` reads it."""
    try:
        raw = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise SpecInvalid([f"(document): not valid YAML: {e}"], source) from e
    return [parse_document(d, source) for d in raw]


def dump_document(doc: Cluster | InstanceGroup) -> dict[str, Any]:
    """The wire form of a document: camelCase keys, unset fields left out."""
    return doc.model_dump(mode="json", by_alias=True, exclude_none=True)
