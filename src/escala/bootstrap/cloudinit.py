"""cloud-init user-data for an instance group: a #cloud-config that installs
containerd and kubeadm, then runs escala's boot script.

A pure function of the specs. Nothing secret is in it: the boot script fetches the CA
material (masters) or the join token and CA certificate (nodes) from the state store
through the instance role. The API endpoint is the NLB's DNS name; when the caller
does not know it yet (`api_endpoint=None`) the instance looks it up by the NLB's name.
"""

import base64
import gzip
from importlib.resources import files
from string import Template
from typing import Any

import yaml

from escala.api import Cluster, InstanceGroup, Networking, Role
from escala.bootstrap import kubeadm, master_files
from escala.cloud.aws.load_balancer import elb_name
from escala.errors import SpecInvalid

# Pinned add-on versions (bump deliberately, with the Kubernetes versions they support).
CALICO_MANIFEST = (
    "https://raw.githubusercontent.com/projectcalico/calico/v3.30.0/manifests/calico.yaml"
)
CILIUM_VERSION = "1.17.4"
CILIUM_CLI = (
    "https://github.com/cilium/cilium-cli/releases/download/v0.18.3/cilium-linux-amd64.tar.gz"
)
# cloud-provider-aws's release of the kubelet's ECR credential provider, per arch.
ECR_CREDENTIAL_PROVIDER_URL = (
    "https://artifacts.k8s.io/binaries/cloud-provider-aws/{version}/linux/ARCH/"
    "ecr-credential-provider-linux-ARCH"
)
BOOT_SCRIPT = "/usr/local/sbin/escala-bootstrap"
ETCD_BACKUP_TIMER = "escala-etcd-backup.timer"
KUBENET_SCRIPT = "/usr/local/sbin/escala-kubenet"
RENEW_SCRIPT = master_files.RENEW_SCRIPT  # fetched from the state store: see master_files
RENEW_TIMER = "escala-renew-certificates.timer"
PACKAGES = ["ca-certificates", "curl", "gpg", "unzip", "gettext-base", "apt-transport-https"]


# A bastion runs no Kubernetes: it only forwards SSH, so it is kept up to date and
# takes keys only (the admin key of the launch template).
BASTION_USER_DATA = (
    "#cloud-config\npackage_update: true\npackage_upgrade: true\nssh_pwauth: false\n"
)


def _file(name: str) -> str:
    return files("escala.bootstrap").joinpath("files", name).read_text()


def _init_group(cluster: Cluster) -> str:
    """The master group that runs `kubeadm init`: the one of the main etcd cluster's
    first member (by name), i.e. the first zone's master."""
    for etcd in cluster.spec.etcd_clusters:
        if etcd.name == "main" and etcd.etcd_members:
            return min(etcd.etcd_members, key=lambda m: m.name).instance_group
    raise SpecInvalid(["spec.etcdClusters: no `main` cluster with members"], cluster.name)


def _env(cluster: Cluster, group: InstanceGroup, api_endpoint: str | None) -> str:
    spec = cluster.spec
    values = {
        "CLUSTER_NAME": cluster.name,
        "INSTANCE_GROUP": group.name,
        "ROLE": group.spec.role.value,
        "INIT_GROUP": _init_group(cluster),
        "REGION": spec.region,
        "CONFIG_BASE": spec.config_base,
        "KUBERNETES_VERSION": kubeadm.kubernetes_version(cluster),
        "NETWORKING": spec.networking.value,
        "API_LB_NAME": elb_name("api", cluster.name),
        "API_ENDPOINT": api_endpoint or "",
        "ETCD_MOUNT": kubeadm.ETCD_MOUNT,
        "ETCD_DATA_DIR": kubeadm.ETCD_DATA_DIR,
        "NON_MASQUERADE_CIDR": spec.non_masquerade_cidr or spec.network_cidr,
        "CALICO_MANIFEST": CALICO_MANIFEST,
        "CILIUM_VERSION": CILIUM_VERSION,
        "CILIUM_CLI": CILIUM_CLI,
        "MASTER_FILES": master_files.env_value() if group.spec.role is Role.master else "",
        "CREDENTIAL_PROVIDER_DIR": kubeadm.CREDENTIAL_PROVIDER_DIR,
        "ECR_CREDENTIAL_PROVIDER_URL": ECR_CREDENTIAL_PROVIDER_URL.format(
            version=cloud_provider_aws_version(cluster)
        ),
    }
    return "".join(f"{k}={'' if v is None else v}\n" for k, v in values.items())


