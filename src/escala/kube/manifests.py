"""The chat as Kubernetes objects: the seed's second scaling case (sections 4 and 5).

Pure functions from a `ChatDeployment` (escala.api.chat_deployment, which holds its
defaults and rules) to plain manifests (dicts), no I/O, so the same documents are
printed by `escala deploy chat -o yaml`, validated against the Kubernetes JSON schemas
in the tests and applied through `KubeClient.apply`.

What each object is for:

- Namespace `escala-chat` holds everything of the app, so one name finds it all;
- Redis (Deployment + Service `redis`): the chat's `--redis` backend, which shares
  broadcasts, rooms and presence between replicas;
- PostgreSQL (`escala.kube.chat_database`: a StatefulSet on a volume of the default
  StorageClass): the history every replica shares, unless `--database-secret` names
  a database of the user's own;
- chat Deployment: CPU requests (the HPA's utilisation is measured against them),
  readiness on /readyz and liveness on /healthz, a preStop pause and a grace period
  longer than the chat's drain so SIGTERM moves clients away cleanly, spread across
  zones, non-root with a read-only root filesystem;
- Service `chat` of type LoadBalancer: an AWS Network Load Balancer, plain TCP, so
  websockets pass through untouched and are not cut by an HTTP idle timeout;
- PodDisruptionBudget (minAvailable 1): drains and scale-downs keep one replica up;
- HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation (`chat_autoscaler`: the
  target is `spec.cpuTarget`, 50% of the pods' CPU request unless `--cpu-target` says).

The HPA reads CPU from metrics-server (`escala.kube.metrics_server`); cluster-autoscaler,
which grows the node group when the HPA's new pods do not fit, is in
`escala.kube.cluster_autoscaler`.
"""

from escala.api.chat_deployment import ChatDeployment
from escala.kube import chat_database
from escala.kube.objects import (
    Obj,
    container_security,
    deployment,
    labels,
    metadata,
    pod_security,
    selector,
    service,
)

NAMESPACE = "escala-chat"
CHAT = "chat"
REDIS = "redis"
PORT = 3000
AUTH_SECRET_KEY = "keys"  # the key of `deploy chat --auth-secret`'s Secret: the chat's token keys
REDIS_IMAGE = "redis:7.4-alpine"
REDIS_UID = 999  # the `redis` user of the official image
CHAT_UID = 10001  # the `escala` user the Dockerfile creates
PRESTOP_SECONDS = 5  # time for the load balancer and kube-proxy to stop sending new clients
GRACE_MARGIN_SECONDS = 5  # after the drain: history flush, process exit
ZONE = "topology.kubernetes.io/zone"


def _meta(name: str, namespace: str | None = NAMESPACE, component: str | None = None) -> Obj:
    """Named `name`, in the chat's namespace, labelled part of escala."""
    return metadata(name, namespace, labels(component or name, "escala"))


def namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(NAMESPACE, None, CHAT)}


