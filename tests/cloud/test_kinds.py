"""Every AWS kind on its own, against the sandbox: found absent, created, found again
with nothing to change, a change shown field by field and applied, deleted the way
`delete cluster` deletes it, found absent again.

The whole-cluster and chat-service lifecycles (tests/reconcile, tests/scaling) cover the
kinds together; a failure here names the one kind that broke.
"""

import pytest

from escala.cloud.aws.classic_load_balancer import ClassicLoadBalancer
from escala.cloud.aws.instance import Instance
from escala.cloud.aws.nat_gateway import NatGateway
from escala.cloud.aws.registry import ALL_DELETABLE, ALL_TASKS, CHAT_SERVICE_DELETABLE
from escala.cloud.aws.session import ClientFactory
from escala.cloud.aws.tags import OWNED, SHARED, as_list, ownership_tag
from escala.errors import CannotChangeField
from escala.reconcile.engine import Apply, ordered, run
from escala.reconcile.task import Fields, Task
from tests.cloud.kinds import CASES, OWNER, Case, private_route_table, rule_graph

DELETABLE = {*ALL_DELETABLE, *CHAT_SERVICE_DELETABLE}


def _find(cloud: ClientFactory, tasks: list[Task]) -> Fields | None:
    """What `update` reads for the last task: every task found in order, so references
    carry the IDs AWS gave them."""
    actual = {}
    for task in ordered(tasks):
        task.prepare(cloud)
        actual[task.key] = task.find(cloud)
    return actual[tasks[-1].key]


def _built(case: Case, cloud: ClientFactory, changed: bool = False) -> tuple[Task, Fields | None]:
    tasks = case.build(changed)
    actual = _find(cloud, tasks)
    return tasks[-1], actual


def _delete(case: Case, cloud: ClientFactory) -> None:
    """As `delete cluster` does: discover the kind by its ownership tags, delete what
    it finds. A kind without a delete of its own goes with its parent."""
    kind = case.deleted_with or case.kind
    owned = kind.discover(cloud, OWNER)
    assert owned, f"{kind.kind}: discover found nothing tagged as {OWNER}'s"
    for resource in owned:
        resource.delete(cloud, resource.id)
    assert kind.discover(cloud, OWNER) == [], f"{kind.kind}: still discovered after delete"


