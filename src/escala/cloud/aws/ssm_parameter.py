"""SSM Parameter Store: the parameters a chat service reads its URLs from.

escala stores them (`escala create parameter`, PutParameter as SecureString) and reads
only their descriptions (DescribeParameters), never their values: those are read at
boot by the instances and tasks, with their own roles.
"""

from botocore.exceptions import BotoCoreError, ClientError

from escala.cloud.aws.session import ClientFactory, call
from escala.errors import CloudError, UsageError

# What `parameter_types` (create/update chatservice) and `put_secure_parameter`
# (create parameter) call: part of the operator policy.
DAY2_ACTIONS = ("ssm:DescribeParameters", "ssm:PutParameter")


def parameter_types(aws: ClientFactory, names: list[str]) -> dict[str, str]:
    """Parameter name -> its type (String, StringList, SecureString), for those that exist."""
    paginator = aws.client("ssm").get_paginator("describe_parameters")
    filters = [{"Key": "Name", "Values": sorted(set(names))}]
    pages = call(
        f"describing SSM parameters {', '.join(sorted(set(names)))}",
        lambda: list(paginator.paginate(ParameterFilters=filters)),
    )
    return {p["Name"]: p["Type"] for page in pages for p in page["Parameters"]}


def put_secure_parameter(aws: ClientFactory, name: str, value: str, *, overwrite: bool) -> int:
    """Store `value` as a SecureString (encrypted with the account's aws/ssm key); returns
    its version. Without `overwrite`, an existing parameter is a UsageError, kept as is."""
    client = aws.client("ssm")
    try:
        answer = client.put_parameter(
            Name=name, Value=value, Type="SecureString", Overwrite=overwrite
        )
    except client.exceptions.ParameterAlreadyExists as e:
        raise UsageError(
            f"SSM parameter {name} already exists in {aws.region}; pass --overwrite to replace it"
        ) from e
    except (ClientError, BotoCoreError) as e:  # the message never holds the value
        raise CloudError(f"storing SSM parameter {name}: {e}") from e
    return int(answer["Version"])
