"""The exceptions escala raises, named after what went wrong in the user's terms.

The CLI's one error boundary (`escala.cli.main.main`) turns each into a single readable
line and an exit code: 2 for anything the user can fix by changing their input (a bad
flag, an invalid spec, a forbidden change), 1 for failures of the world around us.
"""


class EscalaError(Exception):
    """Base of every error escala reports to its user."""

    exit_code = 1


class UsageError(EscalaError):
    """Bad input: a flag, a file or an argument that cannot be used as given."""

    exit_code = 2


class SpecInvalid(UsageError):
    """A Cluster or InstanceGroup spec failed validation.

    `problems` holds every problem found, each prefixed with its field path
    (`spec.instanceGroups[1].maxSize: must be >= minSize (2)`), so the user fixes them
    all in one go.
    """

    def __init__(self, problems: list[str], subject: str = "spec") -> None:
        self.problems = list(problems)
        self.subject = subject
        super().__init__(f"{subject} is invalid:\n" + "\n".join(f"  - {p}" for p in problems))


class CannotChangeField(UsageError):
    """A field that is fixed once the cluster exists (e.g. its network CIDR) was changed."""


class NotFound(UsageError):
    """A named cluster, instance group or secret does not exist."""


class AlreadyExists(UsageError):
    """Creating something that is already there."""


class StateStoreError(EscalaError):
    """The state store (S3 bucket or directory) could not be read or written."""


class StateStoreMissing(StateStoreError):
    """The state store's bucket does not exist yet: the user's next step is
    `escala state create`, so it counts as input to fix (exit 2)."""

    exit_code = 2


class CloudError(EscalaError):
    """An AWS call failed; the message says what escala was doing at the time."""


class KubernetesUnreachable(EscalaError):
    """The cluster's Kubernetes API could not be reached."""
