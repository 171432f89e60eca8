"""The user-data of every role and network passes cloud-init's own schema check, stays
under EC2's 16 KB, holds nothing secret, and its boot script computes what kubeadm needs."""

import fnmatch
import json
import subprocess

import pytest
import yaml
from cryptography import x509

from escala.api import Networking, Topology
from escala.bootstrap import kubeadm, pki
from escala.bootstrap.cloudinit import (
    BOOT_SCRIPT,
    cloud_provider_aws_version,
    kubeadm_configs,
    render_user_data,
)
from escala.bootstrap.secrets import NODE_CA_CERT, NODE_TOKEN, TOKEN_PATH, ensure_cluster_secrets
from escala.model.cluster.iam_roles import master_policy, node_policy
from escala.model.iam_policy import ECR_READ
from escala.state import open_store
from tests.bootstrap.boot_script import run_boot, user_data_files
from tests.image.records import REGISTRY
from tests.reconcile.specs import completed

ROLES = ("master-eu-west-1a", "master-eu-west-1b", "nodes")


def _schema_check(user_data: str, path) -> None:  # type: ignore[no-untyped-def]
    path.write_text(user_data)
    out = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Valid cloud-config" in out.stdout


def _files(user_data: str) -> dict[str, str]:
    return user_data_files(user_data)


def test_a_bastion_gets_no_kubernetes_only_updates_and_keys(tmp_path) -> None:
    cluster, groups = completed(Networking.calico, topology=Topology.private, bastion=True)
    bastion = next(g for g in groups if g.name == "bastions")
    user_data = render_user_data(cluster, bastion)
    _schema_check(user_data, tmp_path / "user-data")
    config = yaml.safe_load(user_data)
    assert config == {"package_update": True, "package_upgrade": True, "ssh_pwauth": False}


def _env(user_data: str) -> dict[str, str]:
    lines = _files(user_data)["/etc/escala/env"].splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize("networking", list(Networking))
@pytest.mark.parametrize("group_name", ROLES)
def test_user_data_passes_cloud_init_schema(networking, group_name, tmp_path) -> None:
    cluster, groups = completed(networking)
    group = next(g for g in groups if g.name == group_name)
    user_data = render_user_data(cluster, group)
    assert user_data.startswith("#cloud-config\n")
    assert len(user_data.encode()) < 16384  # EC2's limit on user-data
    _schema_check(user_data, tmp_path / "user-data")
    files = _files(user_data)
    for script in (p for p in files if p.startswith("/usr/local/sbin/")):
        subprocess.run(["bash", "-n"], input=files[script], text=True, check=True)
    env = _env(user_data)
    assert env["NETWORKING"] == networking.value
    assert env["KUBERNETES_VERSION"] == cluster.spec.kubernetes_version
    assert env["INIT_GROUP"] == "master-eu-west-1a"
    assert env["API_LB_NAME"] == "api-proyecto-k8s-local"
    has_ccm = "/etc/escala/addons/aws-cloud-controller-manager.yaml" in files
    assert has_ccm == (group.spec.role.value == "Master")
    assert ("/usr/local/sbin/escala-kubenet" in files) == (networking is Networking.kubenet)


def test_user_data_holds_no_secret(tmp_path) -> None:
    cluster, groups = completed()
    store = open_store(f"file://{tmp_path}/state")
    store.put_cluster(cluster, cluster)
    ensure_cluster_secrets(store, cluster)
    token = store.read_secret(cluster.name, TOKEN_PATH).decode()
    for group in groups:
        user_data = render_user_data(cluster, group)
        unpacked = "\n".join(_files(user_data).values())
        assert "PRIVATE KEY" not in unpacked
        assert token not in unpacked and token.split(".")[1] not in unpacked


def test_ccm_programs_routes_only_for_kubenet() -> None:
    for networking, routes in ((Networking.kubenet, "true"), (Networking.calico, "false")):
        cluster, groups = completed(networking)
        files = _files(render_user_data(cluster, groups[0]))
        docs = list(
            yaml.safe_load_all(files["/etc/escala/addons/aws-cloud-controller-manager.yaml"])
        )
        daemonset = next(d for d in docs if d["kind"] == "DaemonSet")
        args = daemonset["spec"]["template"]["spec"]["containers"][0]["args"]
        assert f"--configure-cloud-routes={routes}" in args
        assert f"--cluster-cidr={cluster.spec.pod_cidr}" in args
        image = daemonset["spec"]["template"]["spec"]["containers"][0]["image"]
        minor = ".".join(cluster.spec.kubernetes_version.split(".")[:2])
        assert image.endswith(f":v{minor}.0")


