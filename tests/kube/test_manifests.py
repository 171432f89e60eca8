"""The chat's manifests and cluster-autoscaler's: valid for the cluster's Kubernetes version
(the official JSON schemas, offline, through kubernetes-validate) and saying what the
scaling story needs: CPU requests for the HPA, a grace period that covers the drain,
cluster-autoscaler finding exactly the ASGs escala's model tags."""

import kubernetes_validate
import pytest

from escala.api.chat_deployment import ChatDeployment, validate_chat_deployment
from escala.cloud.aws.autoscaling_group import AutoscalingGroup
from escala.errors import SpecInvalid, UsageError
from escala.kube import cluster_autoscaler as ca
from escala.kube.manifests import chat_app, grace_period
from escala.kube.versions import SUPPORTED
from escala.model.cluster import build_tasks
from escala.model.cluster.iam_roles import master_policy, node_policy
from escala.ops.deploy import desired
from tests.reconcile.specs import NAME, SSH_PUBLIC_KEY, completed

OPTIONS = ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1")


def by_kind(objects: list[dict], kind: str, name: str | None = None) -> dict:
    [found] = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    return found


@pytest.mark.parametrize("minor", sorted(SUPPORTED))
def test_every_manifest_validates_against_the_schema_of_each_supported_version(minor) -> None:
    options = ChatDeployment.for_cluster(NAME, SUPPORTED[minor], "eu-west-1")
    for obj in desired(options):
        kubernetes_validate.validate(obj, minor, strict=True)


def test_the_schema_check_does_catch_a_wrong_field() -> None:
    deployment = by_kind(chat_app(OPTIONS), "Deployment", "chat")
    deployment["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.31", strict=True)


def test_chat_deployment_can_be_scaled_on_cpu_and_drains_on_sigterm() -> None:
    objects = chat_app(ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1", drain_timeout=25))
    pod = by_kind(objects, "Deployment", "chat")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["resources"]["requests"]["cpu"]  # HPA utilisation is relative to it
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"name": "ESCALA_CHAT_DRAIN_TIMEOUT", "value": "25"} in container["env"]
    assert pod["terminationGracePeriodSeconds"] >= 25 + 5  # preStop pause + whole drain
    assert grace_period(OPTIONS) >= OPTIONS.spec.drain_timeout
    assert container["args"][container["args"].index("--redis") + 1] == "redis://redis:6379"
    assert pod["securityContext"]["runAsNonRoot"] is True
    zones = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    assert "topology.kubernetes.io/zone" in zones


def test_a_shared_database_is_referenced_from_its_secret_never_written() -> None:
    options = ChatDeployment.for_cluster(
        NAME, "1.31.2", "eu-west-1", database_secret="chat-database"
    )
    validate_chat_deployment(options)
    deployment = by_kind(chat_app(options), "Deployment", "chat")
    kubernetes_validate.validate(deployment, "1.31", strict=True)
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    [database] = [e for e in env if e["name"] == "ESCALA_CHAT_DATABASE"]
    assert database == {
        "name": "ESCALA_CHAT_DATABASE",
        "valueFrom": {"secretKeyRef": {"name": "chat-database", "key": "url"}},
    }
    plain = by_kind(chat_app(OPTIONS), "Deployment", "chat")["spec"]["template"]["spec"]
    assert all(e["name"] != "ESCALA_CHAT_DATABASE" for e in plain["containers"][0]["env"])


def test_redis_service_is_the_address_the_chat_is_given() -> None:
    objects = chat_app(OPTIONS)
    service = by_kind(objects, "Service", "redis")
    redis_pods = by_kind(objects, "Deployment", "redis")["spec"]["template"]["metadata"]
    assert service["spec"]["ports"][0]["port"] == 6379
    assert all(redis_pods["labels"][k] == v for k, v in service["spec"]["selector"].items())


def test_chat_is_reached_through_a_network_load_balancer() -> None:
    service = by_kind(chat_app(OPTIONS), "Service", "chat")
    assert service["spec"]["type"] == "LoadBalancer"
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert service["spec"]["ports"][0]["protocol"] == "TCP"


