"""ChatService -> the keyed set of AWS tasks of its platform. Pure: no AWS calls."""

from escala.api.chat_service_spec import ChatService, Platform
from escala.model.chat_service.ec2 import build_ec2
from escala.model.chat_service.fargate import build_fargate
from escala.model.chat_service.front import build_front
from escala.reconcile.task import Task


def build_chat_service(service: ChatService) -> dict[str, Task]:
    """Every AWS task of the (completed, validated) chat service, keyed `Kind/name`."""
    if service.spec.platform is Platform.ec2:
        tasks = build_ec2(build_front(service, "instance"))
    else:  # Fargate tasks register their IPs in the target group
        tasks = build_fargate(build_front(service, "ip"))
    return {t.key: t for t in tasks}