def test_boot_script_fills_the_join_config_with_the_token_and_ca_hash(tmp_path) -> None:
    """Source the real boot script and run its hash + render steps on the node's material."""
    cluster, groups = completed()
    store = open_store(f"file://{tmp_path}/state")
    store.put_cluster(cluster, cluster)
    ensure_cluster_secrets(store, cluster)
    files = _files(render_user_data(cluster, next(g for g in groups if g.name == "nodes")))
    (tmp_path / "env").write_text(files["/etc/escala/env"])
    (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
    (tmp_path / "join.yaml").write_text(files["/etc/escala/kubeadm/join.yaml"])
    (tmp_path / "ca.crt").write_bytes(store.read_secret(cluster.name, NODE_CA_CERT))
    token = store.read_secret(cluster.name, NODE_TOKEN).decode()
    script = f"""
        source {tmp_path}/boot.sh
        export NODE_NAME=ip-172-20-33-7.eu-west-1.compute.internal
        export API_ENDPOINT=api-proyecto-k8s-local-0123.elb.eu-west-1.amazonaws.com
        export BOOTSTRAP_TOKEN={token}
        export CA_CERT_HASH=$(ca_cert_hash {tmp_path}/ca.crt)
        render {tmp_path}/join.yaml
    """
    out = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={"ESCALA_ENV": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    join = yaml.safe_load(out.stdout)
    discovery = join["discovery"]["bootstrapToken"]
    ca = x509.load_pem_x509_certificate(store.read_secret(cluster.name, NODE_CA_CERT))
    assert discovery["caCertHashes"] == [pki.discovery_hash(ca)]
    assert discovery["token"] == token
    assert discovery["apiServerEndpoint"].endswith(".amazonaws.com:443")
    assert join["nodeRegistration"]["name"].startswith("ip-172-20-33-7")
    assert "controlPlane" not in join


# What etcd's v3 JSON gateway answers to cluster/member/list (IDs are uint64 strings).
MEMBERS = {
    "members": [
        {"ID": "111", "name": "ip-172-20-32-4", "peerURLs": ["https://172.20.32.4:2380"]},
        {"ID": "222", "name": "ip-172-20-64-4", "peerURLs": ["https://172.20.64.4:2380"]},
        {"ID": "333", "name": "ip-172-20-96-4", "peerURLs": ["https://172.20.96.4:2380"]},
    ]
}


def _master_boot(tmp_path, body: str) -> subprocess.CompletedProcess[str]:
    """Source the real master boot script, then run `body` (which may redefine the
    functions that reach AWS, IMDS or etcd, to play a cluster)."""
    return run_boot(tmp_path, ROLES[1], body)


def test_a_replacement_master_removes_the_etcd_member_it_replaces(tmp_path) -> None:
    """172.20.32.4 was terminated; 172.20.32.9 replaces it: the member on .32.4 goes,
    asked of a live peer, and the members of live masters stay."""
    members = json.dumps(MEMBERS)
    out = _master_boot(
        tmp_path,
        f"""
        kubeadm() {{ echo "kubeadm $*" >> {tmp_path}/calls; }}
        imds() {{ echo 172.20.32.9; }}
        master_ips() {{ echo 172.20.32.9 172.20.64.4 172.20.96.4; }}
        etcd_api() {{
          echo "etcd $1 $2 $3" >> {tmp_path}/calls
          [ "$2" = cluster/member/list ] && echo '{members}'
          return 0
        }}
        remove_stale_etcd_members
        """,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        "kubeadm init phase certs etcd-healthcheck-client --kubernetes-version "
        f"v{completed()[0].spec.kubernetes_version}",
        "etcd 172.20.64.4 cluster/member/list {}",
        'etcd 172.20.64.4 cluster/member/remove {"ID":"111"}',
    ]
    assert "removing etcd member 111" in out.stderr


def test_stale_members_are_those_on_no_running_master(tmp_path) -> None:
    members = json.dumps(MEMBERS)
    out = _master_boot(
        tmp_path,
        f"""
        stale_etcd_members '{members}' 172.20.32.4 172.20.64.4 172.20.96.4; echo ---
        stale_etcd_members '{members}' 172.20.32.9 172.20.64.4
        """,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["---", "111", "333"]


def test_the_previous_members_data_is_set_aside_before_joining(tmp_path) -> None:
    (tmp_path / "main" / "member" / "wal").mkdir(parents=True)
    (tmp_path / "main" / "member" / "wal" / "0.wal").write_text("old member")
    out = _master_boot(tmp_path, "set_aside_etcd_data; set_aside_etcd_data")
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "main").exists()
    assert (tmp_path / "main.replaced" / "member" / "wal" / "0.wal").read_text() == "old member"


def _granted(policy: dict, action: str, resource: str) -> bool:
    return any(
        action in s["Action"]
        and any(fnmatch.fnmatchcase(resource, r) for r in _as_list(s["Resource"]))
        for s in policy["Statement"]
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _iam_action(call: list[str]) -> tuple[str, str]:
    """The IAM action and resource ARN of one `aws` CLI call of the boot script."""
    service, command = call[0], call[1]
    if (service, command) == ("s3", "cp"):
        source = next(a for a in call if a.startswith("s3://"))
        return "s3:GetObject", "arn:aws:s3:::" + source.removeprefix("s3://")
    prefix = {"elbv2": "elasticloadbalancing"}.get(service, service)
    return f"{prefix}:{command.title().replace('-', '')}", "*"


# The AWS steps of each role's boot path that can run here (the rest write under /etc,
# attach disks or install packages).
BOOT_STEPS = {
    "nodes": ["API_ENDPOINT= api_endpoint", "read_object node/bootstrap-token",
              "fetch node/ca.crt ca.crt 0644"],
    "master-eu-west-1b": ["API_ENDPOINT= api_endpoint",
                          "read_object pki/private/bootstrap-token/token",
                          "fetch pki/private/ca/key.pem ca.key 0600", "master_ips"],
}  # fmt: skip


@pytest.mark.parametrize("group_name", BOOT_STEPS)
def test_what_the_boot_script_asks_of_aws_its_role_grants(group_name, tmp_path) -> None:
    """Run a role's AWS steps of the real script with `aws` recording its arguments,
    then look each call up in the role's policy (action and, for S3, the object)."""
    cluster, groups = completed()
    group = next(g for g in groups if g.name == group_name)
    files = _files(render_user_data(cluster, group))
    (tmp_path / "env").write_text(files["/etc/escala/env"])
    (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
    steps = "\n".join(BOOT_STEPS[group_name])
    script = f"""
        source {tmp_path}/boot.sh
        aws() {{ echo "$*" >> {tmp_path}/calls; [ "$1" != s3 ] || : > "${{@: -1}}"; echo x; }}
        {steps}
    """
    out = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"ESCALA_ENV": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    policy = (master_policy if group.spec.role.value == "Master" else node_policy)(cluster)
    calls = [line.split() for line in (tmp_path / "calls").read_text().splitlines()]
    assert len(calls) == len(BOOT_STEPS[group_name])
    for call in calls:
        action, resource = _iam_action(call)
        assert _granted(policy, action, resource), f"{group_name} may not {action} {resource}"


def _ecr_host_matches(pattern: str, host: str) -> bool:
    """The kubelet's matchImages rule: as many DNS labels, each matched as a glob."""
    labels, wanted = host.split("."), pattern.split(".")
    return len(labels) == len(wanted) and all(
        fnmatch.fnmatchcase(label, glob) for label, glob in zip(labels, wanted, strict=True)
    )


@pytest.mark.parametrize("group_name", ROLES)
def test_every_instance_pulls_ecr_images_through_the_kubelet_credential_provider(
    group_name, tmp_path
) -> None:
    """The kubelet is pointed at a CredentialProviderConfig whose provider the boot
    script installs where the kubelet looks, for the hosts ECR serves the cluster's
    repository from; the instance role may get the token and the layers."""
    cluster, groups = completed()
    group = next(g for g in groups if g.name == group_name)
    files = _files(render_user_data(cluster, group))
    config = yaml.safe_load(files[kubeadm.CREDENTIAL_PROVIDER_CONFIG])
    assert config["kind"] == "CredentialProviderConfig"
    (provider,) = config["providers"]
    assert any(_ecr_host_matches(p, REGISTRY) for p in provider["matchImages"])
    assert not any(_ecr_host_matches(p, "ghcr.io") for p in provider["matchImages"])
    for name, text in kubeadm_configs(cluster, group).items():
        for doc in yaml.safe_load_all(text):
            if "nodeRegistration" not in doc:
                continue
            args = {a["name"]: a["value"] for a in doc["nodeRegistration"]["kubeletExtraArgs"]}
            assert args["image-credential-provider-config"] == kubeadm.CREDENTIAL_PROVIDER_CONFIG
            bin_dir = args["image-credential-provider-bin-dir"]
            assert bin_dir == kubeadm.CREDENTIAL_PROVIDER_DIR, name

    # The real script's install step, with curl recording what it fetches.
    env = files["/etc/escala/env"].replace(kubeadm.CREDENTIAL_PROVIDER_DIR, str(tmp_path / "cp"))
    (tmp_path / "env").write_text(env)
    (tmp_path / "boot.sh").write_text(files[BOOT_SCRIPT])
    script = f"""
        source {tmp_path}/boot.sh
        curl() {{ echo "${{@: -3:1}}" > {tmp_path}/url; : > "${{@: -1}}"; }}
        install_ecr_credential_provider
    """
    env = {"ESCALA_ENV": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cp" / provider["name"]).stat().st_mode & 0o111
    url = (tmp_path / "url").read_text().strip()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    version = cloud_provider_aws_version(cluster)
    assert url == (
        f"https://artifacts.k8s.io/binaries/cloud-provider-aws/{version}/linux/{arch}/"
        f"ecr-credential-provider-linux-{arch}"
    )

    policy = (master_policy if group.spec.role.value == "Master" else node_policy)(cluster)
    for action in ECR_READ:
        assert _granted(policy, action, "*"), f"{group_name} may not {action}"
