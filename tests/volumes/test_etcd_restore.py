"""`escala get backups` and `escala restore etcd` through the CLI: the steps it plans for
every running master (moto's instances), the SSM commands it sends with --yes (moto's
SSM), in the order etcd's procedure needs (all stop, all restore, all start), and what
it refuses with nothing sent: another cluster's backup, a corrupt one, a live API."""

import hashlib
import json
from pathlib import Path

import boto3
import pytest
import yaml

from escala.cloud.aws.run_command import CommandResult, running_masters
from escala.cloud.aws.session import ClientFactory
from escala.errors import CloudError
from escala.ops.etcd_restore import plan_restore, run_restore
from escala.state import StateStore, open_store
from tests.cli.run import Result, escala
from tests.kube.conftest import CONTEXT
from tests.kube.fake_apiserver import FakeApiServer
from tests.reconcile.specs import NAME, ZONES
from tests.servers import free_port

SNAPSHOT = b"etcd snapshot bytes " * 100
BACKUP = "20261203T060000Z-ip-172-20-32-4"


def _backup(store: StateStore, cluster: str = NAME, snapshot: bytes = SNAPSHOT) -> str:
    """A backup as a master's escala-etcd writes it (snapshot, then its metadata)."""
    key = f"{cluster}/backups/etcd/main/{BACKUP}"
    store.objects.write(f"{key}.db", snapshot)
    meta = {"cluster": cluster, "created": BACKUP.split("-")[0],
            "sha256": hashlib.sha256(SNAPSHOT).hexdigest(), "size": len(SNAPSHOT)}  # fmt: skip
    store.objects.write(f"{key}.json", json.dumps(meta).encode())
    return key


def put_backup(bucket: str, cluster: str) -> str:
    """A backup in an S3 state store; returns its ID."""
    _backup(open_store(f"s3://{bucket}"), cluster)
    return BACKUP


def _masters() -> list[str]:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [
        {"Key": "KubernetesCluster", "Value": NAME},
        {"Key": "escala.io/role", "Value": "master"},
    ]
    return [
        ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": zone},
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"][0]["InstanceId"]
        for zone in ZONES
    ]  # fmt: skip


@pytest.fixture
def down(fake_api: FakeApiServer, tmp_path: Path) -> Path:
    """A kubeconfig whose API server does not answer."""
    dead = f"http://127.0.0.1:{free_port()}"
    return fake_api.write_kubeconfig(tmp_path / "down.kubeconfig", CONTEXT, server=dead)


def run(capsys, store: StateStore, *args: str) -> Result:
    return escala(capsys, *args, "--name", NAME, "--state", store.url)


def commands() -> list[list[str]]:
    listed = boto3.client("ssm").list_commands()["Commands"]
    return [c["Parameters"]["commands"][0].split() for c in listed]


def test_get_backups_lists_the_clusters_backups(capsys, store) -> None:
    _backup(store)
    out = run(capsys, store, "get", "backups", "-o", "yaml")
    assert out.code == 0, out.err
    [listed] = list(yaml.safe_load_all(out.out))
    assert (listed["id"], listed["cluster"], listed["size"]) == (BACKUP, NAME, len(SNAPSHOT))
    assert BACKUP in run(capsys, store, "get", "backups").out


def test_restore_plans_all_stop_all_restore_all_start_and_sends_them_with_yes(
    capsys, store, down: Path
) -> None:
    _backup(store)
    instances = _masters()
    dry = run(capsys, store, "restore", "etcd", "--backup", BACKUP, "--kubeconfig", str(down))
    assert dry.code == 0, dry.err
    assert "Must specify --yes" in dry.out
    assert commands() == []

    done = run(capsys, store, "restore", "etcd", "--backup", BACKUP, "--kubeconfig", str(down),
               "--yes", "-o", "json")  # fmt: skip
    assert done.code == 0, done.err
    steps = json.loads(done.out)["steps"]
    assert [s["phase"] for s in steps] == ["stop"] * 3 + ["restore"] * 3 + ["start"] * 3
    assert {s["instance"] for s in steps} == set(instances)
    sent = commands()
    assert [c[1] for c in sent] == ["stop"] * 3 + ["restore"] * 3 + ["start"] * 3
    masters = running_masters(ClientFactory(), NAME)
    initial = ",".join(f"{m.name}=https://{m.ip}:2380" for m in masters)
    restores = [c for c in sent if c[1] == "restore"]
    assert {c[2] for c in restores} == {f"backups/etcd/main/{BACKUP}"}
    assert {c[5] for c in restores} == {initial}  # one new cluster of every member
    assert sorted((c[3], c[4]) for c in restores) == sorted(
        (m.name, f"https://{m.ip}:2380") for m in masters
    )


def test_restore_is_refused_while_the_api_answers_unless_forced(
    capsys, store, kubeconfig: Path
) -> None:
    _backup(store)
    _masters()
    live = run(capsys, store, "restore", "etcd", "--backup", BACKUP, "--kubeconfig",
               str(kubeconfig), "--yes")  # fmt: skip
    assert live.code == 2
    assert f"the Kubernetes API of {NAME} answers" in live.err and "--force" in live.err
    assert commands() == []
    forced = run(capsys, store, "restore", "etcd", "--backup", BACKUP, "--force")
    assert forced.code == 0, forced.err
    assert "Must specify --yes" in forced.out


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda s: _backup(s, snapshot=SNAPSHOT[:-1]), "it is corrupt or incomplete"),
        (lambda s: _backup(s, cluster="otro.k8s.local"), "a backup of cluster otro.k8s.local"),
    ],
)
def test_a_bad_backup_is_refused_and_nothing_is_sent(capsys, store, down, make, named) -> None:
    key = make(store)
    _masters()
    out = run(capsys, store, "restore", "etcd", "--backup", key, "--kubeconfig", str(down), "--yes")
    assert out.code == 2 and named in out.err
    assert commands() == []


def test_a_missing_backup_is_named(capsys, store, down) -> None:
    out = run(capsys, store, "restore", "etcd", "--backup", "nope", "--kubeconfig", str(down))
    assert out.code == 2 and "nope" in out.err and "escala get backups" in out.err


def test_a_phase_that_fails_on_one_master_stops_before_the_next(store, aws) -> None:
    """SSM cannot be made to fail in moto: the wait reports one master's stop failing."""
    _backup(store)
    _masters()
    cloud = ClientFactory()
    _, steps = plan_restore(cloud, store, NAME, BACKUP, api_answers=False, force=False)
    failing = steps[1].master.instance_id

    def wait(cloud: ClientFactory, command_id: str, instance_id: str) -> CommandResult:
        if instance_id == failing:
            return CommandResult("Failed", "", "mv: cannot stat etcd.yaml\n")
        return CommandResult("Success", "", "")

    with pytest.raises(CloudError, match=r"etcd stop on .*: Failed: mv: cannot stat etcd\.yaml"):
        run_restore(cloud, steps, wait=wait)
    assert [c[1] for c in commands()] == ["stop"] * 3  # no member restored
