"""A fake Kubernetes API server for tests: a real HTTP server on 127.0.0.1.

No real API server can run on these machines, so escala's client-side logic (validate,
cordon, drain through evictions, RBAC apply) is tested against this fake. It serves the
few resources escala uses and follows the documented API semantics for them:

- core/v1 nodes (list, get, create, merge/strategic-merge PATCH, delete), and
  pods (list across namespaces or in one, `fieldSelector=spec.nodeName=...`,
  `labelSelector=a=b,c=d`, get, create, delete);
- `POST .../pods/NAME/eviction` (policy/v1 Eviction, "API-initiated eviction"): 201 and
  the pod deleted when no PodDisruptionBudget forbids it; 429 TooManyRequests with a
  Status whose cause is `DisruptionBudget` while one would be violated; 500 when more
  than one PDB selects the pod (the eviction subresource does not support that);
- policy/v1 PodDisruptionBudgets (list, create; status computed on read the way the
  disruption controller does: currentHealthy, desiredHealthy, disruptionsAllowed);
- policy/v1 PodDisruptionBudgets also get, replace (404 / 409 Conflict) and delete;
- namespaces, service accounts, services, config maps, secrets, persistentvolumes,
  persistentvolumeclaims, apps/v1 deployments, daemonsets and statefulsets,
  storage.k8s.io/v1 storageclasses and csidrivers, autoscaling/v2
  horizontalpodautoscalers, apiregistration.k8s.io/v1 apiservices and
  rbac.authorization.k8s.io/v1 roles, rolebindings,
  clusterroles, clusterrolebindings (list, get, create -> 409 AlreadyExists, replace ->
  404 / 409 Conflict on a stale resourceVersion, delete). Like the real API server, the
  fake fills in a few defaults on write (a Service's clusterIP, kept on replace, and its
  ports' protocol; a Deployment's revisionHistoryLimit and its containers'
  imagePullPolicy), so clients meet objects that hold more than they sent;
- errors as `Status` objects with the documented reason and code.

Controllers and kubelets are modelled simply and only as far as the tests need them: a
claim naming a PersistentVolume binds to it as the PV controller's static binding does
(`FakeCluster.bind_volumes`); a
pod owned by a ReplicaSet that is deleted is re-created on another schedulable, Ready
node and becomes Ready after `pod_ready_delay` seconds (so a drain meets 429s while the
replacement starts, as on a real cluster). Tests seed nodes and pods through
`FakeCluster` methods, which stand in for kubelets registering themselves.
"""

import base64
import copy
import itertools
import json
import math
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

MIRROR = "kubernetes.io/config.mirror"  # the annotation of a static pod's mirror
_POLICY = "/apis/policy/v1"
# API group paths served by the generic object store -> their group/version.
_GROUPS = {
    "/apis/rbac.authorization.k8s.io/v1": "rbac.authorization.k8s.io/v1",
    "/apis/apps/v1": "apps/v1",
    "/apis/autoscaling/v2": "autoscaling/v2",
    "/apis/apiregistration.k8s.io/v1": "apiregistration.k8s.io/v1",
    "/apis/storage.k8s.io/v1": "storage.k8s.io/v1",
}
# plural -> (apiVersion, kind, namespaced) for the generic object store.
_GENERIC: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("v1", "Namespace", False),
    "serviceaccounts": ("v1", "ServiceAccount", True),
    "services": ("v1", "Service", True),
    "secrets": ("v1", "Secret", True),
    "persistentvolumes": ("v1", "PersistentVolume", False),
    "persistentvolumeclaims": ("v1", "PersistentVolumeClaim", True),
    "configmaps": ("v1", "ConfigMap", True),
    "deployments": ("apps/v1", "Deployment", True),
    "daemonsets": ("apps/v1", "DaemonSet", True),
    "statefulsets": ("apps/v1", "StatefulSet", True),
    "storageclasses": ("storage.k8s.io/v1", "StorageClass", False),
    "csidrivers": ("storage.k8s.io/v1", "CSIDriver", False),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler", True),
    "apiservices": ("apiregistration.k8s.io/v1", "APIService", False),
    "roles": ("rbac.authorization.k8s.io/v1", "Role", True),
    "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
    "clusterroles": ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    "clusterrolebindings": ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
}


