"""`update cluster --yes` makes the cluster's secrets before instances that need them
launch; a dry run creates nothing."""

from escala.bootstrap.secrets import NODE_CA_CERT, cert_path
from escala.cloud.aws.session import ClientFactory
from escala.ops.update import update_cluster
from escala.state import open_store
from tests.reconcile.specs import NAME, write_cluster


def test_dry_run_makes_no_secret_and_apply_makes_them_once(aws, tmp_path) -> None:
    store = open_store(f"file://{tmp_path}/state")
    write_cluster(store)
    clients = ClientFactory()
    update_cluster(store, NAME, clients, yes=False)
    assert store.objects.list(f"{NAME}/pki/private/") == []
    update_cluster(store, NAME, clients, yes=True)
    ca = store.read_secret(NAME, cert_path("ca"))
    assert ca is not None and store.read_secret(NAME, NODE_CA_CERT) == ca
    update_cluster(store, NAME, clients, yes=True)
    assert store.read_secret(NAME, cert_path("ca")) == ca
