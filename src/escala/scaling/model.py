"""ChatService -> the keyed set of AWS tasks of its platform. Pure: no AWS calls."""

from escala.api.chat_service import ChatService
from escala.cloud.aws.task import Task
from escala.scaling.ec2 import build_ec2
from escala.scaling.front import build_front


def build_chat_service(service: ChatService) -> dict[str, Task]:
    """Every AWS task of the (completed, validated) chat service, keyed `Kind/name`."""
    tasks = build_ec2(build_front(service, "instance"))
    return {t.key: t for t in tasks}
