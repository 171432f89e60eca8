"""The Amazon EBS CSI driver: how PersistentVolumeClaims become EBS volumes.

Kubernetes' in-tree EBS code is gone (1.27+), so without this driver a claim stays
Pending forever. escala installs it on every cluster (kops does too): the masters apply
it at boot (`escala.bootstrap.cloudinit` writes it among their add-ons) and every
`escala deploy chat` applies it again, idempotently, before the chat's database claims
a volume.

Written by us from the facts of upstream's kustomize base
(kubernetes-sigs/aws-ebs-csi-driver `deploy/kubernetes/base`: images, sidecar args,
RBAC, the CSIDriver object), without the snapshotter (escala installs no snapshot
CRDs). Two escala choices:

- the controller runs on the control-plane nodes, whose instance role holds the EC2
  volume actions, conditioned on the cluster's tag (`escala.model.cluster.ebs_csi`); nodes get
  no EC2 rights;
- `--k8s-tag-cluster-id` and `--extra-tags` put the cluster's ownership tags on every
  volume the driver creates, so `delete cluster` finds them (`escala.ops.cluster_volumes`).
"""

from collections.abc import Mapping

from escala.kube.objects import (
    RBAC,
    SYSTEM,
    Obj,
    binding,
    cluster_role,
    daemon_set,
    deployment,
    labels,
    metadata,
    rule,
    service_account,
)

DRIVER = "ebs.csi.aws.com"
VERSION = "v1.49.0"
IMAGE = f"public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:{VERSION}"
# The sidecars released with the driver's VERSION (its Helm chart's values).
_SIDECARS = "public.ecr.aws/csi-components"
PROVISIONER = f"{_SIDECARS}/csi-provisioner:v5.3.0-eksbuild.4"
ATTACHER = f"{_SIDECARS}/csi-attacher:v4.9.0-eksbuild.4"
RESIZER = f"{_SIDECARS}/csi-resizer:v1.14.0-eksbuild.4"
LIVENESS = f"{_SIDECARS}/livenessprobe:v2.16.0-eksbuild.5"
REGISTRAR = f"{_SIDECARS}/csi-node-driver-registrar:v2.14.0-eksbuild.5"

CONTROLLER = "ebs-csi-controller"
NODE = "ebs-csi-node"
CONTROLLER_SA = "ebs-csi-controller-sa"
NODE_SA = "ebs-csi-node-sa"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
# The topology key the driver reports for a node's zone (what a static PV's node
# affinity must name; the driver also accepts topology.kubernetes.io/zone).
ZONE_KEY = "topology.kubernetes.io/zone"
HEALTH_PORT = 9808

_PART_OF = "aws-ebs-csi-driver"
_SOCKET_DIR = "/var/lib/csi/sockets/pluginproxy/"
_PLUGIN_DIR = f"/var/lib/kubelet/plugins/{DRIVER}/"
_RESOURCES = {"limits": {"memory": "256Mi"}, "requests": {"cpu": "10m", "memory": "40Mi"}}
_LOCKED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}


def _labels(component: str) -> dict[str, str]:
    return labels(component, _PART_OF)


def controller_args(cluster_name: str, volume_tags: Mapping[str, str]) -> list[str]:
    """The driver's controller flags: every volume it creates is born with the cluster's
    `kubernetes.io/cluster/<name>=owned` and a Name (`--k8s-tag-cluster-id`), and with
    `volume_tags` (`--extra-tags`: the caller passes the cluster's ownership contract)."""
    extra = ",".join(f"{k}={v}" for k, v in sorted(volume_tags.items()))
    return [
        "controller",
        "--endpoint=$(CSI_ENDPOINT)",
        f"--k8s-tag-cluster-id={cluster_name}",
        f"--extra-tags={extra}",
        "--batching=true",
        "--logging-format=text",
        "--v=2",
    ]


def _sidecar(name: str, image: str, *args: str) -> Obj:
    """A CSI sidecar talking to the driver over the shared socket directory."""
    return {
        "name": name,
        "image": image,
        "args": ["--csi-address=$(ADDRESS)", "--v=2", *args],
        "env": [{"name": "ADDRESS", "value": f"{_SOCKET_DIR}csi.sock"}],
        "volumeMounts": [{"name": "socket-dir", "mountPath": _SOCKET_DIR}],
        "resources": _RESOURCES,
        "securityContext": _LOCKED,
    }


def _health(path_port: str = "healthz") -> Obj:
    return {
        "httpGet": {"path": "/healthz", "port": path_port},
        "initialDelaySeconds": 10,
        "timeoutSeconds": 3,
        "periodSeconds": 10,
        "failureThreshold": 5,
    }


