"""The masters' real etcd backup script against a real etcd (Debian's etcd-server, on
loopback ports) and the sandbox's S3 (moto, through the real `aws` CLI): keys written,
backed up with server-side encryption, the data directory wiped, the backup restored,
the keys read back. Only what a master has and this machine has not is swapped: plain
HTTP instead of kubeadm's etcd certificates, the node name instead of IMDS, temporary
directories instead of /var/lib/etcd and the static-pod manifests."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from escala.bootstrap.cloudinit import BOOT_SCRIPT, render_user_data
from escala.bootstrap.master_files import etcd_script
from escala.errors import UsageError
from escala.model.cluster.iam_roles import master_policy
from escala.state import open_store
from escala.state.backups import checked_backup, list_backups
from tests.bootstrap.boot_script import user_data_files
from tests.bootstrap.test_cloudinit import _granted
from tests.reconcile.specs import NAME, completed
from tests.servers import free_port, start, stop

BUCKET = "escala-state"  # the completed spec's state store: s3://escala-state/<cluster>
MEMBER = "ip-172-20-32-4.eu-west-1.compute.internal"
KEYS = {f"/registry/chat/message-{i}": f"hola {i}" for i in range(20)}


@dataclass
class Etcd:
    data_dir: Path
    client_port: int
    peer_port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def start(self) -> None:
        argv = ["etcd", "--name", MEMBER, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", f"{MEMBER}={self.peer_url}"]  # fmt: skip
        self.proc = start(argv, self.client_port)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def ctl(self, *args: str) -> str:
        out = subprocess.run(
            ["etcdctl", f"--endpoints={self.client_url}", *args],
            capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[Etcd]:
    server = Etcd(tmp_path / "etcd" / "main", free_port(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def master(tmp_path: Path, aws: str, etcd: Etcd) -> "Master":
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return Master(tmp_path, aws, etcd)


class Master:
    """The master's scripts and env, as cloud-init and the boot script install them."""

    def __init__(self, tmp_path: Path, endpoint: str, etcd: Etcd) -> None:
        cluster, groups = completed()
        group = next(g for g in groups if g.name == "master-eu-west-1a")
        files = user_data_files(render_user_data(cluster, group))
        env = files["/etc/escala/env"].replace(
            "ETCD_DATA_DIR=/var/lib/etcd/main", f"ETCD_DATA_DIR={etcd.data_dir}"
        )
        self.dir = tmp_path
        (tmp_path / "env").write_text(env)
        (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
        (tmp_path / "escala-etcd").write_bytes(etcd_script())
        (tmp_path / "manifests").mkdir()
        self.etcd = etcd
        self.environ = {
            "ESCALA_ENV": str(tmp_path / "env"),
            "ESCALA_BOOTSTRAP": str(tmp_path / "boot.sh"),
            "ESCALA_MANIFESTS": str(tmp_path / "manifests"),
            "ESCALA_STOPPED": str(tmp_path / "stopped"),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "HOME": str(tmp_path),
        }

    def run(self, body: str) -> subprocess.CompletedProcess[str]:
        """Source the real script, then run `body`; etcdctl talks to the test's etcd."""
        script = f"""
            source {self.dir}/escala-etcd
            etcd_client() {{ ETCDCTL_API=3 etcdctl --endpoints={self.etcd.client_url} "$@"; }}
            member_name() {{ echo {MEMBER}; }}
            {body}
        """
        return subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, env=self.environ
        )


def _objects() -> dict[str, dict]:
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.head_object(Bucket=BUCKET, Key=k) for k in keys}


def test_a_backup_restores_into_a_wiped_member_with_every_key(master: Master, etcd: Etcd) -> None:
    for key, value in KEYS.items():
        etcd.ctl("put", key, value)
    backed = master.run("backup_etcd")
    assert backed.returncode == 0, backed.stderr

    objects = _objects()
    prefix = f"{NAME}/backups/etcd/main/"
    assert all(k.startswith(prefix) for k in objects)
    assert sorted(k.rsplit(".", 1)[1] for k in objects) == ["db", "json"]
    assert {o["ServerSideEncryption"] for o in objects.values()} == {"AES256"}
    store = open_store(f"s3://{BUCKET}")
    [backup] = list_backups(store, NAME)
    assert backup.id.endswith("-ip-172-20-32-4") and backup.cluster == NAME
    assert checked_backup(store, NAME, backup.id) == backup

    etcd.stop()
    shutil.rmtree(etcd.data_dir)
    restored = master.run(
        f"restore_etcd {backup.key.removeprefix(NAME + '/')} {MEMBER} {etcd.peer_url} "
        f"{MEMBER}={etcd.peer_url}"
    )
    assert restored.returncode == 0, restored.stderr
    etcd.start()
    for key, value in KEYS.items():
        assert etcd.ctl("get", key, "--print-value-only").strip() == value


