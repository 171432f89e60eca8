"""PLACEHOLDER user-data, to be replaced wholesale by the bootstrap module.

This minimal #cloud-config only records which cluster and instance group an instance
belongs to, so launch templates have valid user-data before the real bootstrap
(kubeadm, PKI, etcd volume mounting) exists. The real module keeps this signature.
"""

from escala.api import Cluster, InstanceGroup


def render_user_data(cluster: Cluster, group: InstanceGroup) -> str:
    """A #cloud-config for one instance of `group` (placeholder: records names only)."""
    return (
        "#cloud-config\n"
        "# escala placeholder user-data: the real bootstrap replaces this module\n"
        "write_files:\n"
        "  - path: /etc/escala/instance-group\n"
        '    permissions: "0644"\n'
        "    content: |\n"
        f"      cluster: {cluster.name}\n"
        f"      instanceGroup: {group.name}\n"
        f"      role: {group.spec.role.value}\n"
    )