def redis_deployment() -> Obj:
    """One Redis without persistence: it relays broadcasts and presence, it keeps no
    history, so a restart loses nothing the chat cannot rebuild."""
    container = {
        "name": REDIS,
        "image": REDIS_IMAGE,
        "args": ["--save", "", "--appendonly", "no"],
        "ports": [{"name": REDIS, "containerPort": 6379}],
        "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 5},
        "livenessProbe": {"tcpSocket": {"port": REDIS}, "periodSeconds": 10},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    pod = {
        "securityContext": pod_security(REDIS_UID),
        "containers": [container],
        "volumes": [{"name": "data", "emptyDir": {}}],
    }
    return deployment(_meta(REDIS), pod)


def redis_service() -> Obj:
    """`redis:6379` inside the namespace, the address the chat's `--redis` names."""
    return service(_meta(REDIS), [{"name": REDIS, "port": 6379, "targetPort": REDIS}])


def grace_period(chat: ChatDeployment) -> int:
    """Seconds Kubernetes waits after preStop begins before SIGKILL: the preStop pause,
    the chat's whole drain, and a margin for the process to exit."""
    return PRESTOP_SECONDS + chat.spec.drain_timeout + GRACE_MARGIN_SECONDS


def chat_deployment(chat: ChatDeployment) -> Obj:
    """The chat replicas. `replicas` is only the starting count: once the HPA exists it
    owns the number (`escala.ops.deploy` keeps the live count on later runs)."""
    container = {
        "name": CHAT,
        "image": chat.spec.image,
        "args": [
            "--host",
            "0.0.0.0",
            "--port",
            str(PORT),
            "--redis",
            f"redis://{REDIS}:6379",
            "--log-format",
            "json",
        ],
        "env": _chat_env(chat),
        "ports": [{"name": "http", "containerPort": PORT}],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/escala"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    spread = [
        # ScheduleAnyway: a zone short of room must not leave pods Pending for good (the
        # node group's ASG spans the zones, so cluster-autoscaler cannot pick one)
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(CHAT)},
        }
        for key in (ZONE, "kubernetes.io/hostname")
    ]
    pod = {
        "terminationGracePeriodSeconds": grace_period(chat),
        "securityContext": pod_security(CHAT_UID),
        "topologySpreadConstraints": spread,
        "containers": [container],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    first = chat.spec.min_replicas if chat.spec.replicas is None else chat.spec.replicas
    rolling = {"maxUnavailable": 0, "maxSurge": 1}
    return deployment(
        _meta(CHAT), pod, first, strategy={"type": "RollingUpdate", "rollingUpdate": rolling}
    )


def _chat_env(chat: ChatDeployment) -> list[Obj]:
    """The chat's options that have no flag in `args`, read from its environment. The
    database URL holds a password, so it is only referenced from its Secret: it never
    appears in the manifests (or in `-o yaml`)."""
    env: list[Obj] = [
        {"name": "ESCALA_CHAT_DRAIN_TIMEOUT", "value": str(chat.spec.drain_timeout)},
        {"name": "ESCALA_CHAT_DATA_DIR", "value": "/var/lib/escala"},
    ]
    ref = {"name": database_secret_name(chat), "key": "url"}
    env.append({"name": "ESCALA_CHAT_DATABASE", "valueFrom": {"secretKeyRef": ref}})
    if chat.spec.allow_origin:
        env.append({"name": "ESCALA_CHAT_ALLOW_ORIGIN", "value": ",".join(chat.spec.allow_origin)})
    if chat.spec.allow_eio3:
        env.append({"name": "ESCALA_CHAT_ALLOW_EIO3", "value": "true"})
    if chat.spec.auth_secret:
        keys = {"name": chat.spec.auth_secret, "key": AUTH_SECRET_KEY}
        env.append({"name": "ESCALA_CHAT_AUTH_SECRET", "valueFrom": {"secretKeyRef": keys}})
    return env


def database_secret_name(chat: ChatDeployment) -> str:
    """The Secret holding the chat's database URL: the user's, or escala's PostgreSQL's."""
    return chat.spec.database_secret or chat_database.SECRET


def chat_service(chat: ChatDeployment) -> Obj:
    """Port 80 of an internet-facing AWS Network Load Balancer made by the cloud
    controller manager. TCP end to end, so the websocket upgrade passes untouched;
    ClientIP affinity keeps a polling client on one replica where kube-proxy can."""
    prefix = "service.beta.kubernetes.io/aws-load-balancer-"
    annotations = {
        f"{prefix}type": "nlb",
        f"{prefix}cross-zone-load-balancing-enabled": "true",
        f"{prefix}additional-resource-tags": f"KubernetesCluster={chat.cluster_name}",
    }
    return service(
        {**_meta(CHAT), "annotations": annotations},
        [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        type="LoadBalancer",
        sessionAffinity="ClientIP",
    )


def chat_disruption_budget() -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(CHAT),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(CHAT)}},
    }


def chat_autoscaler(chat: ChatDeployment) -> Obj:
    """autoscaling/v2 on CPU: adds replicas when their average use passes `cpu_target`
    percent of the request; scales down only after 5 minutes of lower use."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(CHAT),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": CHAT},
            "minReplicas": chat.spec.min_replicas,
            "maxReplicas": chat.spec.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": chat.spec.cpu_target,
                        },
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def chat_app(chat: ChatDeployment) -> list[Obj]:
    """Every object of the chat, in the order they can be created."""
    database = [] if chat.spec.database_secret else chat_database.chat_database(NAMESPACE)
    return [
        namespace(),
        redis_deployment(),
        redis_service(),
        *database,
        chat_deployment(chat),
        chat_service(chat),
        chat_disruption_budget(),
        chat_autoscaler(chat),
    ]
