"""Golden scenarios: `tests/scenarios/<name>/` holds the completed specs (`spec.yaml`)
and the plan `update cluster` prints for them (`plan.txt`). With `applied.yaml`, that
spec is applied first, so the plan shows the changes between the two.

The scenarios double as documentation of what escala supports. After a deliberate
change to the plan (new user-data from the bootstrap module, say), regenerate with
`ESCALA_UPDATE_GOLDEN=1 pytest tests/scenarios` and review the diff.
"""

import os
from pathlib import Path

import pytest

from escala.api import Cluster, parse_documents
from escala.cloud.aws.session import ClientFactory
from escala.ops.update import SSH_PUBLIC_KEY, update_cluster
from escala.state import StateStore, open_store
from tests.reconcile.specs import SSH_PUBLIC_KEY as ADMIN_KEY

HERE = Path(__file__).parent
SCENARIOS = sorted(p.name for p in HERE.iterdir() if (p / "spec.yaml").exists())


def _load(store: StateStore, path: Path) -> str:
    name = ""
    for doc in parse_documents(path.read_text(), str(path)):
        if isinstance(doc, Cluster):
            name = doc.name
            store.put_cluster(doc, completed=doc)
            store.write_secret(name, SSH_PUBLIC_KEY, ADMIN_KEY.encode())
        else:
            store.put_instance_group(name, doc)
    return name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_plan(scenario: str, aws: str, tmp_path: Path) -> None:
    folder = HERE / scenario
    store = open_store(f"file://{tmp_path}/state")
    clients = ClientFactory()
    if (folder / "applied.yaml").exists():
        update_cluster(store, _load(store, folder / "applied.yaml"), clients, yes=True)
    name = _load(store, folder / "spec.yaml")
    plan = update_cluster(store, name, clients, yes=False).render()
    expected = folder / "plan.txt"
    if os.environ.get("ESCALA_UPDATE_GOLDEN"):
        expected.write_text(plan)
    assert plan == expected.read_text()
