"""Security groups and only the ports the cluster needs.

- API load balancer: 443 from `kubernetesApiAccess`.
- Masters: 6443 from the API load balancer and from nodes; everything from masters
  (etcd 2379-2381 stays between masters); SSH from `sshAccess`; the overlay's ports
  from nodes (calico: BGP 179 + IP-in-IP; cilium: VXLAN 8472 + health 4240).
- Nodes: everything from nodes and masters (pods, kubelet, webhooks); SSH from `sshAccess`.
- With a bastion (private topology, kops's pkg/model/awsmodel/bastion.go): the bastion
  takes SSH from `sshAccess`, and masters and nodes take SSH only from the bastion.
- Private topology: the API load balancer also takes 443 from each NAT gateway's
  address. Masters and nodes reach the API through the load balancer's public name, so
  from a private subnet they arrive from their zone's NAT address, which a narrowed
  `kubernetesApiAccess` would otherwise shut out.
"""

from escala.api import Networking, Role
from escala.cloud.aws.elastic_ip import ElasticIp
from escala.cloud.aws.security_group import SecurityGroup, SecurityGroupRule
from escala.cloud.aws.vpc import Vpc
from escala.model.context import ClusterContext

API_ELB, MASTERS, NODES, BASTION = "api-elb", "masters", "nodes", "bastion"


def security_group_name(role: str, cluster_name: str) -> str:
    return f"{role}.{cluster_name}"


def _overlay_ports(networking: Networking) -> list[tuple[str, int | None]]:
    """(protocol, port) nodes must reach masters on for the pod network."""
    if networking is Networking.calico:
        return [("tcp", 179), ("4", None)]
    if networking is Networking.cilium:
        return [("udp", 8472), ("tcp", 4240)]
    return []


def build_firewall(ctx: ClusterContext) -> None:
    spec = ctx.cluster.spec
    ctx.require(spec.kubernetes_api_access, "spec.kubernetesApiAccess")
    ctx.require(spec.ssh_access, "spec.sshAccess")
    vpc = ctx.get(Vpc, ctx.cluster_name)
    bastion = any(g.spec.role is Role.bastion for g in ctx.groups)
    groups: dict[str, SecurityGroup] = {}
    for role, description, managed_ports in (
        (API_ELB, "API load balancer", (443,)),
        (MASTERS, "Kubernetes masters", (22,)),
        (NODES, "Kubernetes nodes", (22,)),
        *([(BASTION, "SSH bastion", (22,))] if bastion else []),
    ):
        name = security_group_name(role, ctx.cluster_name)
        group = SecurityGroup(
            name=name,
            tags=ctx.tags(name),
            vpc=vpc,
            description=f"{description} of {ctx.cluster_name}",
            managed_ports=managed_ports,
        )
        groups[role] = group
        ctx.add(group)

    def rule(
        to: str,
        label: str,
        *,
        protocol: str = "tcp",
        port: int | None = None,
        cidr: str | None = None,
        source: str | None = None,
        address: ElasticIp | None = None,
    ) -> None:
        name = f"{to}-{label}.{ctx.cluster_name}"
        ctx.add(
            SecurityGroupRule(
                name=name,
                group=groups[to],
                protocol=protocol,
                from_port=port,
                to_port=port,
                cidr=cidr,
                source=groups[source] if source else None,
                address=address,
            )
        )

    for cidr in spec.kubernetes_api_access:
        rule(API_ELB, f"https-from-{cidr}", port=443, cidr=cidr)
    for address in [t for t in ctx.tasks.values() if isinstance(t, ElasticIp)]:
        zone = address.name.removesuffix(f".{ctx.cluster_name}")
        rule(API_ELB, f"https-from-nat-{zone}", port=443, address=address)
    for cidr in spec.ssh_access:
        for to in (BASTION,) if bastion else (MASTERS, NODES):
            rule(to, f"ssh-from-{cidr}", port=22, cidr=cidr)
    if bastion:
        rule(MASTERS, "ssh-from-bastion", port=22, source=BASTION)
        rule(NODES, "ssh-from-bastion", port=22, source=BASTION)
    rule(MASTERS, "api-from-api-elb", port=6443, source=API_ELB)
    rule(MASTERS, "api-from-nodes", port=6443, source=NODES)
    rule(MASTERS, "all-from-masters", protocol="-1", source=MASTERS)
    rule(NODES, "all-from-nodes", protocol="-1", source=NODES)
    rule(NODES, "all-from-masters", protocol="-1", source=MASTERS)
    for protocol, port in _overlay_ports(spec.networking):
        label = f"{protocol}-{port}" if port else f"protocol-{protocol}"
        rule(MASTERS, f"{label}-from-nodes", protocol=protocol, port=port, source=NODES)
