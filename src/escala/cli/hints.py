"""What to tell a user when AWS could not be asked at all: no credentials, no endpoint,
or a reply nobody can read.

These come from botocore, often wrapped in a CloudError, and their own words
("Unable to locate credentials", a parser's dump of an HTML page) say nothing about the
way out: forgetting the sandbox's export lines is the usual cause. Matched by class name
so that the error boundary imports no botocore to start up.
"""

import os

SANDBOX_EXPORTS = (
    "if you use `escala sandbox`, paste the export lines it printed into this shell "
    "(AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION)"
)


def _botocore_errors(error: BaseException) -> list[BaseException]:
    """`error` and its causes that botocore raised, outermost first."""
    found, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("botocore"):
            found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def explain(error: BaseException) -> str | None:
    """The line to show instead of `error` when it is about reaching AWS: what escala was
    doing (a CloudError's own words, botocore's left out), what went wrong and what to do.
    None for any other error."""
    for cause in _botocore_errors(error):
        hint = _hint(cause)
        if hint is None:
            continue
        doing, raw = str(error), str(cause)
        if error is cause or not doing.endswith(raw):
            return hint
        doing = doing[: -len(raw)].rstrip(": ")
        return f"{doing}: {hint}" if doing else hint
    return None


def _hint(cause: BaseException) -> str | None:
    names = _names(cause)
    if names & {"NoCredentialsError", "PartialCredentialsError"}:
        return (
            "no AWS credentials found: "
            + SANDBOX_EXPORTS
            + "; for AWS itself, set AWS_PROFILE or run `aws configure`"
        )
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"}:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            return (
                f"cannot reach AWS at {endpoint} (AWS_ENDPOINT_URL): is `escala sandbox` "
                "still running? Start it again, or `unset AWS_ENDPOINT_URL` to use AWS itself"
            )
        return "cannot reach AWS: check the network and AWS_DEFAULT_REGION; " + SANDBOX_EXPORTS
    if "ResponseParserError" in names:
        where = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
        return (
            f"{where} sent a reply escala cannot read (an error page, not an AWS answer): "
            "the service failed on its side, not because of your input; try again, and "
            "run with --debug to see the reply"
        )
    return None