def _node_name_env() -> Obj:
    return {"name": "CSI_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}


def controller_deployment(cluster_name: str, region: str, volume_tags: Mapping[str, str]) -> Obj:
    """Two replicas (leader-elected sidecars) on the masters, apart from each other."""
    plugin = {
        "name": "ebs-plugin",
        "image": IMAGE,
        "args": controller_args(cluster_name, volume_tags),
        "env": [
            {"name": "CSI_ENDPOINT", "value": f"unix://{_SOCKET_DIR}csi.sock"},
            _node_name_env(),
            {"name": "AWS_REGION", "value": region},
        ],
        "ports": [{"name": "healthz", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        "livenessProbe": _health(),
        "readinessProbe": _health(),
        "volumeMounts": [{"name": "socket-dir", "mountPath": _SOCKET_DIR}],
        "resources": _RESOURCES,
        "securityContext": _LOCKED,
    }
    leader = "--leader-election=true"
    containers = [
        plugin,
        _sidecar(
            "csi-provisioner",
            PROVISIONER,
            "--timeout=60s",
            "--feature-gates=Topology=true",
            "--extra-create-metadata",
            leader,
            "--default-fstype=ext4",
        ),
        _sidecar("csi-attacher", ATTACHER, "--timeout=60s", leader),
        _sidecar(
            "csi-resizer", RESIZER, "--timeout=60s", "--handle-volume-inuse-error=false", leader
        ),
        {
            "name": "liveness-probe",
            "image": LIVENESS,
            "args": ["--csi-address=/csi/csi.sock"],
            "volumeMounts": [{"name": "socket-dir", "mountPath": "/csi"}],
            "resources": _RESOURCES,
            "securityContext": _LOCKED,
        },
    ]
    apart = {
        "weight": 100,
        "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": CONTROLLER}},
            "topologyKey": "kubernetes.io/hostname",
        },
    }
    pod = {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": CONTROLLER_SA,
        "nodeSelector": {"kubernetes.io/os": "linux", CONTROL_PLANE: ""},
        "tolerations": [
            {"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"},
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"effect": "NoExecute", "operator": "Exists", "tolerationSeconds": 300},
        ],
        "affinity": {
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [apart]}
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
        },
        "containers": containers,
        "volumes": [{"name": "socket-dir", "emptyDir": {}}],
    }
    meta = metadata(CONTROLLER, SYSTEM, _labels(CONTROLLER))
    return deployment(
        meta, pod, 2, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    )


def node_daemon_set() -> Obj:
    """On every node, masters included: formats, mounts and unmounts the attached
    volumes for the kubelet. Privileged, as mounting needs; it makes no AWS call that
    needs IAM (it reads the instance metadata)."""
    mounts = [
        {
            "name": "kubelet-dir",
            "mountPath": "/var/lib/kubelet",
            "mountPropagation": "Bidirectional",
        },
        {"name": "plugin-dir", "mountPath": "/csi"},
        {"name": "device-dir", "mountPath": "/dev"},
    ]
    plugin = {
        "name": "ebs-plugin",
        "image": IMAGE,
        "args": ["node", "--endpoint=$(CSI_ENDPOINT)", "--logging-format=text", "--v=2"],
        "env": [{"name": "CSI_ENDPOINT", "value": "unix:/csi/csi.sock"}, _node_name_env()],
        "volumeMounts": mounts,
        "ports": [{"name": "healthz", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        "livenessProbe": _health(),
        "resources": _RESOURCES,
        "securityContext": {"privileged": True, "readOnlyRootFilesystem": True},
        "lifecycle": {
            "preStop": {"exec": {"command": ["/bin/aws-ebs-csi-driver", "pre-stop-hook"]}}
        },
    }
    registration = f"{_PLUGIN_DIR}csi.sock"
    registrar = {
        "name": "node-driver-registrar",
        "image": REGISTRAR,
        "args": [
            "--csi-address=$(ADDRESS)",
            "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)",
            "--v=2",
        ],
        "env": [
            {"name": "ADDRESS", "value": "/csi/csi.sock"},
            {"name": "DRIVER_REG_SOCK_PATH", "value": registration},
        ],
        "livenessProbe": {
            "exec": {
                "command": [
                    "/csi-node-driver-registrar",
                    "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)",
                    "--mode=kubelet-registration-probe",
                ]
            },
            "initialDelaySeconds": 30,
            "periodSeconds": 90,
            "timeoutSeconds": 15,
        },
        "volumeMounts": [
            {"name": "plugin-dir", "mountPath": "/csi"},
            {"name": "registration-dir", "mountPath": "/registration"},
            {"name": "probe-dir", "mountPath": _PLUGIN_DIR},
        ],
        "resources": _RESOURCES,
        "securityContext": _LOCKED,
    }
    liveness = {
        "name": "liveness-probe",
        "image": LIVENESS,
        "args": ["--csi-address=/csi/csi.sock"],
        "volumeMounts": [{"name": "plugin-dir", "mountPath": "/csi"}],
        "resources": _RESOURCES,
        "securityContext": _LOCKED,
    }
    host = [
        ("kubelet-dir", "/var/lib/kubelet", "Directory"),
        ("plugin-dir", _PLUGIN_DIR, "DirectoryOrCreate"),
        ("registration-dir", "/var/lib/kubelet/plugins_registry/", "Directory"),
        ("device-dir", "/dev", "Directory"),
    ]
    pod = {
        "priorityClassName": "system-node-critical",
        "serviceAccountName": NODE_SA,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"operator": "Exists"}],
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "fsGroup": 0},
        "containers": [plugin, registrar, liveness],
        "volumes": [
            *({"name": n, "hostPath": {"path": p, "type": t}} for n, p, t in host),
            {"name": "probe-dir", "emptyDir": {}},
        ],
    }
    meta = metadata(NODE, SYSTEM, _labels(NODE))
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}
    return daemon_set(meta, pod, updateStrategy=rolling)


