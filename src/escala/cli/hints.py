"""What to tell a user when AWS could not be asked at all: no credentials, no endpoint,
or a reply nobody can read; or when it refused: a permission the caller lacks.

These come from botocore, often wrapped in a CloudError, and their own words
("Unable to locate credentials", a parser's dump of an HTML page) say nothing about the
way out: forgetting the sandbox's export lines is the usual cause. Matched by class name
so that the error boundary imports no botocore to start up.
"""

import os
import re

# The codes AWS answers a call the caller's policies do not allow with (EC2 says
# UnauthorizedOperation, JSON services AccessDeniedException, the others AccessDenied).
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
# AWS's (and the sandbox's) wording: "User: ARN is not authorized to perform: ACTION on
# resource: ARN because ..."
NOT_AUTHORIZED = re.compile(
    r"(?:User: (?P<who>\S+) )?is not authorized to perform: (?P<action>[\w-]+:\w+)"
    r"(?: on resource: (?P<resource>\S+?))?(?: because|\.|$)"
)

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
        doing = str(error)
        raw = next((t for t in _raw_texts(cause) if doing.endswith(t)), None)
        if error is cause or raw is None:
            return hint
        doing = doing[: -len(raw)].rstrip(": ")
        return f"{doing}: {hint}" if doing else hint
    return None


def _raw_texts(cause: BaseException) -> list[str]:
    """How a CloudError may end with its cause: botocore's words, or a ClientError's
    `CODE: message` (escala.reconcile.retry), message or code alone."""
    error = (getattr(cause, "response", None) or {}).get("Error", {})
    texts = [str(cause)]
    if error.get("Message"):
        texts += [f"{error.get('Code')}: {error['Message']}", str(error["Message"])]
    if error.get("Code"):
        texts.append(str(error["Code"]))  # the state store says only the code
    return texts


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
    if "ClientError" in names:
        return _denied(cause)
    if "ResponseParserError" in names:
        where = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
        return (
            f"{where} sent a reply escala cannot read (an error page, not an AWS answer): "
            "the service failed on its side, not because of your input; try again, and "
            "run with --debug to see the reply"
        )
    return None


def _denied(error: BaseException) -> str | None:
    """A refused call as one line: who, which action on what, and where the fix lies."""
    response = getattr(error, "response", {}) or {}
    if response.get("Error", {}).get("Code") not in DENIED:
        return None
    why = (
        " (an operator made by `escala iam create-operator` may change only resources tagged "
        "with its clusters' names, see --owner, and only the state bucket, see --state)"
    )
    found = NOT_AUTHORIZED.search(str(response.get("Error", {}).get("Message", "")))
    if found is None:  # S3 says "Access Denied", naming nothing
        operation = getattr(error, "operation_name", "?")
        return (
            f"permission denied: these credentials may not call {operation}; their IAM "
            f"policies lack the permission it needs{why}"
        )
    who = found["who"] or "these credentials"
    on = f" on {found['resource']}" if found["resource"] not in (None, "*") else ""
    return (
        f"permission denied: {who} may not call {found['action']}{on}; its IAM policies "
        f"lack {found['action']} for this resource{why}"
    )
