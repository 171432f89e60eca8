"""A thin client for the few Kubernetes API calls escala's operations make.

Built on the official `kubernetes` package for what it does well (reading kubeconfig
files, client certificates, tokens, TLS), but objects travel as plain JSON dicts: the
operations read a handful of fields (`spec.providerID`, `status.conditions`), and dicts
keep them independent of the generated model classes, which change between releases.

Contexts are named after clusters, as `escala export kubeconfig` writes them, so
`KubeClient.for_cluster("proyecto.k8s.local")` finds the right API server.
"""

import copy
import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from escala.errors import EscalaError, KubernetesUnreachable, UsageError

Obj = dict[str, Any]

# apiVersion/kind -> (path prefix, plural, namespaced): the kinds `apply` knows.
_KINDS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("v1", "ServiceAccount"): ("/api/v1", "serviceaccounts", True),
    ("v1", "ConfigMap"): ("/api/v1", "configmaps", True),
    ("v1", "Service"): ("/api/v1", "services", True),
    ("v1", "Secret"): ("/api/v1", "secrets", True),
    ("v1", "PersistentVolume"): ("/api/v1", "persistentvolumes", False),
    ("v1", "PersistentVolumeClaim"): ("/api/v1", "persistentvolumeclaims", True),
    ("apps/v1", "Deployment"): ("/apis/apps/v1", "deployments", True),
    ("apps/v1", "DaemonSet"): ("/apis/apps/v1", "daemonsets", True),
    ("apps/v1", "StatefulSet"): ("/apis/apps/v1", "statefulsets", True),
    ("storage.k8s.io/v1", "StorageClass"): ("/apis/storage.k8s.io/v1", "storageclasses", False),
    ("storage.k8s.io/v1", "CSIDriver"): ("/apis/storage.k8s.io/v1", "csidrivers", False),
    ("policy/v1", "PodDisruptionBudget"): ("/apis/policy/v1", "poddisruptionbudgets", True),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): (
        "/apis/autoscaling/v2",
        "horizontalpodautoscalers",
        True,
    ),
    ("apiregistration.k8s.io/v1", "APIService"): (
        "/apis/apiregistration.k8s.io/v1",
        "apiservices",
        False,
    ),
    ("rbac.authorization.k8s.io/v1", "Role"): ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (
        "/apis/rbac.authorization.k8s.io/v1",
        "rolebindings",
        True,
    ),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): (
        "/apis/rbac.authorization.k8s.io/v1",
        "clusterroles",
        False,
    ),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): (
        "/apis/rbac.authorization.k8s.io/v1",
        "clusterrolebindings",
        False,
    ),
}


