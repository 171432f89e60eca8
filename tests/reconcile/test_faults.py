"""Faults that converge: the real `escala` command against `escala sandbox --faults`.

A sample of benchmarks/faults.py's campaign (its 20 seeds per life, updates included,
are in docs/reconcile.md): a Fargate chat service created and deleted with one call in
twenty failing (throttled, 5xx, reset, answer lost, slow), an EC2 chat service whose
creates lose their answers, and one SIGKILLed mid-create and mid-delete. Each must
succeed on its first run, or, after a SIGKILL, on the next plain one; the plan after it
says "No changes need to be applied"; the delete leaves nothing in any service escala
touches (tests/leaks.py).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import Outcome, Runner, Sandbox, lifecycles, sandbox


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox() as running:
        yield running


@pytest.fixture
def runner(box: Sandbox, tmp_path: Path) -> Runner:
    return Runner(box, tmp_path)


def _converged_at_once(outcome: Outcome) -> None:
    assert outcome.errors == [] and outcome.no_changes, outcome
    assert set(outcome.runs.values()) == {1}, outcome
    assert outcome.leaks == [], outcome


def test_a_fargate_chat_service_lives_through_faults(runner: Runner, tmp_path: Path) -> None:
    outcome = runner.life(lifecycles(tmp_path)["chat-fargate"], seed=1, rate=0.05, update=False)
    assert outcome.faults >= 5 and outcome.retries >= 3, outcome  # it was tested
    _converged_at_once(outcome)


def test_creates_whose_answers_are_lost_are_found_not_failed(
    runner: Runner, box: Sandbox, tmp_path: Path
) -> None:
    """botocore sends a create again when its answer is lost; AWS answers "already
    exists" (IAM's EntityAlreadyExists, an attached gateway's Resource.AlreadyAssociated):
    escala finds what its first call made and goes on."""
    life = lifecycles(tmp_path)["chat-ec2"]
    runner.prepare()
    box.faults(seed=2, rate=0.3, kinds=("lost",))
    created = runner.escala(life.create)
    assert created.returncode == 0, created.stderr
    assert box.stats()["faults"]["lost"] >= 5
    assert runner.plan_is_empty(life.plan)
    assert runner.escala(life.delete).returncode == 0
    assert runner.leaks() == []


def test_an_ec2_chat_service_killed_mid_create_and_mid_delete_converges(
    runner: Runner, tmp_path: Path
) -> None:
    """SIGKILLed at a seeded call of `create --yes`, then of `delete --yes` (each time the
    call after it was done by AWS and its answer never came): the next plain run of each
    finishes it. (The campaign does this to clusters too; tests/reconcile/test_interrupted.py
    stops a cluster's apply and delete in-process.)"""
    outcome = runner.life(lifecycles(tmp_path)["chat-ec2"], seed=3, rate=0.0,
                          kill=("apply", "delete"), update=False)  # fmt: skip
    assert outcome.kill.startswith("apply@") and " delete@" in outcome.kill
    _converged_at_once(outcome)