def test_hpa_and_pdb_follow_the_flags() -> None:
    options = ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1", replicas=3, min_replicas=3,
                          max_replicas=12, cpu_target=55)  # fmt: skip
    objects = chat_app(options)
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 55
    assert hpa["scaleTargetRef"]["name"] == "chat"
    assert by_kind(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"min_replicas": 5, "max_replicas": 3, "replicas": 4}, "--max: 3 must be >= --min (5)"),
        ({"cpu_target": 0}, "--cpu-target: 0"),
        ({"cpu_target": 101}, "--cpu-target: 101"),
        ({"image": "Escala Chat:latest"}, "--image: 'Escala Chat:latest'"),
        ({"image": "escala:"}, "--image"),
        ({"replicas": 20}, "--replicas: 20 is outside"),
        ({"min_replicas": 0, "replicas": 0}, "--min: 0"),
        ({"drain_timeout": 0}, "--drain-timeout: 0"),
        ({"database_secret": "Chat_DB"}, "--database-secret: 'Chat_DB' is not a Secret name"),
    ],
)
def test_bad_flags_are_named(flags, named) -> None:
    with pytest.raises(SpecInvalid) as caught:
        validate_chat_deployment(ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1", **flags))
    assert named in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "image",
    [
        "escala:0.1.0",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala:0.1.0",
        "localhost:5000/team/escala-chat@sha256:" + "a" * 64,
        "ghcr.io/some_org/escala",
    ],
)
def test_image_references_are_accepted(image) -> None:
    validate_chat_deployment(ChatDeployment.for_cluster(NAME, "1.31.2", "eu-west-1", image=image))


def test_the_hpa_metric_is_served_by_metrics_server() -> None:
    objects = desired(OPTIONS)
    api = by_kind(objects, "APIService")["spec"]
    assert (api["group"], api["version"]) == ("metrics.k8s.io", "v1beta1")
    service = by_kind(objects, "Service", api["service"]["name"])
    assert service["metadata"]["namespace"] == api["service"]["namespace"] == "kube-system"
    pods = by_kind(objects, "Deployment", "metrics-server")["spec"]["template"]
    assert all(pods["metadata"]["labels"][k] == v for k, v in service["spec"]["selector"].items())
    reader = by_kind(objects, "ClusterRole", "system:aggregated-metrics-reader")
    assert reader["rules"][0]["apiGroups"] == ["metrics.k8s.io"]


def _node_asg_tags() -> dict[str, str]:
    cluster, groups = completed()
    [nodes] = [
        t
        for t in build_tasks(cluster, groups, SSH_PUBLIC_KEY).values()
        if isinstance(t, AutoscalingGroup) and t.name.startswith("nodes.")
    ]
    return nodes.tags


def test_cluster_autoscaler_discovers_exactly_the_tags_the_model_puts_on_node_asgs() -> None:
    deployment = by_kind(desired(OPTIONS), "Deployment", "cluster-autoscaler")
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    [discovery] = [a for a in command if a.startswith("--node-group-auto-discovery=")]
    keys = discovery.removeprefix("--node-group-auto-discovery=asg:tag=").split(",")
    tags = _node_asg_tags()
    assert keys == ["k8s.io/cluster-autoscaler/enabled", f"k8s.io/cluster-autoscaler/{NAME}"]
    assert all(key in tags for key in keys)
    assert {"--cloud-provider=aws", "--balance-similar-node-groups"} <= set(command)
    assert "--skip-nodes-with-system-pods=false" in command


def test_cluster_autoscaler_runs_where_the_autoscaling_actions_are() -> None:
    cluster, _ = completed()
    pod = by_kind(desired(OPTIONS), "Deployment", "cluster-autoscaler")["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    assert pod["spec"]["tolerations"][0]["key"] == "node-role.kubernetes.io/control-plane"
    assert pod["spec"]["serviceAccountName"] == "cluster-autoscaler"

    def actions(policy: dict) -> set[str]:
        return {a for s in policy["Statement"] for a in s["Action"]}

    writes = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert writes <= actions(master_policy(cluster))
    assert not writes & actions(node_policy(cluster))


@pytest.mark.parametrize("version", sorted(SUPPORTED.values()))
def test_cluster_autoscaler_image_matches_the_kubernetes_minor(version) -> None:
    minor = ".".join(version.split(".")[:2])
    assert ca.image_for(version).startswith(
        f"registry.k8s.io/autoscaling/cluster-autoscaler:v{minor}."
    )


def test_a_version_without_a_cluster_autoscaler_release_is_refused() -> None:
    with pytest.raises(UsageError, match=r"no cluster-autoscaler release known for 1\.20"):
        ca.image_for("1.20.4")


def test_without_replicas_the_chat_starts_at_the_hpa_minimum() -> None:
    options = ChatDeployment.for_cluster(
        NAME, "1.31.2", "eu-west-1", min_replicas=4, max_replicas=8
    )
    validate_chat_deployment(options)
    assert by_kind(chat_app(options), "Deployment", "chat")["spec"]["replicas"] == 4
