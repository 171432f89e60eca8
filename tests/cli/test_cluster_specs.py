"""`create cluster`, `get`, `set`, `edit` and `replace -f` end to end on a file state store.

Every bad input exits 2 with a message naming the field, and the state store is left
exactly as it was.
"""

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli.run import escala, public_key

NAME = "proyecto.k8s.local"
ZONES = "eu-west-1a,eu-west-1b,eu-west-1c"
PUBLIC_KEY = public_key()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> Path:
    """A file state store; `aws` (moto) because `create cluster` asks which zones exist."""
    monkeypatch.setenv("ESCALA_STATE_STORE", f"file://{tmp_path}/state")
    monkeypatch.chdir(tmp_path)
    Path("proyecto.pub").write_text(PUBLIC_KEY)
    return tmp_path / "state"


def _files(state: Path) -> dict[str, bytes]:
    if not state.exists():
        return {}
    return {str(p.relative_to(state)): p.read_bytes() for p in state.rglob("*") if p.is_file()}


def create(capsys: pytest.CaptureFixture[str], *extra: str):  # type: ignore[no-untyped-def]
    return escala(
        capsys,
        "create", "cluster", "--name", NAME, "--zones", ZONES,
        "--master-zones", ZONES, "--master-count", "3", "--node-count", "1",
        "--node-size", "t3.small", "--master-size", "t3.small",
        "--ssh-public-key", "proyecto.pub", "--networking", "kubenet",
        "--kubernetes-version", "1.31.4", "--authorization", "RBAC", *extra,
    )  # fmt: skip


def test_create_writes_the_kops_layout_and_get_lists_it(state: Path, capsys) -> None:
    result = create(capsys)
    assert result.code == 0, result.err
    assert f"escala update cluster --name {NAME} --yes" in result.out
    files = _files(state)
    assert set(files) == {
        f"{NAME}/config",
        f"{NAME}/cluster-completed.spec",
        f"{NAME}/pki/ssh/public/admin",
        *(f"{NAME}/instancegroup/master-{z}" for z in ZONES.split(",")),
        f"{NAME}/instancegroup/nodes",
    }
    assert files[f"{NAME}/pki/ssh/public/admin"].decode() == PUBLIC_KEY
    config = yaml.safe_load(files[f"{NAME}/config"])
    assert "podCIDR" not in config["spec"]  # the user's words only
    completed = yaml.safe_load(files[f"{NAME}/cluster-completed.spec"])
    assert completed["spec"]["podCIDR"] == "100.96.0.0/11"
    assert completed["spec"]["kubernetesVersion"] == "1.31.4"

    clusters = escala(capsys, "get", "clusters")
    assert clusters.out.split("\n")[0].split() == ["NAME", "CLOUD", "ZONES"]
    assert clusters.out.split("\n")[1].split() == [NAME, "aws", ZONES]

    groups = escala(capsys, "get", "instancegroups", "--name", NAME)
    rows = [line.split() for line in groups.out.strip().split("\n")]
    assert rows[0] == ["NAME", "ROLE", "MACHINETYPE", "MIN", "MAX", "ZONES"]
    assert rows[1] == ["master-eu-west-1a", "Master", "t3.small", "1", "1", "eu-west-1a"]
    assert rows[4] == ["nodes", "Node", "t3.small", "1", "1", ZONES]

    as_json = json.loads(escala(capsys, "get", "ig", "--name", NAME, "-o", "json").out)
    assert [g["metadata"]["name"] for g in as_json][-1] == "nodes"
    as_yaml = list(yaml.safe_load_all(escala(capsys, "get", "clusters", "-o", "yaml").out))
    assert as_yaml[0]["metadata"]["name"] == NAME


def test_control_plane_spellings_work(state: Path, capsys) -> None:
    result = escala(
        capsys, "create", "cluster", "--name", NAME, "--zones", ZONES,
        "--control-plane-zones", ZONES, "--control-plane-count", "3",
        "--control-plane-size", "m7g.large",
    )  # fmt: skip
    assert result.code == 0, result.err
    master = yaml.safe_load(_files(state)[f"{NAME}/instancegroup/master-eu-west-1b"])
    assert master["spec"]["machineType"] == "m7g.large"
    assert "arm64" in master["spec"]["image"]


