"""`escala sandbox --enforce-iam`: the sandbox checks every request against the caller's
IAM policies, the way AWS does for what escala's operator policies rely on.

moto 5.2.5 checks IAM once `INITIAL_NO_AUTH_ACTION_COUNT` requests have passed
(moto.core.authorization), but its check (moto.iam.access_control) knows a request's
resource only for existing IAM roles and S3, evaluates conditions only with StringEquals
and only on `sts:ExternalId` (every `aws:ResourceTag` or `aws:RequestTag` condition
passes), and answers an Allow whose condition fails as an explicit Deny. With
`--enforce-iam` the sandbox, in its own process only:

- sets `INITIAL_NO_AUTH_ACTION_COUNT=0`: every request is signed by a known key and
  checked; the export lines' key (`sandbox`) is the account's root user, which no policy
  limits, as in AWS;
- gives each request its resources, with their ARNs and tags as moto stores them: EC2 ids
  in the parameters (instances, VPCs, subnets, security groups, route tables, gateways,
  volumes, launch templates, key pairs), ELBv2 ARNs, Auto Scaling groups (by name or by
  instance), ECS clusters and services, ECR repositories, IAM roles and instance profiles
  by name, log groups, alarms, SSM documents and the instances a command targets; S3
  keeps moto's own bucket/object ARN;
- evaluates the policies as AWS documents it: an explicit Deny wins, every resource of a
  request needs an Allow; conditions with StringEquals, StringNotEquals, StringLike,
  StringNotLike (…IfExists, ForAllValues:, ForAnyValue:) and Null on `aws:RequestTag/*`,
  `aws:TagKeys`, `aws:ResourceTag/*` (and its `ec2:`/`autoscaling:` twins),
  `iam:AWSServiceName` and the create-action keys; any other operator fails closed;
- checks, as AWS does, the tagging a create implies: a create carrying tags also needs
  `ec2:CreateTags`, `elasticloadbalancing:AddTags` or `ecs:TagResource` with
  `<service>:CreateAction` set to the create.
- names CloudWatch's actions `cloudwatch:` as IAM does (moto uses the signing name,
  `monitoring:`), and answers a refusal with the resource in the message, as
  `AccessDeniedException` for JSON services (moto answers them in XML, which botocore
  reads as a bare "403").

Not enforced: permissions AWS checks inside another call (iam:PassRole when an instance
profile, task definition or service is given a role; ec2:RunInstances when Auto Scaling
launches) — moto makes no such inner call; resource tags of Application Auto Scaling, SSM
parameters and CloudWatch Logs (escala's policies put those on `*` or on names).
"""

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ROOT_KEY = "sandbox"  # the export lines' AWS_ACCESS_KEY_ID: the account's root user
EC2_TYPES = {
    "i": "instance",
    "vpc": "vpc",
    "subnet": "subnet",
    "sg": "security-group",
    "rtb": "route-table",
    "igw": "internet-gateway",
    "vol": "volume",
    "lt": "launch-template",
    "key": "key-pair",
    "nat": "natgateway",
    "eipalloc": "elastic-ip",
}
EC2_ID = re.compile(r"(i|vpc|subnet|sg|rtb|igw|vol|lt|key|nat|eipalloc)-[0-9a-f]+")
TAG_PAIR = re.compile(r"(?i)(.*tags?(\.member)?\.\d+)\.key")
# A create carrying tags is also a tagging request (AWS's "tag on create" check).
IMPLIED_TAGGING = {
    "ec2": "CreateTags",
    "elasticloadbalancing": "AddTags",
    "ecs": "TagResource",
}
CREATE_VERBS = ("Create", "Import", "Register", "RunInstances")
# moto prefixes actions with the signing name; IAM's prefix differs for CloudWatch.
IAM_PREFIX = {"monitoring": "cloudwatch"}

_current = threading.local()


@dataclass
class Resource:
    arn: str
    tags: dict[str, str] | None = None  # None: a resource without tags (or not looked up)


@dataclass
class Request:
    """What the policy check needs to know of one request."""

    resources: list[Resource] = field(default_factory=list)
    tags: dict[str, str] | None = None  # the tags the request puts on what it creates
    context: dict[str, list[str]] = field(default_factory=dict)


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            yield from _flatten(item, f"{path}.{index}")
    else:
        yield path, value


