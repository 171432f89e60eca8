"""Delete everything a cluster owns (found by its ownership tags, never by its spec:
`escala.cloud.aws.registry.find_owned`).

The kops way (`pkg/resources/ops/delete.go`): each round deletes every resource that
nothing left is waiting on; a resource that answers "still in use" stays for the next
round, and so does one whose connection dropped (the next round's NotFound says it
went); rounds go on while they make progress, and stop with the list of what is left
once the deadline passes without any.
"""

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from escala.errors import CloudError
from escala.reconcile.plan import Action, Change, Plan
from escala.reconcile.retry import CONNECTION_ERRORS, error_code, is_not_found, retryable
from escala.reconcile.task import Cloud, Owned

DELETE_DEADLINE = 600.0


def _waiting(resource: Owned, remaining: dict[str, Owned]) -> bool:
    others = [r for r in remaining.values() if r is not resource]
    if any(other.id in resource.blocked_by for other in others):
        return True
    return any(resource.id in other.blocks for other in others)


def delete_owned(
    cloud: Cloud,
    resources: list[Owned],
    *,
    deadline: float = DELETE_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
    on_step: Callable[[int, int, str], None] | None = None,
) -> None:
    """Delete `resources` in dependency order, retrying while progress is made;
    `on_step(deleted, total, key)` as each one goes."""
    # keyed by kind too: an IAM role and an ASG may both be `nodes.<cluster>`
    remaining = {f"{r.kind}/{r.id}": r for r in resources}
    errors: dict[str, str] = {}
    last_progress = time.monotonic()
    delay = 0.5
    while remaining:
        ready = [r for r in remaining.values() if not _waiting(r, remaining)]
        progress = False
        for resource in ready or list(remaining.values()):
            try:
                resource.delete(cloud, resource.id)
            except ClientError as e:
                if not is_not_found(e):
                    if not retryable(e):
                        raise CloudError(f"deleting {resource.key}: {error_code(e)}: {e}") from e
                    errors[resource.key] = error_code(e)
                    continue
            except CONNECTION_ERRORS as e:  # it may be gone: the next round will tell
                errors[resource.key] = type(e).__name__
                continue
            del remaining[f"{resource.kind}/{resource.id}"]
            if on_step is not None:
                on_step(len(resources) - len(remaining), len(resources), resource.key)
            errors.pop(resource.key, None)
            progress = True
        if progress:
            last_progress, delay = time.monotonic(), 0.5
        elif time.monotonic() - last_progress > deadline:
            left = ", ".join(
                f"{r.key} ({errors.get(r.key, 'waiting')})" for r in remaining.values()
            )
            raise CloudError(f"could not delete, no progress for {deadline:.0f}s: {left}")
        else:
            sleep(delay)
            delay = min(delay * 2, 10.0)


def deletion_plan(cluster_name: str, resources: list[Owned]) -> Plan:
    return Plan(
        cluster_name,
        [Change(r.kind, r.name, Action.delete) for r in sorted(resources, key=lambda r: r.key)],
    )