class ApiError(Exception):
    """Raised inside the fake; becomes a `Status` response."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> Obj:
        out: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            out["details"] = self.details
        return out


def _not_found(kind: str, name: str, group: str = "") -> ApiError:
    resource = f"{kind}.{group}" if group else kind
    return ApiError(
        404,
        "NotFound",
        f'{resource} "{name}" not found',
        {"name": name, "group": group, "kind": kind},
    )


def _success(code: int = 201) -> Obj:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge is the same for the maps we patch)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def _labels_match(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _parse_label_selector(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.split(",") if part)
    return {k.rstrip("="): v.lstrip("=") for k, v in pairs}


def _is_ready(obj: Obj) -> bool:
    conditions = obj.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pod_healthy(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") == "Running" and _is_ready(pod)


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9}


def _quantity(text: str) -> int:
    """Bytes in a Kubernetes quantity such as `10Gi` (the suffixes volumes use)."""
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)


def _can_bind(volume: Obj, claim: Obj, ns: str, name: str) -> bool:
    spec, wanted = volume.get("spec", {}), claim.get("spec", {})
    ref = spec.get("claimRef")
    if ref and (ref.get("namespace"), ref.get("name")) != (ns, name):
        return False
    requested = wanted.get("resources", {}).get("requests", {}).get("storage", "0")
    return (
        spec.get("storageClassName", "") == wanted.get("storageClassName", "")
        and _quantity(spec.get("capacity", {}).get("storage", "0")) >= _quantity(requested)
        and set(wanted.get("accessModes", [])) <= set(spec.get("accessModes", []))
    )


def _scaled(value: int | str, total: int) -> int:
    """An IntOrString budget value, percentages rounded up (as the disruption controller)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


@dataclass
class Eviction:
    """One eviction request the fake answered, for tests to inspect."""

    namespace: str
    name: str
    node: str | None
    code: int