def test_a_corrupt_snapshot_is_refused_by_escala_and_by_the_script(
    master: Master, etcd: Etcd
) -> None:
    etcd.ctl("put", "/registry/a", "1")
    assert master.run("backup_etcd").returncode == 0
    store = open_store(f"s3://{BUCKET}")
    [backup] = list_backups(store, NAME)
    s3 = boto3.client("s3")
    good = s3.get_object(Bucket=BUCKET, Key=f"{backup.key}.db")["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=f"{backup.key}.db", Body=good[:-100])
    with pytest.raises(UsageError, match="corrupt or incomplete") as refused:
        checked_backup(store, NAME, backup.id)
    assert refused.value.exit_code == 2
    etcd.stop()
    before = sorted(p.name for p in etcd.data_dir.rglob("*"))
    out = master.run(
        f"restore_etcd {backup.key.removeprefix(NAME + '/')} {MEMBER} {etcd.peer_url} "
        f"{MEMBER}={etcd.peer_url}"
    )
    assert out.returncode != 0 and "does not match its checksum" in out.stderr
    assert sorted(p.name for p in etcd.data_dir.rglob("*")) == before  # nothing replaced


def test_restore_refuses_while_this_members_etcd_still_runs(master: Master) -> None:
    (master.dir / "manifests" / "etcd.yaml").write_text("kind: Pod\n")
    out = master.run("restore_etcd any-key m1 http://127.0.0.1:1 m1=http://127.0.0.1:1")
    assert out.returncode != 0 and "run 'escala-etcd stop' on every master first" in out.stderr


def test_stop_and_start_move_the_static_pods_out_and_back(master: Master, etcd: Etcd) -> None:
    manifests = master.dir / "manifests"
    for pod in ("etcd", "kube-apiserver", "kube-scheduler"):
        (manifests / f"{pod}.yaml").write_text(f"name: {pod}\n")
    etcd.stop()  # the kubelet would stop it once its manifest is gone
    assert master.run("stop_control_plane").returncode == 0
    assert sorted(p.name for p in manifests.iterdir()) == ["kube-scheduler.yaml"]
    assert master.run("start_control_plane").returncode == 0
    assert sorted(p.name for p in manifests.iterdir()) == [
        "etcd.yaml", "kube-apiserver.yaml", "kube-scheduler.yaml"
    ]  # fmt: skip


def _stamp(days: float) -> str:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    return (now - timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ")


def test_retention_keeps_every_backup_of_a_day_and_the_newest_of_each_day_for_a_week(
    master: Master,
) -> None:
    ages = {
        "hourly-1": 1 / 24, "hourly-23": 23 / 24,
        "two-days-early": 1.6, "two-days-late": 1.5,  # both on 1 December: keep the newer
        "six-days": 6.0, "eight-days": 8.0,
    }  # fmt: skip
    names = {label: f"{_stamp(days)}-ip-172-20-32-4" for label, days in ages.items()}
    s3 = boto3.client("s3")
    for name in names.values():
        for ext in ("db", "json"):
            s3.put_object(Bucket=BUCKET, Key=f"{NAME}/backups/etcd/main/{name}.{ext}", Body=b"{}")
    out = master.run(f"prune_backups {_stamp(0)}")
    assert out.returncode == 0, out.stderr
    left = {k.rsplit("/", 1)[1].rsplit(".", 1)[0] for k in _objects()}
    kept = {label for label, name in names.items() if name in left}
    assert kept == {"hourly-1", "hourly-23", "two-days-late", "six-days"}
    assert len(_objects()) == 2 * len(kept)  # snapshot and metadata go together


def test_the_backup_of_another_cluster_is_refused(master: Master, etcd: Etcd) -> None:
    assert master.run("backup_etcd").returncode == 0
    store = open_store(f"s3://{BUCKET}")
    [backup] = list_backups(store, NAME)
    s3 = boto3.client("s3")
    other = backup.key.replace(NAME, "otro.k8s.local")
    for ext in ("db", "json"):
        body = s3.get_object(Bucket=BUCKET, Key=f"{backup.key}.{ext}")["Body"].read()
        if ext == "json":
            body = json.dumps({**json.loads(body), "cluster": "otro.k8s.local"}).encode()
        s3.put_object(Bucket=BUCKET, Key=f"{other}.{ext}", Body=body)
    with pytest.raises(UsageError, match=r"a backup of cluster otro\.k8s\.local, not proyecto"):
        checked_backup(store, NAME, other)


def test_what_the_backup_asks_of_s3_the_masters_role_grants(master: Master, etcd: Etcd) -> None:
    calls = master.dir / "calls"
    out = master.run(f'aws() {{ echo "$*" >> {calls}; command aws "$@"; }}\nbackup_etcd')
    assert out.returncode == 0, out.stderr
    policy = master_policy(completed()[0])
    seen = set()
    for call in (line.split() for line in calls.read_text().splitlines()):
        url = next(a for a in call if a.startswith("s3://")).removeprefix("s3://")
        action = {"cp": "s3:PutObject", "rm": "s3:DeleteObject", "ls": "s3:ListBucket"}[call[1]]
        resource = f"arn:aws:s3:::{url.split('/')[0] if action == 's3:ListBucket' else url}"
        assert _granted(policy, action, resource), f"masters may not {action} {resource}"
        if action == "s3:PutObject":
            assert "--sse" in call and call[call.index("--sse") + 1] == "AES256"
        seen.add(action)
    assert seen == {"s3:PutObject", "s3:ListBucket"}  # nothing old enough to prune yet
