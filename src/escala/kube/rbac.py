"""RBAC objects escala writes: bindings of a group to Kubernetes's built-in roles."""

import enum
import re
from typing import Any

RBAC_API = "rbac.authorization.k8s.io/v1"


class AccessRole(enum.StrEnum):
    """The built-in user-facing ClusterRoles (kubectl's documented aggregation)."""

    view = "view"
    edit = "edit"
    admin = "admin"


def binding_name(role: AccessRole, group: str) -> str:
    """`escala:<role>:<group>`, with anything RBAC names cannot hold replaced by `-`."""
    return f"escala:{role.value}:{re.sub(r'[^a-z0-9.:-]', '-', group.lower())}"


def group_binding(role: AccessRole, group: str, namespace: str | None = None) -> dict[str, Any]:
    """A RoleBinding in `namespace` (or a ClusterRoleBinding when None) of `group` to the
    built-in ClusterRole `role`: a namespace grant still points at the ClusterRole."""
    metadata: dict[str, Any] = {
        "name": binding_name(role, group),
        "labels": {"app.kubernetes.io/managed-by": "escala"},
    }
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": RBAC_API,
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": metadata,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role.value,
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }
