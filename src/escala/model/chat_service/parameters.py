"""The SSM parameters a chat service reads its URLs from, as which variable, and a
check, before anything is created, that they exist and are SecureStrings: a typo would
otherwise surface only as instances or tasks that fail at boot, and a plain String would
keep a password unencrypted.

Only the parameters' descriptions are read (DescribeParameters), never their values.
"""

from escala.api.chat_service_spec import ChatService
from escala.cloud.aws.session import ClientFactory
from escala.errors import SpecInvalid

IAM_ACTIONS = ("ssm:DescribeParameters",)


def parameter_env(service: ChatService) -> dict[str, str]:
    """The chat's environment variable -> the SSM parameter holding its value."""
    env = {"ESCALA_CHAT_REDIS": str(service.spec.redis_parameter)}
    if service.spec.database_parameter:
        env["ESCALA_CHAT_DATABASE"] = service.spec.database_parameter
    return env


def named_parameters(service: ChatService) -> dict[str, str]:
    """spec field -> SSM parameter name, for the parameters the service uses."""
    spec = service.spec
    fields = {"redisParameter": spec.redis_parameter, "databaseParameter": spec.database_parameter}
    return {field: name for field, name in fields.items() if name}


def check_parameters(cloud: ClientFactory, service: ChatService) -> None:
    """Raise SpecInvalid (exit 2) naming each missing or non-SecureString parameter."""
    wanted = named_parameters(service)
    if not wanted:
        return
    ssm = cloud.client("ssm")
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Name", "Values": sorted(set(wanted.values()))}]
    )
    types = {p["Name"]: p["Type"] for page in pages for p in page["Parameters"]}
    problems = []
    for field, name in wanted.items():
        found = types.get(name) or types.get("/" + name.lstrip("/"))
        if found is None:
            problems.append(
                f"spec.{field}: SSM parameter {name} does not exist in {cloud.region}; create "
                f"it with `aws ssm put-parameter --type SecureString --name {name} --value URL`"
            )
        elif found != "SecureString":
            problems.append(
                f"spec.{field}: SSM parameter {name} is a {found}; store the URL as a "
                "SecureString (`aws ssm put-parameter --type SecureString --overwrite ...`)"
            )
    if problems:
        raise SpecInvalid(problems, f"chatservice {service.name}")