@dataclass
class FakeCluster:
    """The fake's whole state, guarded by one lock."""

    pod_ready_delay: float = 0.0
    nodes: dict[str, Obj] = field(default_factory=dict)
    pods: dict[tuple[str, str], Obj] = field(default_factory=dict)
    pdbs: dict[tuple[str, str], Obj] = field(default_factory=dict)
    generic: dict[tuple[str, str, str], Obj] = field(default_factory=dict)
    evictions: list[Eviction] = field(default_factory=list)
    deleted_pods: list[tuple[str, str]] = field(default_factory=list)
    # (node, how many other nodes were already cordoned) at each cordon: "one at a time".
    cordons: list[tuple[str, int]] = field(default_factory=list)
    # The lowest currentHealthy each PDB ever had: a test proves no eviction broke a budget.
    lowest_healthy: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _versions: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- the PersistentVolume controller's static binding -------------------------------

    def bind_volumes(self) -> None:
        """A claim naming a volume (`spec.volumeName`) binds to it, as the PV controller
        does, when the volume exists, is claimed by no other claim (`spec.claimRef`),
        has the claim's storage class and at least the requested size and access modes:
        the volume's claimRef then names the claim and both report phase Bound. A claim
        that cannot bind stays Pending."""
        for (plural, ns, name), claim in self.generic.items():
            if plural != "persistentvolumeclaims":
                continue
            wanted = claim.get("spec", {})
            volume = self.generic.get(("persistentvolumes", "", wanted.get("volumeName", "")))
            bound = volume is not None and _can_bind(volume, claim, ns, name)
            claim["status"] = {"phase": "Bound" if bound else "Pending"}
            if bound and volume is not None:
                ref = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name}
                volume["spec"]["claimRef"] = {**volume["spec"].get("claimRef", {}), **ref}
                volume["status"] = {"phase": "Bound"}
                claim["status"]["capacity"] = volume["spec"]["capacity"]

    # -- seeding: what kubelets and controllers would do --------------------------------

    def _meta(self, obj: Obj, name: str, namespace: str | None = None) -> Obj:
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if namespace is not None:
            meta["namespace"] = namespace
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        meta["resourceVersion"] = str(next(self._versions))
        return obj

    def add_node(
        self,
        name: str,
        provider_id: str = "",
        role: str = "node",
        ready: bool = True,
        labels: dict[str, str] | None = None,
    ) -> Obj:
        """Register a node as its kubelet would."""
        all_labels = {"kubernetes.io/hostname": name, **(labels or {})}
        if role == "master":
            all_labels["node-role.kubernetes.io/control-plane"] = ""
        node: Obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"labels": all_labels},
            "spec": {"providerID": provider_id} if provider_id else {},
            "status": {
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
        with self.lock:
            self.nodes[name] = self._meta(node, name)
        return node

    def set_node_ready(self, name: str, ready: bool) -> None:
        with self.lock:
            self.nodes[name]["status"]["conditions"] = [
                {"type": "Ready", "status": "True" if ready else "False"}
            ]

    def remove_node(self, name: str) -> None:
        """The node is gone (its instance terminated): the node object and its pods go."""
        with self.lock:
            self.nodes.pop(name, None)
            for key, pod in list(self.pods.items()):
                if pod["spec"].get("nodeName") == name:
                    self._delete_pod(key)

    def add_pod(
        self,
        namespace: str,
        name: str,
        node: str | None,
        labels: dict[str, str] | None = None,
        owner: tuple[str, str] | None = None,
        phase: str = "Running",
        ready: bool = True,
        annotations: dict[str, str] | None = None,
    ) -> Obj:
        """Create a pod bound to `node`; `owner` is (kind, name) of its controller."""
        meta: Obj = {"labels": dict(labels or {}), "annotations": dict(annotations or {})}
        if owner:
            meta["ownerReferences"] = [
                {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
            ]
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": {"nodeName": node} if node else {},
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
        with self.lock:
            self.pods[(namespace, name)] = self._meta(pod, name, namespace)
            self._track_budgets()
        return pod

    def add_replicaset(
        self, namespace: str, name: str, replicas: int, labels: dict[str, str]
    ) -> list[Obj]:
        """Pods of a ReplicaSet, spread over the schedulable nodes."""
        return [
            self.add_pod(
                namespace,
                f"{name}-{uuid.uuid4().hex[:5]}",
                self._schedule(),
                labels,
                owner=("ReplicaSet", name),
            )
            for _ in range(replicas)
        ]

    def add_pdb(
        self,
        namespace: str,
        name: str,
        selector: dict[str, str],
        min_available: int | str | None = None,
        max_unavailable: int | str | None = None,
    ) -> Obj:
        spec: Obj = {"selector": {"matchLabels": selector}}
        if min_available is not None:
            spec["minAvailable"] = min_available
        if max_unavailable is not None:
            spec["maxUnavailable"] = max_unavailable
        pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "spec": spec}
        with self.lock:
            self.pdbs[(namespace, name)] = self._meta(pdb, name, namespace)
            self._track_budgets()
        return pdb

    # -- controller behaviour ----------------------------------------------------------

    def _schedule(self, avoid: str | None = None) -> str | None:
        """The schedulable Ready worker with the fewest pods (None: the pod stays Pending).

        Control-plane nodes are skipped, as their NoSchedule taint makes a scheduler do.
        """
        candidates = [
            name
            for name, node in self.nodes.items()
            if name != avoid
            and not node["spec"].get("unschedulable")
            and _is_ready(node)
            and "node-role.kubernetes.io/control-plane" not in node["metadata"]["labels"]
        ]
        if not candidates:
            return None
        load = {n: 0 for n in candidates}
        for pod in self.pods.values():
            if pod["spec"].get("nodeName") in load:
                load[pod["spec"]["nodeName"]] += 1
        return min(candidates, key=lambda n: (load[n], n))

    def _delete_pod(self, key: tuple[str, str]) -> None:
        pod = self.pods.pop(key)
        self.deleted_pods.append(key)
        owners = pod["metadata"].get("ownerReferences", [])
        rs = next((o for o in owners if o["kind"] == "ReplicaSet"), None)
        if rs is not None:
            node = self._schedule(avoid=pod["spec"].get("nodeName"))
            ready = self.pod_ready_delay <= 0 and node is not None
            replacement = self.add_pod(
                key[0],
                f"{rs['name']}-{uuid.uuid4().hex[:5]}",
                node,
                pod["metadata"]["labels"],
                owner=("ReplicaSet", rs["name"]),
                phase="Running" if node else "Pending",
                ready=ready,
            )
            if node is not None and not ready:
                name = replacement["metadata"]["name"]
                timer = threading.Timer(self.pod_ready_delay, self._become_ready, (key[0], name))
                timer.daemon = True
                timer.start()
        self._track_budgets()

    def _become_ready(self, namespace: str, name: str) -> None:
        with self.lock:
            pod = self.pods.get((namespace, name))
            if pod is not None:
                pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
                self._track_budgets()

    def pdb_status(self, key: tuple[str, str]) -> Obj:
        """What the disruption controller would write to the PDB's status."""
        pdb = self.pdbs[key]
        selector = pdb["spec"]["selector"].get("matchLabels", {})
        pods = [
            p
            for (ns, _), p in self.pods.items()
            if ns == key[0]
            and _labels_match(p["metadata"]["labels"], selector)
            and p["status"]["phase"] not in ("Succeeded", "Failed")
        ]
        expected = len(pods)
        healthy = sum(1 for p in pods if _pod_healthy(p))
        spec = pdb["spec"]
        if "minAvailable" in spec:
            desired = _scaled(spec["minAvailable"], expected)
        else:
            desired = max(0, expected - _scaled(spec.get("maxUnavailable", 0), expected))
        return {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": max(0, healthy - desired),
            "expectedPods": expected,
        }

    def _track_budgets(self) -> None:
        for key in self.pdbs:
            healthy = self.pdb_status(key)["currentHealthy"]
            self.lowest_healthy[key] = min(self.lowest_healthy.get(key, healthy), healthy)

    def _pdbs_for(self, pod: Obj) -> list[tuple[str, str]]:
        ns = pod["metadata"]["namespace"]
        return [
            key
            for key, pdb in self.pdbs.items()
            if key[0] == ns
            and _labels_match(
                pod["metadata"]["labels"], pdb["spec"]["selector"].get("matchLabels", {})
            )
        ]

    def evict(self, namespace: str, name: str) -> Obj:
        """The eviction subresource, as documented for policy/v1."""
        key = (namespace, name)
        pod = self.pods.get(key)
        if pod is None:
            raise _not_found("pods", name)
        node = pod["spec"].get("nodeName")
        try:
            self._check_budget(pod)
        except ApiError as e:
            self.evictions.append(Eviction(namespace, name, node, e.code))
            raise
        self.evictions.append(Eviction(namespace, name, node, 201))
        self._delete_pod(key)
        return _success()

    def _check_budget(self, pod: Obj) -> None:
        if pod["status"]["phase"] in ("Succeeded", "Failed"):
            return
        budgets = self._pdbs_for(pod)
        if len(budgets) > 1:
            raise ApiError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support.",
            )
        if not budgets:
            return
        status = self.pdb_status(budgets[0])
        if not _pod_healthy(pod) and status["currentHealthy"] >= status["desiredHealthy"]:
            return  # unhealthyPodEvictionPolicy IfHealthyBudget (the default)
        if status["disruptionsAllowed"] > 0:
            return
        raise ApiError(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {
                "causes": [
                    {
                        "type": "DisruptionBudget",
                        "message": (
                            f"The disruption budget {budgets[0][1]} needs "
                            f"{status['desiredHealthy']} healthy pods and has "
                            f"{status['currentHealthy']} currently"
                        ),
                    }
                ]
            },
        )


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    # Buffered: the status line, headers and body leave in one write (flushed after each
    # request), instead of small writes that wait on delayed ACKs for ~40 ms each.
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        try:
            body = self._body() if method in ("POST", "PUT", "PATCH") else None
            with self.server.cluster.lock:
                code, out = _route(self.server.cluster, method, parts, query, body, self.headers)
        except ApiError as e:
            code, out = e.code, e.status()
        except (ValueError, KeyError, TypeError) as e:
            code, out = 400, ApiError(400, "BadRequest", f"bad request: {e}").status()
        self._send(code, out)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


