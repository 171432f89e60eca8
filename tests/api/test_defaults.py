"""Defaulting fills what the model needs and never overwrites what the user wrote."""

from escala.api import Role, Subnet
from escala.api.defaults import carve_subnets, complete_instance_group, default_image
from escala.api.validation import problems
from tests.api.specs import NAME, completed, group


def test_three_zone_cluster_is_completed_kops_style() -> None:
    cluster, groups = completed()
    spec = cluster.spec
    assert spec.region == "eu-west-1"
    assert [s.cidr for s in spec.subnets] == ["172.20.0.0/19", "172.20.32.0/19", "172.20.64.0/19"]
    assert (spec.network_cidr, spec.pod_cidr, spec.service_cluster_ip_range) == (
        "172.20.0.0/16",
        "100.96.0.0/11",
        "100.64.0.0/13",
    )
    assert spec.config_base == f"file:///state/{NAME}"
    assert spec.ssh_key_name == f"kubernetes.{NAME}"
    assert spec.kubernetes_api_access == ["0.0.0.0/0"]
    assert [g.name for g in groups] == [
        "master-eu-west-1a",
        "master-eu-west-1b",
        "master-eu-west-1c",
        "nodes",
    ]
    assert problems(cluster, groups) == []


def test_etcd_main_and_events_have_one_encrypted_gp3_member_per_master() -> None:
    cluster, _ = completed()
    assert [e.name for e in cluster.spec.etcd_clusters] == ["main", "events"]
    for etcd in cluster.spec.etcd_clusters:
        assert [(m.name, m.instance_group) for m in etcd.etcd_members] == [
            ("a", "master-eu-west-1a"),
            ("b", "master-eu-west-1b"),
            ("c", "master-eu-west-1c"),
        ]
        assert {(m.volume_size, m.volume_type, m.encrypted_volume) for m in etcd.etcd_members} == {
            (20, "gp3", True)
        }


def test_instance_groups_get_machine_image_and_encrypted_gp3_root() -> None:
    _, groups = completed(node_count=4, node_size="m7g.large")
    master, nodes = group(groups, "master-eu-west-1b"), group(groups, "nodes")
    assert (master.spec.min_size, master.spec.max_size, master.spec.subnets) == (
        1,
        1,
        ["eu-west-1b"],
    )
    assert (nodes.spec.min_size, nodes.spec.max_size) == (4, 4)
    assert nodes.spec.image is not None and "arm64" in nodes.spec.image
    assert master.spec.image is not None and "amd64" in master.spec.image
    assert (master.spec.root_volume_type, master.spec.root_volume_encryption) == ("gp3", True)
    assert nodes.cluster_name == NAME


def test_values_the_user_gave_are_kept() -> None:
    cluster, groups = completed(
        network_cidr="10.0.0.0/16", kubernetes_version="1.31.4", image="ami-0123456789abcdef0"
    )
    assert cluster.spec.network_cidr == "10.0.0.0/16"
    assert cluster.spec.subnets[2].cidr == "10.0.64.0/19"
    assert cluster.spec.kubernetes_version == "1.31.4"
    assert {g.spec.image for g in groups} == {"ami-0123456789abcdef0"}
    again = complete_instance_group(groups[0], cluster)
    assert again == groups[0]


def test_carving_skips_blocks_the_user_already_took() -> None:
    subnets = [
        Subnet(name="a", zone="eu-west-1a", cidr="172.20.0.0/19"),
        Subnet(name="b", zone="eu-west-1b"),
    ]
    assert [s.cidr for s in carve_subnets("172.20.0.0/16", subnets)] == [
        "172.20.0.0/19",
        "172.20.32.0/19",
    ]


def test_nine_zones_get_smaller_blocks() -> None:
    subnets = [Subnet(name=str(i), zone="eu-west-1a") for i in range(9)]
    assert carve_subnets("172.20.0.0/16", subnets)[8].cidr == "172.20.128.0/20"


def test_default_image_follows_the_architecture() -> None:
    assert default_image("t3.small").endswith("ubuntu-noble-24.04-amd64-server-*")
    assert default_image("t4g.small").endswith("ubuntu-noble-24.04-arm64-server-*")
    assert default_image("c7gn.large").startswith("099720109477/")


def test_role_default_root_sizes() -> None:
    _, groups = completed()
    sizes = {g.spec.role: g.spec.root_volume_size for g in groups}
    assert sizes == {Role.master: 64, Role.node: 128}
