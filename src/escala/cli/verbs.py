"""The kops-style verbs (`escala create cluster`, `escala get instancegroups`, ...).

Each verb is a Typer group; the modules of each command family add their nouns to it,
so `get clusters` and `get secrets` can live beside the code they belong to.
"""

import typer


def _verb(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True)


create = _verb("Create a cluster, instance group or chat service spec in the state store.")
get = _verb("List clusters, instance groups, chat services or secrets.")
edit = _verb("Edit a spec in $EDITOR; validated before it is saved.")
set_ = _verb("Set one field of a spec from the command line.")
update = _verb("Plan, and with --yes apply, the cloud changes a spec needs.")
delete = _verb("Delete a cluster, instance group or chat service and all it owns, or the chat.")
rolling_update = _verb("Replace instances whose configuration is out of date.")
validate = _verb("Check that a cluster is healthy.")
upgrade = _verb("Move a cluster to a newer Kubernetes version.")
export = _verb("Export cluster access (kubeconfig).")
deploy = _verb("Deploy an application (the chat) onto a cluster.")
restore = _verb("Restore a cluster's etcd from one of its backups.")
describe = _verb("Show what scales, live from the cloud: capacity, alarms, activities.")

ALL: dict[str, typer.Typer] = {
    "create": create,
    "get": get,
    "edit": edit,
    "set": set_,
    "update": update,
    "delete": delete,
    "rolling-update": rolling_update,
    "validate": validate,
    "upgrade": upgrade,
    "export": export,
    "deploy": deploy,
    "restore": restore,
    "describe": describe,
}