def test_dry_run_prints_the_documents_and_writes_nothing(state: Path, capsys) -> None:
    result = create(capsys, "--dry-run", "-o", "yaml")
    assert result.code == 0, result.err
    docs = list(yaml.safe_load_all(result.out))
    assert [d["kind"] for d in docs] == ["Cluster", *["InstanceGroup"] * 4]
    assert docs[0]["spec"]["subnets"][1]["cidr"] == "172.20.32.0/19"
    assert _files(state) == {}


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--master-count", "2", "--master-zones", "eu-west-1a,eu-west-1b"], "50%+1"),
        (["--master-count", "1", "--master-zones", "eu-west-1a"], "--allow-single-master"),
        (["--master-zones", "eu-west-1a,eu-west-1a,eu-west-1b"], "masters in zone eu-west-1a"),
        (["--zones", "eu-west-1a,us-east-1b,eu-west-1c"], "--zones: the zones are in 2 regions"),
        (["--node-count", "60"], "spec.networking"),
        (["--network-cidr", "100.96.0.0/16"], "spec.podCIDR"),
        (["--name", "Proyecto_k8s"], "metadata.name"),
        (["--kubernetes-version", "1.8.0"], "spec.kubernetesVersion"),
        (["--node-size", "enormous"], "instancegroup/nodes.spec.machineType"),
        (["--admin-access", "10.0.0.300/8"], "spec.kubernetesApiAccess[0]"),
        (["--ssh-public-key", "missing.pub"], "--ssh-public-key"),
        (["--networking", "flannel"], "--networking"),
        (["--zones", ""], "--zones"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_writes_nothing(
    state: Path, capsys, flags: list[str], field: str
) -> None:
    result = create(capsys, *flags)
    assert result.code == 2, result.out
    assert field in result.err
    assert _files(state) == {}


@pytest.mark.parametrize(
    "content",
    [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH...\n",
        "ssh-ed25519 b3BlbnNzaC1rZXktdjEA admin\n",
    ],
)
def test_anything_but_a_public_key_is_refused_and_never_stored(
    state: Path, capsys, content: str
) -> None:
    Path("id_ed25519").write_text(content)
    result = create(capsys, "--ssh-public-key", "id_ed25519")
    assert result.code == 2
    assert "--ssh-public-key: id_ed25519 is not an OpenSSH public key" in result.err
    assert "b3BlbnNzaC1rZXktdjEA" not in result.err + result.out
    assert _files(state) == {}


def test_creating_twice_is_refused_and_keeps_the_first(state: Path, capsys) -> None:
    assert create(capsys).code == 0
    before = _files(state)
    result = create(capsys, "--node-count", "3")
    assert result.code == 2
    assert "already exists" in result.err
    assert _files(state) == before


def test_set_instancegroup_validates_before_saving(state: Path, capsys) -> None:
    assert create(capsys).code == 0
    ok = escala(capsys, "set", "instancegroup", "nodes", "spec.maxSize=5", "--name", NAME)
    assert ok.code == 0, ok.err
    nodes = yaml.safe_load(_files(state)[f"{NAME}/instancegroup/nodes"])
    assert (nodes["spec"]["minSize"], nodes["spec"]["maxSize"]) == (1, 5)

    before = _files(state)
    for assignment, field in [
        ("spec.minSize=9", "instancegroup/nodes.spec.maxSize"),
        ("spec.subnets=[eu-west-1z]", "instancegroup/nodes.spec.subnets[0]"),
        ("spec.maxSize=many", "spec.maxSize"),
        ("spec.colour=blue", "spec.colour"),
        ("maxSize", "FIELD=VALUE"),
    ]:
        bad = escala(capsys, "set", "ig", "nodes", assignment, "--name", NAME)
        assert bad.code == 2, assignment
        assert field in bad.err, bad.err
    assert _files(state) == before


def test_replace_recomputes_the_completed_spec_and_guards_immutable_fields(
    state: Path, capsys
) -> None:
    assert create(capsys).code == 0
    cluster = yaml.safe_load(_files(state)[f"{NAME}/config"])
    cluster["spec"]["sshAccess"] = ["203.0.113.0/24"]
    nodes = yaml.safe_load(_files(state)[f"{NAME}/instancegroup/nodes"])
    nodes["spec"]["maxSize"] = 4
    Path("specs.yaml").write_text(yaml.safe_dump_all([cluster, nodes]))
    ok = escala(capsys, "replace", "-f", "specs.yaml")
    assert ok.code == 0, ok.err
    assert "replaced instancegroup/nodes" in ok.out
    completed = yaml.safe_load(_files(state)[f"{NAME}/cluster-completed.spec"])
    assert completed["spec"]["sshAccess"] == ["203.0.113.0/24"]

    before = _files(state)
    cluster["spec"]["networkCIDR"] = "10.0.0.0/16"
    Path("bad.yaml").write_text(yaml.safe_dump(cluster))
    bad = escala(capsys, "replace", "-f", "bad.yaml")
    assert bad.code == 2
    assert "spec.networkCIDR: cannot change" in bad.err

    renamed = {**nodes, "metadata": {**nodes["metadata"], "name": "workers"}}
    Path("new.yaml").write_text(yaml.safe_dump(renamed))
    missing = escala(capsys, "replace", "-f", "new.yaml")
    assert missing.code == 2
    assert "instance group 'workers' not found" in missing.err

    Path("broken.yaml").write_text("kind: InstanceGroup\napiVersion: escala.io/v1alpha1\n")
    assert "metadata" in escala(capsys, "replace", "-f", "broken.yaml").err
    assert _files(state) == before

    forced = escala(capsys, "replace", "-f", "new.yaml", "--force")
    assert forced.code == 0, forced.err
    assert f"{NAME}/instancegroup/workers" in _files(state)


EDITOR = """
import pathlib, sys
path = pathlib.Path(sys.argv[1])
count = pathlib.Path("edits")
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
pathlib.Path(f"seen-{n}.yaml").write_text(path.read_text())
steps = {steps}
if n < len(steps):
    path.write_text(path.read_text().replace(*steps[n]))
"""


def _editor(monkeypatch: pytest.MonkeyPatch, steps: list[tuple[str, str]]) -> None:
    Path("editor.py").write_text(EDITOR.replace("{steps}", repr(steps)))
    monkeypatch.setenv("EDITOR", f"{sys.executable} editor.py")


def test_edit_reopens_with_the_errors_until_valid(state: Path, capsys, monkeypatch) -> None:
    assert create(capsys).code == 0
    _editor(monkeypatch, [("maxSize: 1", "maxSize: 0"), ("maxSize: 0", "maxSize: 3")])
    result = escala(capsys, "edit", "instancegroup", "nodes", "--name", NAME)
    assert result.code == 0, result.err
    second = Path("seen-1.yaml").read_text()
    assert "# error:" in second
    assert "instancegroup/nodes.spec.maxSize: 0 must be >= minSize (1)" in second
    nodes = yaml.safe_load(_files(state)[f"{NAME}/instancegroup/nodes"])
    assert nodes["spec"]["maxSize"] == 3


def test_edit_without_a_valid_change_saves_nothing(state: Path, capsys, monkeypatch) -> None:
    assert create(capsys).code == 0
    before = _files(state)
    _editor(monkeypatch, [("maxSize: 1", "maxSize: 0")])  # invalid, then left as is
    result = escala(capsys, "edit", "ig", "nodes", "--name", NAME)
    assert result.code == 2
    assert "cancelled with errors left; nothing saved" in result.err
    assert "instancegroup/nodes.spec.maxSize: 0 must be >= minSize (1)" in result.err
    assert Path("edits").read_text() == "2"
    assert _files(state) == before
    _editor(monkeypatch, [])  # opened and closed untouched
    Path("edits").unlink()
    untouched = escala(capsys, "edit", "ig", "nodes", "--name", NAME)
    assert untouched.code == 0
    assert "Edit cancelled, no changes made." in untouched.err
    assert _files(state) == before


def test_commands_on_a_missing_cluster_exit_2(state: Path, capsys) -> None:
    result = escala(capsys, "get", "instancegroups", "--name", "nope.k8s.local")
    assert result.code == 2
    assert "cluster 'nope.k8s.local' not found" in result.err


def test_get_instancegroups_by_name(state: Path, capsys) -> None:
    assert create(capsys).code == 0
    one = yaml.safe_load(escala(capsys, "get", "ig", "nodes", "--name", NAME, "-o", "yaml").out)
    assert one["metadata"]["name"] == "nodes"
    missing = escala(capsys, "get", "ig", "workers", "--name", NAME)
    assert missing.code == 2
    assert "instance group 'workers' not found" in missing.err


def test_replace_refuses_a_rename(state: Path, capsys) -> None:
    assert create(capsys).code == 0
    cluster = yaml.safe_load(_files(state)[f"{NAME}/config"])
    cluster["metadata"]["name"] = "otro.k8s.local"
    Path("renamed.yaml").write_text(yaml.safe_dump(cluster))
    before = _files(state)
    result = escala(capsys, "replace", "-f", "renamed.yaml", "--name", NAME)
    assert result.code == 2
    assert "metadata.name: cannot rename cluster" in result.err
    assert _files(state) == before


def test_edit_cluster_saves_the_users_spec_and_guards_fixed_fields(
    state: Path, capsys, monkeypatch
) -> None:
    assert create(capsys).code == 0
    _editor(monkeypatch, [("sshAccess: []", "sshAccess: [203.0.113.0/24]")])
    result = escala(capsys, "edit", "cluster", "--name", NAME)
    assert result.code == 0, result.err
    completed = yaml.safe_load(_files(state)[f"{NAME}/cluster-completed.spec"])
    assert completed["spec"]["sshAccess"] == ["203.0.113.0/24"]
    assert "sshAccess: [203.0.113.0/24]" not in Path("seen-0.yaml").read_text()

    before = _files(state)
    Path("edits").unlink()
    grow = ("networking: kubenet", "networking: kubenet\n  networkCIDR: 10.0.0.0/16")
    _editor(monkeypatch, [grow])
    refused = escala(capsys, "edit", "cluster", "--name", NAME)
    assert refused.code == 2
    assert "spec.networkCIDR: cannot change once the cluster exists" in refused.err
    assert "# error: spec.networkCIDR" in Path("seen-1.yaml").read_text()
    assert _files(state) == before


@pytest.mark.parametrize(
    "region,zones",
    [
        ("eu-west-1", ZONES),  # exactly three zones
        ("us-east-1", "us-east-1a,us-east-1b,us-east-1c"),  # six: the first three by name
    ],
)
def test_without_zones_the_regions_first_three_available_are_used(
    aws: str, state: Path, capsys, monkeypatch: pytest.MonkeyPatch, region: str, zones: str
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    result = escala(capsys, "create", "cluster", "--name", NAME, "--dry-run", "-o", "json")
    assert result.code == 0, result.err
    assert f"Using zones {zones}: the first 3 available in {region}" in result.err
    docs = json.loads(result.out)
    assert ",".join(s["zone"] for s in docs[0]["spec"]["subnets"]) == zones
    masters = [d["spec"]["subnets"] for d in docs[1:] if d["spec"]["role"] == "Master"]
    assert masters == [[z] for z in zones.split(",")]
    assert _files(state) == {}


def test_without_zones_and_without_a_region_exits_2_naming_the_flag(
    state: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    result = escala(capsys, "create", "cluster", "--name", NAME)
    assert result.code == 2
    assert "--zones" in result.err and "AWS_DEFAULT_REGION" in result.err
    assert _files(state) == {}


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.33.5", "spec.kubernetesVersion 1.33.5: cannot skip a minor version (cluster runs "
                   "1.31.4); upgrade to 1.32.9 first"),
        ("1.30.14", "spec.kubernetesVersion 1.30.14: downgrades are not supported (cluster runs "
                    "1.31.4); keep 1.31.4 or choose a newer release"),
    ],
)  # fmt: skip
def test_replacing_the_cluster_cannot_skip_a_minor_or_downgrade(
    state: Path, capsys, version: str, message: str
) -> None:
    """`replace -f` (and `edit cluster`) are upgrades too: kubeadm's rules hold there."""
    assert create(capsys).code == 0
    before = _files(state)
    spec = yaml.safe_load(before[f"{NAME}/config"])
    spec["spec"]["kubernetesVersion"] = version
    Path("cluster.yaml").write_text(yaml.safe_dump(spec))
    result = escala(capsys, "replace", "-f", "cluster.yaml")
    assert result.code == 2
    assert message in " ".join(result.err.split())
    assert _files(state) == before

    spec["spec"]["kubernetesVersion"] = "1.32.9"  # the next minor is an upgrade
    Path("cluster.yaml").write_text(yaml.safe_dump(spec))
    assert escala(capsys, "replace", "-f", "cluster.yaml").code == 0


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--topology", "private"), "--networking: kubenet routes pods through one VPC route"),
        (("--nat", "single"), "--nat single: NAT gateways give private subnets their way out"),
        (("--bastion",), "--bastion: a bastion is the SSH way in to machines in private subnets"),
    ],
)  # fmt: skip
def test_topology_flags_that_cannot_work_exit_2_and_write_nothing(
    state: Path, capsys, flags: tuple[str, ...], named: str
) -> None:
    result = create(capsys, *flags)  # with --networking kubenet
    assert result.code == 2
    assert named in result.err and "--topology" in result.err
    assert _files(state) == {}
