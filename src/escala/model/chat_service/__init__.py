"""ChatService -> the keyed set of AWS tasks of its platform. Pure: no AWS calls.

The front (network, load balancer) is the same for both platforms; the platform adds
what runs the chat: EC2 instances in an Auto Scaling Group (ec2.py) or ECS Fargate tasks
(fargate.py). Every builder adds to one ModelContext, which refuses two resources of the
same kind and name.
"""

from escala.api.chat_service_spec import ChatService, Platform
from escala.model.chat_service.ec2 import build_ec2
from escala.model.chat_service.fargate import build_fargate
from escala.model.chat_service.front import build_front
from escala.model.context import ModelContext
from escala.reconcile.task import Task


def build_chat_service(service: ChatService) -> dict[str, Task]:
    """Every AWS task of the (completed, validated) chat service, keyed `Kind/name`."""
    ctx = ModelContext(service.name)
    if service.spec.platform is Platform.ec2:
        build_ec2(ctx, build_front(ctx, service, "instance"))
    else:  # Fargate tasks register their IPs in the target group
        build_fargate(ctx, build_front(ctx, service, "ip"))
    return ctx.tasks
