"""A call AWS refuses for want of a permission reads as one line: who, which action, on
what, and where the fix is (escala.cli.hints); AWS's own wordings, per protocol."""

from botocore.exceptions import ClientError

from escala.cli import hints
from escala.errors import CloudError, StateStoreError


def _refused(code: str, message: str, operation: str = "TerminateInstances") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_ec2s_unauthorized_operation_names_the_action_and_the_resource() -> None:
    cause = _refused(
        "UnauthorizedOperation",
        "You are not authorized to perform this operation. User: "
        "arn:aws:iam::111122223333:user/escala is not authorized to perform: "
        "ec2:TerminateInstances on resource: arn:aws:ec2:eu-west-1:111122223333:instance/"
        "i-0abc because no identity-based policy allows the ec2:TerminateInstances action. "
        "Encoded authorization failure message: AbCd",
    )
    error = CloudError(
        f"deleting Instance/i-0abc: UnauthorizedOperation: {cause.response['Error']['Message']}"
    )
    error.__cause__ = cause
    line = hints.explain(error)
    assert line is not None and "\n" not in line
    assert line.startswith(
        "deleting Instance/i-0abc: permission denied: arn:aws:iam::111122223333:user/escala"
    )
    assert (
        "may not call ec2:TerminateInstances on arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc;"
        in line
    )
    assert "Encoded" not in line


def test_a_refusal_without_the_usual_words_still_names_the_call_and_what_was_done() -> None:
    cause = _refused("AccessDenied", "Access Denied", "ListObjectsV2")  # S3's words
    error = StateStoreError("listing s3://other: AccessDenied")
    error.__cause__ = cause
    line = hints.explain(error)
    assert line is not None
    assert line.startswith("listing s3://other: permission denied: these credentials may not "
                           "call ListObjectsV2;")  # fmt: skip


def test_other_client_errors_are_left_alone() -> None:
    assert hints.explain(_refused("InvalidInstanceID.NotFound", "no such instance")) is None
