"""SSM Parameter Store: what type the parameters a chat service reads its URLs from are.

Only their descriptions are read (DescribeParameters), never their values: those are
read at boot by the instances and tasks, with their own roles.
"""

from escala.cloud.aws.session import ClientFactory, call

# What `parameter_types` calls (create/update chatservice): part of the operator policy.
DAY2_ACTIONS = ("ssm:DescribeParameters",)


def parameter_types(aws: ClientFactory, names: list[str]) -> dict[str, str]:
    """Parameter name -> its type (String, StringList, SecureString), for those that exist."""
    paginator = aws.client("ssm").get_paginator("describe_parameters")
    filters = [{"Key": "Name", "Values": sorted(set(names))}]
    pages = call(
        f"describing SSM parameters {', '.join(sorted(set(names)))}",
        lambda: list(paginator.paginate(ParameterFilters=filters)),
    )
    return {p["Name"]: p["Type"] for page in pages for p in page["Parameters"]}