def _list(kind: str, items: list[Obj], api_version: str = "v1") -> Obj:
    return {
        "apiVersion": api_version,
        "kind": f"{kind}List",
        "metadata": {"resourceVersion": "1"},
        "items": [copy.deepcopy(i) for i in items],
    }


def _route(
    c: FakeCluster, method: str, parts: list[str], query: dict[str, str], body: Any, headers: Any
) -> tuple[int, Obj]:
    path = "/" + "/".join(parts)
    if path == "/version" and method == "GET":
        return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"}
    if path.startswith("/api/v1/"):
        return _core(c, method, parts[2:], query, body, headers)
    if path.startswith(_POLICY + "/"):
        return _policy(c, method, parts[3:], body)
    group = "/" + "/".join(parts[:3])
    if group in _GROUPS:
        return _generic(c, method, parts[3:], query, body, _GROUPS[group])
    raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")


def _select_pods(c: FakeCluster, namespace: str | None, query: dict[str, str]) -> list[Obj]:
    pods = [p for (ns, _), p in c.pods.items() if namespace in (None, ns)]
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        key, _, value = term.partition("=")
        if key != "spec.nodeName":
            raise ApiError(400, "BadRequest", f'field label not supported: "{key}"')
        pods = [p for p in pods if p["spec"].get("nodeName") == value.lstrip("=")]
    if "labelSelector" in query:
        selector = _parse_label_selector(query["labelSelector"])
        pods = [p for p in pods if _labels_match(p["metadata"]["labels"], selector)]
    return pods