def _yaml_docs(*docs: dict[str, Any]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def kubeadm_configs(cluster: Cluster, group: InstanceGroup) -> dict[str, str]:
    """The kubeadm config templates of `group`, by file name (init.yaml on masters)."""
    labels, taints = group.spec.node_labels, group.spec.taints
    if group.spec.role is Role.master:
        return {
            "init.yaml": _yaml_docs(
                kubeadm.init_configuration(cluster, labels, taints),
                kubeadm.cluster_configuration(cluster),
            ),
            "join.yaml": _yaml_docs(kubeadm.join_configuration(cluster, True, labels, taints)),
        }
    return {"join.yaml": _yaml_docs(kubeadm.join_configuration(cluster, False, labels, taints))}


def cloud_provider_aws_version(cluster: Cluster) -> str:
    """cloud-provider-aws's release for the cluster's minor (`v1.31.0`): its
    cloud-controller-manager and its ECR credential provider."""
    minor = ".".join(kubeadm.kubernetes_version(cluster).split(".")[:2])
    return f"v{minor}.0"


def _ccm_manifest(cluster: Cluster) -> str:
    return Template(_file("aws-cloud-controller-manager.yaml")).substitute(
        CCM_VERSION=cloud_provider_aws_version(cluster),
        CLUSTER_NAME=cluster.name,
        POD_CIDR=cluster.spec.pod_cidr,
        CONFIGURE_ROUTES=str(cluster.spec.networking is Networking.kubenet).lower(),
    )


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks: readable, and small (EC2 allows 16 KB)."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def _write(path: str, content: str, permissions: str = "0644") -> dict[str, str]:
    return {"path": path, "permissions": permissions, "owner": "root:root", "content": content}


def _write_packed(path: str, content: str, permissions: str = "0644") -> dict[str, str]:
    """A large static file gzipped (cloud-init's `gz+b64`): EC2 caps user-data at 16 KB."""
    packed = base64.b64encode(gzip.compress(content.encode(), mtime=0)).decode()
    return {**_write(path, packed, permissions), "encoding": "gz+b64"}


def _etcd_backup_units() -> list[dict[str, str]]:
    """The systemd timer that runs a master's etcd backup script (a master file) hourly."""
    units = ("escala-etcd-backup.service", ETCD_BACKUP_TIMER)
    return [_write(f"/etc/systemd/system/{unit}", _file(unit)) for unit in units]


def render_user_data(
    cluster: Cluster, group: InstanceGroup, api_endpoint: str | None = None
) -> str:
    """The #cloud-config for every instance of `group` in the (completed) `cluster`."""
    if group.spec.role is Role.bastion:
        return BASTION_USER_DATA
    write_files = [
        _write_packed("/etc/escala/env", _env(cluster, group, api_endpoint)),
        _write_packed(BOOT_SCRIPT, _file("bootstrap.sh"), "0755"),
        _write("/etc/modules-load.d/kubernetes.conf", "overlay\nbr_netfilter\n"),
        _write(
            kubeadm.CREDENTIAL_PROVIDER_CONFIG, _yaml_docs(kubeadm.credential_provider_config())
        ),
        _write(
            "/etc/sysctl.d/99-kubernetes.conf",
            "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\n",
        ),
    ]
    write_files += [
        _write_packed(f"/etc/escala/kubeadm/{name}", text, "0600")
        for name, text in kubeadm_configs(cluster, group).items()
    ]
    runcmd = [["modprobe", "overlay"], ["modprobe", "br_netfilter"], ["sysctl", "--system"]]
    runcmd.append([BOOT_SCRIPT])
    if group.spec.role is Role.master:
        write_files.append(
            _write_packed(
                "/etc/escala/addons/aws-cloud-controller-manager.yaml", _ccm_manifest(cluster)
            )
        )
        write_files += _etcd_backup_units()
        write_files += [
            _write("/etc/systemd/system/escala-renew-certificates.service",
                   _file("escala-renew-certificates.service")),
            _write(f"/etc/systemd/system/{RENEW_TIMER}", _file(RENEW_TIMER)),
        ]  # fmt: skip
        runcmd.append(["systemctl", "enable", "--now", ETCD_BACKUP_TIMER])
        runcmd.append(["systemctl", "enable", "--now", RENEW_TIMER])
    if cluster.spec.networking is Networking.kubenet:
        write_files.append(_write_packed(KUBENET_SCRIPT, _file("kubenet-cni.sh"), "0755"))
        write_files.append(
            _write("/etc/systemd/system/escala-kubenet.service", _file("kubenet.service"))
        )
    master = group.spec.role is Role.master
    config = {
        "package_update": True,
        "packages": PACKAGES + (["etcd-client"] if master else []),
        "write_files": write_files,
        "runcmd": runcmd,
    }
    return "#cloud-config\n" + yaml.dump(config, Dumper=_Dumper, sort_keys=False, width=1000)