def csi_driver() -> Obj:
    """Registers the driver: volumes are attached (VolumeAttachment) before mounting;
    fsGroup is applied by the kubelet to the files (the driver formats ext4)."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": metadata(DRIVER, None, _labels(_PART_OF)),
        "spec": {"attachRequired": True, "podInfoOnMount": False, "fsGroupPolicy": "File"},
    }


def cluster_roles() -> list[Obj]:
    """What each controller sidecar and the node plugin may do (upstream's rules, less
    the snapshotter's)."""
    watch = ["get", "list", "watch"]
    events = rule([""], ["events"], ["list", "watch", "create", "update", "patch"])
    controller = _labels(CONTROLLER)
    return [
        cluster_role(
            "ebs-external-provisioner-role",
            controller,
            [
                rule([""], ["persistentvolumes"], [*watch, "create", "patch", "delete"]),
                rule([""], ["persistentvolumeclaims"], [*watch, "update"]),
                rule(
                    ["storage.k8s.io"], ["storageclasses", "csinodes", "volumeattachments"], watch
                ),
                events,
                rule([""], ["nodes"], watch),
                rule(["storage.k8s.io"], ["volumeattributesclasses"], ["get"]),
            ],
        ),
        cluster_role(
            "ebs-csi-controller-attacher",
            controller,
            [
                rule([""], ["persistentvolumes"], [*watch, "update", "patch"]),
                rule([""], ["nodes"], watch),
                rule(["storage.k8s.io"], ["csinodes"], watch),
                rule(["storage.k8s.io"], ["volumeattachments"], [*watch, "update", "patch"]),
                rule(["storage.k8s.io"], ["volumeattachments/status"], ["patch"]),
            ],
        ),
        cluster_role(
            "ebs-csi-controller-resizer",
            controller,
            [
                rule([""], ["persistentvolumes"], [*watch, "update", "patch"]),
                rule([""], ["persistentvolumeclaims", "pods"], watch),
                rule([""], ["persistentvolumeclaims/status"], ["update", "patch"]),
                rule(["storage.k8s.io"], ["storageclasses"], watch),
                events,
            ],
        ),
        cluster_role(
            "ebs-csi-node-role",
            _labels(NODE),
            [
                rule([""], ["nodes"], ["get", "patch"]),
                rule(["storage.k8s.io"], ["volumeattachments"], watch),
                rule(["storage.k8s.io"], ["csinodes"], ["get"]),
            ],
        ),
    ]


def rbac() -> list[Obj]:
    controller = _labels(CONTROLLER)
    leases = {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": metadata("ebs-csi-leases-role", SYSTEM, controller),
        "rules": [
            rule(
                ["coordination.k8s.io"],
                ["leases"],
                ["get", "watch", "list", "delete", "update", "create"],
            )
        ],
    }
    roles = cluster_roles()
    account = {r["metadata"]["name"]: CONTROLLER_SA for r in roles} | {"ebs-csi-node-role": NODE_SA}
    return [
        *roles,
        leases,
        *(
            binding(
                f"{name}-binding",
                "ClusterRole",
                name,
                sa,
                _labels(CONTROLLER if sa == CONTROLLER_SA else NODE),
            )
            for name, sa in account.items()
        ),
        binding(
            "ebs-csi-leases-rolebinding",
            "Role",
            "ebs-csi-leases-role",
            CONTROLLER_SA,
            controller,
            namespace=SYSTEM,
        ),
    ]


def disruption_budget() -> Obj:
    """Drains of the masters (rolling-update) keep one controller running."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(CONTROLLER, SYSTEM, _labels(CONTROLLER)),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": CONTROLLER}},
        },
    }


def ebs_csi_driver(cluster_name: str, region: str, volume_tags: Mapping[str, str]) -> list[Obj]:
    """Every object of the driver, in the order they can be created; `volume_tags` go
    on every volume it creates."""
    return [
        service_account(CONTROLLER_SA, _labels(CONTROLLER)),
        service_account(NODE_SA, _labels(NODE)),
        *rbac(),
        csi_driver(),
        controller_deployment(cluster_name, region, volume_tags),
        disruption_budget(),
        node_daemon_set(),
    ]