def _existing(store: dict[Any, Obj], key: Any, plural: str, name: str) -> Obj:
    if key not in store:
        raise _not_found(plural, name)
    return store[key]


def _core(
    c: FakeCluster, method: str, rest: list[str], query: dict[str, str], body: Any, headers: Any
) -> tuple[int, Obj]:
    match (method, rest):
        case ("GET", ["nodes"]):
            return 200, _list("Node", list(c.nodes.values()))
        case ("POST", ["nodes"]):
            name = body["metadata"]["name"]
            if name in c.nodes:
                raise ApiError(409, "AlreadyExists", f'nodes "{name}" already exists')
            c.nodes[name] = c._meta(body, name)
            return 201, body
        case ("GET", ["nodes", name]):
            return 200, _existing(c.nodes, name, "nodes", name)
        case ("PATCH", ["nodes", name]):
            _existing(c.nodes, name, "nodes", name)
            content_type = headers.get("Content-Type", "")
            if content_type not in (
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ):
                raise ApiError(
                    415, "UnsupportedMediaType", f"the fake does not serve {content_type}"
                )
            if (body.get("spec") or {}).get("unschedulable"):
                others = sum(
                    1
                    for n, node in c.nodes.items()
                    if n != name and node["spec"].get("unschedulable")
                )
                c.cordons.append((name, others))
            patched = _merge_patch(c.nodes[name], body)
            c.nodes[name] = c._meta(patched, name)
            return 200, patched
        case ("DELETE", ["nodes", name]):
            _existing(c.nodes, name, "nodes", name)
            c.remove_node(name)
            return 200, _success(200)
        case ("GET", ["pods"]):
            return 200, _list("Pod", _select_pods(c, None, query))
        case (
            (_, ["namespaces"])
            | (_, ["namespaces", _])
            | (_, ["persistentvolumes", *_])
            | (
                _,
                [
                    "namespaces",
                    _,
                    "serviceaccounts"
                    | "services"
                    | "configmaps"
                    | "secrets"
                    | "persistentvolumeclaims",
                    *_,
                ],
            )
        ):
            return _generic(c, method, rest, query, body, "v1")
        case ("GET", ["namespaces", ns, "pods"]):
            return 200, _list("Pod", _select_pods(c, ns, query))
        case ("GET", ["namespaces", ns, "pods", name]):
            return 200, _existing(c.pods, (ns, name), "pods", name)
        case ("DELETE", ["namespaces", ns, "pods", name]):
            pod = _existing(c.pods, (ns, name), "pods", name)
            c._delete_pod((ns, name))
            return 200, pod
        case ("POST", ["namespaces", ns, "pods", name, "eviction"]):
            if not body or body.get("kind") != "Eviction":
                raise ApiError(400, "BadRequest", "body must be a policy/v1 Eviction")
            return 201, c.evict(ns, name)
    raise ApiError(405, "MethodNotAllowed", f"the fake does not serve {method} /api/v1/{rest}")