def _params(response: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's parameters flattened to dotted paths, and nested as sent (empty for
    EC2's query strings), whatever the protocol."""
    nested: Any = {}
    if getattr(response, "automated_parameter_parsing", False) and response.params:
        nested = response.params
    elif isinstance(response.body, str | bytes) and response.body[:1] in ("{", b"{"):
        try:
            nested = json.loads(response.body)
        except ValueError:
            nested = {}
    if isinstance(nested, dict) and nested:
        return dict(_flatten(nested)), nested
    return {key: values[0] for key, values in response.querystring.items() if values}, {}


def request_tags(params: dict[str, Any], nested: Any = None) -> dict[str, str] | None:
    """The tags a request puts on: `Tags.member.N.Key`, `TagSpecification.N.Tag.M.Key`,
    ECS's `tags.N.key`; CloudWatch Logs' `tags` map."""
    found = {}
    for path, key in params.items():
        match = TAG_PAIR.fullmatch(path)
        # a launch template's data holds the tags of what it will launch, not its own
        if match and not path.startswith("LaunchTemplateData."):
            value = params.get(f"{match.group(1)}.Value", params.get(f"{match.group(1)}.value"))
            found[str(key)] = "" if value is None else str(value)
    if isinstance(nested, dict) and isinstance(nested.get("tags"), dict):
        found.update({str(k): str(v) for k, v in nested["tags"].items()})
    return found or None


def _tag_dict(tags: Any) -> dict[str, str]:
    """moto keeps tags as dicts or as lists of Key/Value (or key/value) pairs."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {
        str(t.get("Key", t.get("key"))): str(t.get("Value", t.get("value", ""))) for t in tags or []
    }


def _ec2_resources(account: str, region: str, params: dict[str, Any]) -> list[Resource]:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    ids = {str(v) for v in params.values() if isinstance(v, str) and EC2_ID.fullmatch(v)}
    name = params.get("KeyName")
    if name in ec2.key_pairs:
        ids.add(ec2.key_pairs[name].id)
    association = params.get("AssociationId")
    ids |= {
        table.id
        for table in ec2.route_tables.values()
        if association and association in getattr(table, "_associations", {})
    }
    return [
        Resource(
            f"arn:aws:ec2:{region}:{account}:{EC2_TYPES[i.split('-')[0]]}/{i}",
            dict(ec2.tags.get(i, {})),
        )
        for i in sorted(ids)
    ]


def _autoscaling_resources(account: str, region: str, params: dict[str, Any]) -> list[Resource]:
    from moto.autoscaling.models import autoscaling_backends

    groups = autoscaling_backends[account][region].autoscaling_groups
    names = {v for k, v in params.items() if k.split(".")[0] == "AutoScalingGroupName"}
    instance = params.get("InstanceId")
    names |= {
        n
        for n, g in groups.items()
        if instance and any(s.instance.id == instance for s in g.instance_states)
    }
    return [
        Resource(
            f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{n}",
            _tag_dict(groups[n].tags) if n in groups else None,
        )
        for n in sorted(names)
    ]


def _elbv2_resources(account: str, region: str, params: dict[str, Any]) -> list[Resource]:
    from moto.elbv2.models import elbv2_backends

    tagging = elbv2_backends[account][region].tagging_service
    arns = {
        str(v)
        for v in params.values()
        if isinstance(v, str) and v.startswith("arn:aws:elasticloadbalancing:")
    }
    return [Resource(a, tagging.get_tag_dict_for_resource(a)) for a in sorted(arns)]


def _ecs_resources(account: str, region: str, params: dict[str, Any]) -> list[Resource]:
    from moto.ecs.models import ecs_backends

    ecs = ecs_backends[account][region]
    cluster = str(params.get("cluster", "default")).split("/")[-1]
    service = params.get("service")
    if service:
        found = ecs.services.get(f"{cluster}:{str(service).split('/')[-1]}")
        arn = f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"
        return [Resource(arn, _tag_dict(found.tags) if found else None)]
    if "cluster" in params:
        found = ecs.clusters.get(cluster)
        arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"
        return [Resource(arn, _tag_dict(found.tags) if found else None)]
    return []


def _ecr_resources(account: str, region: str, params: dict[str, Any]) -> list[Resource]:
    from moto.ecr.models import ecr_backends

    name = params.get("repositoryName")
    if not name:
        return []
    ecr = ecr_backends[account][region]
    found = ecr.repositories.get(name)
    arn = f"arn:aws:ecr:{region}:{account}:repository/{name}"
    return [Resource(arn, ecr.tagger.get_tag_dict_for_resource(found.arn) if found else None)]


def _named_resources(
    service: str, account: str, region: str, params: dict[str, Any]
) -> list[Resource]:
    """Resources known by name: IAM roles and profiles, log groups, alarms, SSM."""
    arns = []
    if service == "iam":
        if "RoleName" in params:
            arns.append(f"arn:aws:iam::{account}:role/{params['RoleName']}")
        if "InstanceProfileName" in params:
            arns.append(f"arn:aws:iam::{account}:instance-profile/{params['InstanceProfileName']}")
    elif service == "logs" and "logGroupName" in params:
        arns.append(f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}")
    elif service == "logs" and "resourceArn" in params:
        arns.append(str(params["resourceArn"]).removesuffix(":*"))
    elif service == "cloudwatch":
        names = [v for k, v in params.items() if k.split(".")[0] in ("AlarmName", "AlarmNames")]
        arns += [f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}" for n in names]
    elif service == "ssm" and "DocumentName" in params:
        arns.append(f"arn:aws:ssm:{region}::document/{params['DocumentName']}")
    return [Resource(a) for a in arns]


def describe(response: Any, service: str) -> Request:
    """The resources, tags and condition keys of the request `response` is answering."""
    account, region = response.current_account, response.region
    params, nested = _params(response)
    finders = {
        "ec2": _ec2_resources,
        "autoscaling": _autoscaling_resources,
        "elasticloadbalancing": _elbv2_resources,
        "ecs": _ecs_resources,
        "ecr": _ecr_resources,
    }
    if service in finders:
        resources = finders[service](account, region, params)
    else:
        resources = _named_resources(service, account, region, params)
    if service == "ssm":  # Run Command's targets are EC2 instances
        resources += _ec2_resources(account, region, params)
    context = {}
    if "AWSServiceName" in params:
        context["iam:AWSServiceName"] = [str(params["AWSServiceName"])]
    return Request(resources, request_tags(params, nested), context)


# --- policy evaluation -------------------------------------------------------------------


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


MATCHERS = {
    "StringEquals": lambda expected, value: expected == value,
    "StringLike": _glob,
}


def _condition(operator: str, expected: list[str], values: list[str] | None) -> bool:
    """One operator on one key, as AWS's policy evaluation logic documents it."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null":
        return (values is None) == (expected[0].lower() == "true")
    negated = base.startswith("StringNot")
    match = MATCHERS.get(base.replace("StringNot", "String"))
    if match is None or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        return False  # an operator the sandbox does not know: fail closed
    if values is None:
        return qualifier == "ForAllValues" or if_exists or negated
    hits = [any(match(e, v) for e in expected) for v in values]
    if qualifier == "ForAllValues":
        return all(h != negated for h in hits)
    if qualifier == "ForAnyValue":
        return any(h != negated for h in hits)
    return hits[0] != negated


def _conditions(conditions: dict[str, Any], context: dict[str, list[str]]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    return all(
        _condition(operator, _as_list(expected), lowered.get(key.lower()))
        for operator, keys in conditions.items()
        for key, expected in keys.items()
    )


def _applies(
    statement: dict[str, Any], action: str, arn: str, context: dict[str, list[str]]
) -> bool:
    actions = _as_list(statement.get("Action", []))
    if "NotAction" in statement:
        if any(_glob(a, action, ignore_case=True) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(_glob(a, action, ignore_case=True) for a in actions):
        return False
    patterns = _as_list(statement.get("Resource", "*"))
    if not any(p == "*" or (arn != "*" and _glob(p, arn)) for p in patterns):
        return False
    return _conditions(statement.get("Condition", {}), context)


def _resource_context(resource: Resource, service: str) -> dict[str, list[str]]:
    context = {}
    for key, value in (resource.tags or {}).items():
        for prefix in ("aws", service):
            context[f"{prefix}:ResourceTag/{key}"] = [value]
    return context


def allowed(documents: list[dict[str, Any]], action: str, request: Request) -> tuple[bool, str]:
    """Whether `documents` allow `action` on every resource of `request`, and the first
    resource that is not allowed ("*" when the request names none)."""
    service = action.split(":")[0]
    context = dict(request.context)
    if request.tags:
        for key, value in request.tags.items():
            context[f"aws:RequestTag/{key}"] = [value]
        context["aws:TagKeys"] = list(request.tags)
    statements = [
        s
        for d in documents
        for s in (d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]])
    ]
    for resource in request.resources or [Resource("*")]:
        scoped = {**context, **_resource_context(resource, service)}
        effects = {s["Effect"] for s in statements if _applies(s, action, resource.arn, scoped)}
        if "Deny" in effects or "Allow" not in effects:
            return False, resource.arn
    return True, ""


def implied_tagging(service: str, verb: str, request: Request) -> tuple[str, Request] | None:
    """The tagging check a create carrying tags implies, if any."""
    tagging = IMPLIED_TAGGING.get(service)
    if not tagging or not request.tags or verb == tagging or not verb.startswith(CREATE_VERBS):
        return None
    context = {**request.context, f"{service}:CreateAction": [verb]}
    return f"{service}:{tagging}", Request([], request.tags, context)


# --- the patch ---------------------------------------------------------------------------


def enforce() -> None:
    """Check every request from now on (call before moto's server starts)."""
    from botocore.credentials import Credentials
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import AccessDeniedError, JsonRESTError
    from moto.iam import access_control
    from moto.iam.access_control import IAMPolicy, IAMRequestBase

    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    class RootKey:
        """The account's root user: signs with the export lines' secret, never limited."""

        def __init__(self, account_id: str) -> None:
            self.arn = f"arn:aws:iam::{account_id}:root"

        def create_credentials(self) -> Credentials:
            return Credentials(ROOT_KEY, ROOT_KEY)

        def collect_policies(self) -> list[Any]:
            return []

    create_key = access_control.create_access_key

    def create_access_key(account_id: str, partition: str, access_key_id: str, headers: Any) -> Any:
        if access_key_id == ROOT_KEY:
            return RootKey(account_id)
        return create_key(account_id, partition, access_key_id, headers)

    normal_action = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def authorize_normal_action(self: Any, resource: str = "*") -> None:
        _current.response = self
        try:
            normal_action(self, resource)
        finally:
            _current.response = None

    check = IAMRequestBase.check_action_permitted

    def check_action_permitted(self: IAMRequestBase, resource: str) -> None:
        key = self._access_key
        if isinstance(key, RootKey):
            return
        if self._action.startswith("sts:"):
            check(self, resource)  # GetCallerIdentity, AssumeRole's trust: moto's own
            return
        documents = [IAMPolicy(p)._policy_json for p in key.collect_policies()]
        response = getattr(_current, "response", None)
        service, verb = self._action.split(":")
        service = IAM_PREFIX.get(service, service)  # moto names CloudWatch `monitoring:`
        # S3 comes without a response: moto knows the bucket/object ARN itself
        request = Request([Resource(resource)]) if response is None else describe(response, service)
        checks = [(f"{service}:{verb}", request)]
        implied = implied_tagging(service, verb, request)
        if implied:
            checks.append(implied)
        for action, asked in checks:
            ok, arn = allowed(documents, action, asked)
            if not ok:
                if response is None:
                    self._raise_access_denied()
                message = (
                    f"User: {key.arn} is not authorized to perform: {action} on resource: {arn}"
                )
                if "json" in str(response.headers.get("Content-Type", "")):
                    raise JsonRESTError("AccessDeniedException", message)  # as JSON services say
                raise AccessDeniedError(user_arn=key.arn, action=f"{action} on resource: {arn}")

    access_control.create_access_key = create_access_key
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize_normal_action
    IAMRequestBase.check_action_permitted = check_action_permitted
