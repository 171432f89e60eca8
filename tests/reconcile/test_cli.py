"""`escala update cluster` and `escala delete cluster` end to end, through main()."""

import io
import json
import re

import boto3
import pytest
from rich.console import Console

from escala.cli import plan_output
from escala.cli.main import main
from tests.reconcile.specs import NAME


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_update_then_delete_from_the_command_line(store, aws, capsys):
    state = ["--name", NAME, "--state", store.url]
    code, out, _ = _run(capsys, "update", "cluster", *state)
    assert code == 0 and "Must specify --yes to apply changes" in out
    assert f"VPC/{NAME}" in out

    code, out, _ = _run(capsys, "update", "cluster", *state, "--yes", "-o", "json")
    plan = json.loads(out)
    assert code == 0 and plan["applied"] and len(plan["changes"]) == 40

    code, out, _ = _run(capsys, "update", "cluster", *state, "--yes")
    assert code == 0 and out.strip() == "No changes need to be applied"

    code, out, _ = _run(capsys, "delete", "cluster", *state)
    assert code == 0 and "Must specify --yes to delete the cluster" in out
    assert store.has_cluster(NAME)

    code, out, _ = _run(capsys, "delete", "cluster", *state, "--yes", "--keep-image-repository")
    assert code == 0 and f"Deleted cluster: '{NAME}'" in out
    assert not store.has_cluster(NAME)
    assert _repositories() == [f"escala/{NAME}"]  # kept, with its images

    # Found by its tags alone, it goes with a plain delete.
    code, out, _ = _run(capsys, "delete", "cluster", *state, "--yes")
    assert code == 0 and f"ECRRepository/escala/{NAME}" in out
    assert _repositories() == []


def _repositories() -> list[str]:
    return [
        r["repositoryName"] for r in boto3.client("ecr").describe_repositories()["repositories"]
    ]


def test_an_unknown_cluster_exits_2_naming_it(store, aws, capsys):
    code, _, err = _run(
        capsys, "update", "cluster", "--name", "nope.k8s.local", "--state", store.url
    )
    assert code == 2 and "cluster 'nope.k8s.local' not found" in err
    code, _, err = _run(
        capsys, "delete", "cluster", "--name", "nope.k8s.local", "--state", store.url
    )
    assert code == 2 and "nope.k8s.local" in err


def test_a_cluster_whose_create_never_finished_gets_one_message_and_a_way_out(store, aws, capsys):
    store.objects.delete(f"{NAME}/cluster-completed.spec")  # create stopped before it
    state = ["--name", NAME, "--state", store.url]
    code, out, err = _run(capsys, "update", "cluster", *state, "--yes")
    assert code == 2 and out == ""
    message = " ".join(err.split())  # the console wraps long lines
    assert message.startswith("error: ") and message.count("error") == 1
    assert "`escala create cluster` did not finish" in message
    assert f"`escala delete cluster --name {NAME} --yes`" in message
    assert not boto3.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:KubernetesCluster", "Values": [NAME]}]
    )["Vpcs"]

    code, out, _ = _run(capsys, "delete", "cluster", *state, "--yes")
    assert code == 0 and not store.has_cluster(NAME)


def test_on_a_terminal_update_and_delete_show_how_far_they_are(store, aws, capsys, monkeypatch):
    """Seconds here, minutes on AWS: a bar on stderr counts the resources done out of
    all and names the one being worked on."""
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=160)
    monkeypatch.setattr(plan_output, "err_console", terminal)
    state = ["--name", NAME, "--state", store.url]
    assert _run(capsys, "update", "cluster", *state, "--yes")[0] == 0
    applying = _frames(screen)
    assert f"Applying the AWS resources of {NAME}" in applying
    assert _counts(applying, 40) and re.search(r"\d+/40 \w+/", applying)  # and what is under way
    screen.seek(0)
    screen.truncate(0)
    assert _run(capsys, "delete", "cluster", *state, "--yes")[0] == 0
    deleting = _frames(screen)
    assert f"the AWS resources {NAME} owns" in deleting
    total = int(re.findall(r"\d+/(\d+)", deleting)[-1])
    assert _counts(deleting, total)


def _counts(frames: str, total: int) -> bool:
    """The bar counted up towards `total`: more than one count shown, the last one at
    the final resource (the count is of those done, shown beside the one under way)."""
    shown = [int(n) for n in re.findall(rf"(\d+)/{total}\b", frames)]
    return len(set(shown)) > 1 and shown[-1] >= total - 1


def _frames(screen: io.StringIO) -> str:
    """What the terminal was shown, escape codes taken out."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