def _policy(c: FakeCluster, method: str, rest: list[str], body: Any) -> tuple[int, Obj]:
    def with_status(key: tuple[str, str]) -> Obj:
        return {**c.pdbs[key], "status": c.pdb_status(key)}

    match (method, rest):
        case ("GET", ["poddisruptionbudgets"]):
            items = [with_status(k) for k in c.pdbs]
            return 200, _list("PodDisruptionBudget", items, "policy/v1")
        case ("GET", ["namespaces", ns, "poddisruptionbudgets"]):
            items = [with_status(k) for k in c.pdbs if k[0] == ns]
            return 200, _list("PodDisruptionBudget", items, "policy/v1")
        case ("POST", ["namespaces", ns, "poddisruptionbudgets"]):
            name = body["metadata"]["name"]
            if (ns, name) in c.pdbs:
                raise ApiError(409, "AlreadyExists", f'poddisruptionbudgets "{name}" exists')
            pdb = {**copy.deepcopy(body), "apiVersion": "policy/v1", "kind": "PodDisruptionBudget"}
            c.pdbs[(ns, name)] = c._meta(pdb, name, ns)
            c._track_budgets()
            return 201, with_status((ns, name))
        case ("GET", ["namespaces", ns, "poddisruptionbudgets", name]):
            _existing(c.pdbs, (ns, name), "poddisruptionbudgets", name)
            return 200, with_status((ns, name))
        case ("PUT", ["namespaces", ns, "poddisruptionbudgets", name]):
            current = _existing(c.pdbs, (ns, name), "poddisruptionbudgets", name)
            _check_version(body, current, "poddisruptionbudgets.policy", name)
            replaced = {**current, "spec": body["spec"]}
            replaced["metadata"] = {**current["metadata"], **body["metadata"]}
            c.pdbs[(ns, name)] = c._meta(replaced, name, ns)
            c._track_budgets()
            return 200, with_status((ns, name))
        case ("DELETE", ["namespaces", ns, "poddisruptionbudgets", name]):
            _existing(c.pdbs, (ns, name), "poddisruptionbudgets", name)
            c.pdbs.pop((ns, name))
            return 200, _success(200)
    raise ApiError(405, "MethodNotAllowed", f"the fake does not serve {method} policy/v1/{rest}")


def _check_version(body: Obj, current: Obj, resource: str, name: str) -> None:
    """A replace naming a resourceVersion other than the current one is a 409 Conflict."""
    sent = body["metadata"].get("resourceVersion")
    if sent and sent != current["metadata"]["resourceVersion"]:
        raise ApiError(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {resource} "{name}": the object has '
            "been modified; please apply your changes to the latest version and try again",
        )


