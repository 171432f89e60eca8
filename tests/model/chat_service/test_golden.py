"""Golden chat services: `golden/<name>/spec.yaml` is a completed ChatService and
`plan.txt` the plan `update chatservice` prints for it against an empty account (the
SSM parameters stored). They document what a chat service is made of; after a
deliberate change regenerate with `ESCALA_UPDATE_GOLDEN=1 pytest tests/model/chat_service` and
review the diff."""

import os
from pathlib import Path

import pytest

from escala.api.chat_service_spec import load_chat_service
from escala.cloud.aws.session import ClientFactory
from escala.ops.chat_service_lifecycle import update_chat_service
from escala.state import open_store

HERE = Path(__file__).parent / "golden"
SCENARIOS = sorted(p.name for p in HERE.iterdir() if (p / "spec.yaml").exists())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_golden_plan(scenario: str, parameters: dict[str, str], tmp_path: Path) -> None:
    folder = HERE / scenario
    service = load_chat_service((folder / "spec.yaml").read_text(), str(folder))
    store = open_store(f"file://{tmp_path}/state")
    store.put_chat_service(service)
    plan = update_chat_service(store, service.name, ClientFactory(), yes=False).render()
    expected = folder / "plan.txt"
    if os.environ.get("ESCALA_UPDATE_GOLDEN"):
        expected.write_text(plan)
    assert plan == expected.read_text()