def test_every_kind_has_a_case():
    assert sorted(c.id for c in CASES) == sorted(k.kind for k in ALL_TASKS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_find_diff_update_delete(case: Case, aws):
    cloud = ClientFactory()
    kind = case.id
    tasks = case.build(False)
    run(OWNER, tasks[:-1], cloud, Apply(cloud))  # what the kind refers to

    subject, actual = _built(case, cloud)
    assert actual is None, f"{kind}: found before it was created: {actual}"
    subject.apply(cloud, None, subject.diff(None))

    subject, actual = _built(case, cloud)
    assert actual is not None, f"{kind}: not found after it was created"
    assert subject.diff(actual) == [], f"{kind}: changes right after create"

    if case.field is not None:
        before = subject.desired()[case.field]
        if case.drift:
            case.drift(cloud, subject)
        subject, actual = _built(case, cloud, changed=not case.drift)
        changes = subject.diff(actual)
        assert [c.field for c in changes] == [case.field], f"{kind}: {changes}"
        if case.drift:
            assert changes[0].new == before and changes[0].old != before, f"{kind}: {changes}"
        elif case.old_shown_by_id:
            assert str(changes[0].old).startswith(("arn:aws:", "subnet-")), f"{kind}: {changes}"
        else:
            assert changes[0].old == before != changes[0].new, f"{kind}: {changes}"
        if case.immutable:
            with pytest.raises(CannotChangeField, match=case.field):
                subject.check_changes(changes)
            subject, actual = _built(case, cloud)
            assert subject.diff(actual) == [], f"{kind}: a refused change changed something"
        else:
            subject.check_changes(changes)
            subject.apply(cloud, actual, changes)
            subject, actual = _built(case, cloud, changed=not case.drift)
            assert subject.diff(actual) == [], f"{kind}: the change was not applied"

    if case.kind in DELETABLE or case.deleted_with:
        _delete(case, cloud)
    else:
        subject.delete(cloud)
    assert _built(case, cloud)[1] is None, f"{kind}: still found after delete"


def test_a_changed_rule_is_a_new_rule_and_the_group_revokes_the_old_one(aws):
    """A rule has no fields to update: another CIDR is another rule. The group whose
    port escala manages lists the rule no task wants, and the update revokes it."""
    cloud = ClientFactory()
    run(OWNER, rule_graph(), cloud, Apply(cloud))
    plan = run(OWNER, rule_graph("198.51.100.0/24", managed_ports=(22,)), cloud, Apply(cloud))
    assert [c.key for c in plan.changes] == [
        f"SecurityGroupRule/ssh-{OWNER}",
        f"SecurityGroupRule/nodes.{OWNER}: tcp/22 from 203.0.113.0/24",
    ]
    assert _find(cloud, rule_graph()) is None, "the old CIDR is still allowed"
    assert _find(cloud, rule_graph("198.51.100.0/24")) is not None, "the new CIDR is not allowed"


def _classic_load_balancer(cloud: ClientFactory, name: str, tags: list[dict[str, str]]) -> None:
    """What Kubernetes' in-tree AWS code makes for a `type: LoadBalancer` Service."""
    cloud.client("elb").create_load_balancer(
        LoadBalancerName=name,
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        AvailabilityZones=["eu-west-1a"],
        Tags=tags,
    )


def _instance(cloud: ClientFactory, name: str, tags: list[dict[str, str]]) -> None:
    """What an Auto Scaling Group launches, tagged at launch."""
    ec2 = cloud.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [*tags, {"Key": "Name", "Value": name}]}
        ],
    )


@pytest.mark.parametrize(
    ("kind", "make"),
    [(ClassicLoadBalancer, _classic_load_balancer), (Instance, _instance)],
    ids=["ClassicLoadBalancer", "Instance"],
)
def test_kinds_escala_never_creates_are_discovered_by_tag_and_deleted(kind, make, aws):
    """`delete cluster` also meets what others made for the cluster: the owned ones go,
    a `shared` one stays."""
    cloud = ClientFactory()
    make(cloud, "a1b2c3d4e5f6", as_list({ownership_tag(OWNER): OWNED}))
    make(cloud, "f6e5d4c3b2a1", as_list({ownership_tag(OWNER): SHARED}))
    owned = kind.discover(cloud, OWNER)
    assert [o.name for o in owned] == ["a1b2c3d4e5f6"], f"{kind.kind}: {owned}"
    owned[0].delete(cloud, owned[0].id)
    assert kind.discover(cloud, OWNER) == [], f"{kind.kind}: still discovered after delete"


def test_a_private_route_table_sends_its_subnets_through_the_nat_gateway(aws):
    """The private topology's zone table: its default route is the NAT gateway (not the
    internet gateway), a second subnet is associated on change, and the NAT gateway,
    found by `delete cluster`, goes before its address and subnet."""
    cloud = ClientFactory()
    run(OWNER, private_route_table(False), cloud, Apply(cloud))
    tasks = private_route_table(False)
    table, gateway = tasks[-1], tasks[-2]
    assert _find(cloud, tasks) == table.desired(), "changes right after create"
    routes = cloud.client("ec2").describe_route_tables(RouteTableIds=[table.id])
    default = [r for r in routes["RouteTables"][0]["Routes"] if r.get("NatGatewayId")]
    assert [r["NatGatewayId"] for r in default] == [gateway.id]

    plan = run(OWNER, private_route_table(True), cloud, Apply(cloud))
    assert [(c.key, [f.field for f in c.fields]) for c in plan.changes] == [
        (table.key, ["subnets"])
    ]
    [owned] = NatGateway.discover(cloud, OWNER)
    address, subnet = tasks[-3], tasks[1]
    assert {address.id, subnet.id, tasks[0].id} <= set(owned.blocks)