def _with_defaults(kind: str, body: Obj, current: Obj | None, c: FakeCluster) -> Obj:
    """The few defaults the real API server writes that escala's objects meet."""
    body = copy.deepcopy(body)
    spec = body.get("spec")
    if kind == "Service" and isinstance(spec, dict):
        kept = (current or {}).get("spec", {}).get("clusterIP")
        spec.setdefault("clusterIP", kept or f"10.96.0.{len(c.generic) % 250 + 10}")
        for port in spec.get("ports", []):
            port.setdefault("protocol", "TCP")
    if kind == "Secret" and "stringData" in body:  # write-only: stored base64 in `data`
        encoded = {
            k: base64.b64encode(v.encode()).decode() for k, v in body.pop("stringData").items()
        }
        body["data"] = {**body.get("data", {}), **encoded}
    if kind == "Deployment" and isinstance(spec, dict):
        spec.setdefault("revisionHistoryLimit", 10)
        for container in spec.get("template", {}).get("spec", {}).get("containers", []):
            latest = container.get("image", "").endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    return body


def _generic(
    c: FakeCluster, method: str, rest: list[str], query: dict[str, str], body: Any, api: str
) -> tuple[int, Obj]:
    """Create/get/replace/delete for namespaces and RBAC objects, with the documented
    conflict rules; `api` is the group/version the request's path named."""
    if rest and rest[0] == "namespaces" and len(rest) >= 3:
        ns, plural, name = rest[1], rest[2], (rest[3] if len(rest) > 3 else None)
    elif rest:
        ns, plural, name = "", rest[0], (rest[1] if len(rest) > 1 else None)
    else:
        raise ApiError(404, "NotFound", "no resource")
    if plural not in _GENERIC or _GENERIC[plural][2] != bool(ns) or _GENERIC[plural][0] != api:
        raise ApiError(404, "NotFound", f"the server could not find the resource {plural}")
    api_version, kind, _ = _GENERIC[plural]
    group = api_version.split("/")[0] if "/" in api_version else ""
    if name is None and method == "GET":
        items = [o for (p, n, _), o in c.generic.items() if p == plural and n == ns]
        return 200, _list(kind, items, api_version)
    if name is None and method == "POST":
        name = body["metadata"]["name"]
        if (plural, ns, name) in c.generic:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{plural}.{group} "{name}" already exists',
                {"name": name, "group": group, "kind": plural},
            )
        body = _with_defaults(kind, {**body, "apiVersion": api_version, "kind": kind}, None, c)
        c.generic[(plural, ns, name)] = c._meta(body, name, ns or None)
        c.bind_volumes()
        return 201, body
    key = (plural, ns, name or "")
    if key not in c.generic:
        raise _not_found(plural, name or "", group)
    if method == "GET":
        return 200, c.generic[key]
    if method == "DELETE":
        c.generic.pop(key)
        return 200, _success(200)
    if method == "PUT":
        current = c.generic[key]
        _check_version(body, current, f"{plural}.{group}" if group else plural, name or "")
        body = _with_defaults(kind, {**body, "apiVersion": api_version, "kind": kind}, current, c)
        body["metadata"] = {**current["metadata"], **body["metadata"]}
        c.generic[key] = c._meta(body, name or "", ns or None)
        c.bind_volumes()
        return 200, body
    raise ApiError(405, "MethodNotAllowed", f"the fake does not serve {method} {plural}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster


class FakeApiServer:
    """The fake on a free loopback port; `url` is its address, `cluster` its state."""

    def __init__(self, cluster: FakeCluster | None = None) -> None:
        self.cluster = cluster or FakeCluster()
        self._server = _Server(self.cluster)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeApiServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def write_kubeconfig(self, path: Path, context: str, server: str | None = None) -> Path:
        """A kubeconfig whose context `context` points at the fake (or at `server`)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": server or self.url}}],
            "users": [{"name": context, "user": {"token": "fake-token"}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config))
        return path


@contextmanager
def running(cluster: FakeCluster | None = None) -> Iterator[FakeApiServer]:
    """Run the fake for the duration of a `with` block."""
    server = FakeApiServer(cluster).start()
    try:
        yield server
    finally:
        server.stop()
