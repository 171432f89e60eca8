"""The chat's history on a volume: one PostgreSQL, a StatefulSet whose data lives on a
claim from the cluster's default StorageClass (an encrypted gp3 EBS volume the EBS CSI
driver makes in the zone the pod lands in), reached by every chat replica through the
headless Service `postgres`.

So history is shared by all replicas, and survives the loss of a pod or a node: the
StatefulSet's pod comes back on a node of the volume's zone and mounts the same volume.
Its credentials are in the Secret `chat-database`, generated once on the cluster
(`escala.ops.deploy`) and never in the manifests `deploy chat -o yaml` prints: the pods
only reference it. Pure functions, no I/O.
"""

from escala.kube.objects import Obj, container_security, labels, metadata, pod_security, selector
from escala.kube.storage_classes import DEFAULT

NAME = "postgres"
SECRET = "chat-database"  # keys: `password` (the server's), `url` (the chat's --database)
IMAGE = "postgres:17.6-alpine"
UID = 70  # the `postgres` user of the official Alpine image
PORT = 5432
USER = DATABASE = "chat"
SIZE = "10Gi"
DATA = "/var/lib/postgresql/data"


def database_url(password: str, host: str = NAME, port: int = PORT) -> str:
    """The chat's `--database` for the server (the Secret's `url` key)."""
    return f"postgresql://{USER}:{password}@{host}:{port}/{DATABASE}"


def database_secret(namespace: str, password: str) -> Obj:
    """Only ever sent to the API server, never printed."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(SECRET, namespace, labels(NAME, "escala")),
        "type": "Opaque",
        "stringData": {"password": password, "url": database_url(password)},
    }


def database_service(namespace: str) -> Obj:
    """Headless: the StatefulSet's pod answers as `postgres` (and `postgres-0.postgres`)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(NAME, namespace, labels(NAME, "escala")),
        "spec": {
            "clusterIP": "None",
            "selector": selector(NAME),
            "ports": [{"name": NAME, "port": PORT, "targetPort": NAME}],
        },
    }


def database_stateful_set(namespace: str) -> Obj:
    ready = {"exec": {"command": ["pg_isready", "-U", USER, "-d", DATABASE]}}
    password = {"secretKeyRef": {"name": SECRET, "key": "password"}}
    container = {
        "name": NAME,
        "image": IMAGE,
        "env": [
            {"name": "POSTGRES_USER", "value": USER},
            {"name": "POSTGRES_DB", "value": DATABASE},
            {"name": "POSTGRES_PASSWORD", "valueFrom": password},
            # a directory below the mount: a fresh ext4 volume holds lost+found
            {"name": "PGDATA", "value": f"{DATA}/pgdata"},
        ],
        "ports": [{"name": NAME, "containerPort": PORT}],
        "readinessProbe": {**ready, "periodSeconds": 5},
        "livenessProbe": {**ready, "initialDelaySeconds": 30, "periodSeconds": 10},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    pod_labels = labels(NAME, "escala")
    claim = {
        "metadata": {"name": "data", "labels": pod_labels},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": DEFAULT,
            "resources": {"requests": {"storage": SIZE}},
        },
    }
    pod = {
        "terminationGracePeriodSeconds": 60,  # a clean shutdown checkpoints
        "securityContext": pod_security(UID),
        "containers": [container],
        "volumes": [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(NAME, namespace, pod_labels),
        "spec": {
            "serviceName": NAME,
            "replicas": 1,
            "selector": {"matchLabels": selector(NAME)},
            "template": {"metadata": {"labels": pod_labels}, "spec": pod},
            "volumeClaimTemplates": [claim],
        },
    }


def chat_database(namespace: str) -> list[Obj]:
    """The Service and the StatefulSet (the Secret is made apart, see the module doc)."""
    return [database_service(namespace), database_stateful_set(namespace)]