class KubeApiError(EscalaError):
    """The API server answered with an error `Status` (`code`, `reason` as documented)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(f"Kubernetes API: {message} ({code} {reason})")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class EvictionResult:
    """What the eviction subresource said: evicted, or refused by a disruption budget."""

    evicted: bool
    message: str = ""


class KubeClient:
    """One cluster's API server, reached through a kubeconfig context."""

    def __init__(self, configuration: k8s.Configuration, timeout: float = 15.0) -> None:
        configuration.retries = 1
        self._api = k8s.ApiClient(configuration)
        self.server = str(configuration.host)
        self.timeout = timeout

    @classmethod
    def for_cluster(
        cls, context: str | None = None, kubeconfig: str | None = None, timeout: float = 15.0
    ) -> "KubeClient":
        """Load `context` (a cluster name) from `kubeconfig` ($KUBECONFIG, ~/.kube/config)."""
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(
                config_file=kubeconfig_path(kubeconfig),
                context=context,
                client_configuration=configuration,
            )
        except (k8s_config.ConfigException, OSError) as e:
            where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
            what = f"context {context!r}" if context else "the current context"
            raise UsageError(
                f"cannot load {what} from {where}: {e}; run `escala export kubeconfig "
                f"--name {context or 'CLUSTER'}` to write it"
            ) from e
        return cls(configuration, timeout)

    def close(self) -> None:
        self._api.close()

    # -- transport ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Obj | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        """One API call; returns the decoded JSON or raises KubeApiError/Unreachable."""
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        headers = {"Accept": "application/json", "Content-Type": content_type}
        method, url, headers, payload, _ = self._api.param_serialize(
            method=method,
            resource_path=path,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=self.timeout
            )
            raw = response.read()
        except (urllib3.exceptions.HTTPError, OSError, k8s.ApiException) as e:
            raise KubernetesUnreachable(
                f"cannot reach the Kubernetes API server at {self.server}: "
                f"{_reason(e)}. Is the cluster up and its API load balancer reachable? "
                "(`escala validate cluster --wait 10m` waits for it)"
            ) from e
        data = _json_or_none(raw)
        if data is None:  # a proxy or load balancer answering in the API server's place
            if response.status < 400:
                raise KubernetesUnreachable(
                    f"{self.server} answered {path} with {raw[:80]!r}: not a Kubernetes API "
                    "(not JSON). Is the kubeconfig's server address the cluster's?"
                )
            data = {}
        if response.status >= 400:
            raise KubeApiError(
                response.status,
                str(data.get("reason") or response.reason),
                str(data.get("message") or raw[:200].decode(errors="replace")),
            )
        return data

    # -- what the operations need --------------------------------------------------------

    def list_nodes(self) -> list[Obj]:
        return list(self.request("GET", "/api/v1/nodes").get("items", []))

    def list_pods(
        self,
        namespace: str | None = None,
        node: str | None = None,
        label_selector: str | None = None,
    ) -> list[Obj]:
        """Pods of one namespace (or all), optionally only those bound to `node`."""
        query: dict[str, str] = {}
        if node:
            query["fieldSelector"] = f"spec.nodeName={node}"
        if label_selector:
            query["labelSelector"] = label_selector
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        return list(self.request("GET", path, query).get("items", []))

    def get_pod(self, namespace: str, name: str) -> Obj | None:
        try:
            return self.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
        except KubeApiError as e:
            if e.code == 404:
                return None
            raise

    def set_unschedulable(self, node: str, unschedulable: bool) -> None:
        """Cordon (True) or uncordon (False) a node, as `kubectl cordon` does."""
        self.request(
            "PATCH",
            f"/api/v1/nodes/{node}",
            body={"spec": {"unschedulable": True if unschedulable else None}},
            content_type="application/strategic-merge-patch+json",
        )

    def delete_node(self, node: str) -> None:
        """Remove a node object (as kops does before terminating its instance)."""
        try:
            self.request("DELETE", f"/api/v1/nodes/{node}")
        except KubeApiError as e:
            if e.code != 404:
                raise

    def evict(self, namespace: str, name: str) -> EvictionResult:
        """Ask the eviction subresource to evict a pod (policy/v1 Eviction).

        A 429 means a PodDisruptionBudget forbids it for now: the caller retries later. A
        pod already gone counts as evicted.
        """
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        }
        try:
            self.request("POST", f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", body=body)
        except KubeApiError as e:
            if e.code == 429:
                return EvictionResult(False, str(e))
            if e.code == 404:
                return EvictionResult(True, "already gone")
            raise
        return EvictionResult(True)

    def get(self, obj: Obj) -> Obj | None:
        """The live object named like `obj` (same kind, namespace, name), or None."""
        try:
            return self.request("GET", _object_path(obj))
        except KubeApiError as e:
            if e.code == 404:
                return None
            raise

    def apply(self, obj: Obj, keep: tuple[str, ...] = ()) -> str:
        """Create `obj`, or replace it if it differs; "created", "replaced" or "unchanged".

        An object whose live copy already holds every field of `obj` is left alone, so
        applying the same manifests twice writes nothing the second time (fields the API
        server filled in, such as defaults and status, do not count as differences).
        `keep` is the path of one field another controller owns once the object exists
        (`("spec", "replicas")` under an HPA): its live value wins over `obj`'s.
        """
        collection = _collection(obj)
        name = obj["metadata"]["name"]
        for _ in range(3):
            current = self.get(obj)
            try:
                if current is None:
                    self.request("POST", collection, body=obj)
                    return "created"
                wanted = _with_live_field(obj, current, keep)
                if holds(current, wanted):
                    return "unchanged"
                version = current["metadata"]["resourceVersion"]
                wanted["metadata"] = {**wanted["metadata"], "resourceVersion": version}
                self.request("PUT", f"{collection}/{name}", body=wanted)
                return "replaced"
            except KubeApiError as e:
                if e.code != 409:  # created or changed meanwhile: look again
                    raise
        changing = f"{obj['kind']} {name} kept changing while applying it"
        raise KubeApiError(409, "Conflict", changing)

    def delete(self, obj: Obj) -> bool:
        """Delete the object named like `obj`; False if it was not there."""
        try:
            self.request("DELETE", _object_path(obj))
        except KubeApiError as e:
            if e.code == 404:
                return False
            raise
        return True


def _collection(obj: Obj) -> str:
    """The collection URL of `obj`'s kind (in its namespace, for namespaced kinds)."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    if key not in _KINDS:
        known = ", ".join(sorted(kind for _, kind in _KINDS))
        raise UsageError(f"cannot apply {key[1] or 'an object'} {key[0]}: knows {known}")
    prefix, plural, namespaced = _KINDS[key]
    if namespaced:
        return f"{prefix}/namespaces/{obj['metadata'].get('namespace', 'default')}/{plural}"
    return f"{prefix}/{plural}"


def _object_path(obj: Obj) -> str:
    return f"{_collection(obj)}/{obj['metadata']['name']}"


def _with_live_field(obj: Obj, live: Obj, path: tuple[str, ...]) -> Obj:
    """A copy of `obj` with the value `live` has at `path` (if it has one)."""
    out = copy.deepcopy(obj)
    if not path:
        return out
    source, target = live, out
    for key in path[:-1]:
        source, target = source.get(key, {}), target.setdefault(key, {})
    if path[-1] in source:
        target[path[-1]] = source[path[-1]]
    return out


def holds(live: Any, desired: Any) -> bool:
    """Whether `live` already says everything `desired` says.

    Maps: every key of `desired` is in `live` with a value it holds. Lists: same length,
    item by item (the server defaults fields inside list items, e.g. a port's protocol).
    Anything else: equal.
    """
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            k in live and holds(live[k], v) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(holds(a, b) for a, b in zip(live, desired, strict=True))
        )
    return bool(live == desired)


def kubeconfig_path(explicit: str | None = None) -> str:
    """`explicit`, else $KUBECONFIG (read now, not at import), else ~/.kube/config."""
    return explicit or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def current_context(kubeconfig: str | None = None) -> str | None:
    """The kubeconfig's current context (kops uses it when --name is not given)."""
    try:
        _, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig_path(kubeconfig))
    except (k8s_config.ConfigException, OSError):
        return None
    return str(current["name"]) if current else None


def _json_or_none(raw: bytes) -> Obj | None:
    """The decoded JSON object of an answer ({} when empty), None when it is not JSON."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _reason(error: BaseException) -> str:
    """The innermost readable cause of a connection failure."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    return str(reason or error).split(": ", 1)[-1]


def node_is_ready(node: Obj) -> bool:
    """The node's Ready condition is True."""
    conditions = node.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def instance_id_of(node: Obj) -> str | None:
    """The EC2 instance id in a node's `spec.providerID` (`aws:///eu-west-1a/i-0abc`)."""
    provider_id = str(node.get("spec", {}).get("providerID", ""))
    if not provider_id.startswith("aws://"):
        return None
    last = provider_id.rsplit("/", 1)[-1]
    return last if last.startswith("i-") else None
