"""ChatService -> the keyed set of AWS tasks of its platform and its image repository.
Pure: no AWS calls.

The front (network, load balancer) is the same for both platforms; the platform adds
what runs the chat: EC2 instances in an Auto Scaling Group (ec2.py) or ECS Fargate tasks
(fargate.py). Every builder adds to one ModelContext, which refuses two resources of the
same kind and name.
"""

from escala.api.chat_scaling import ReplicaCpu
from escala.api.chat_service_spec import ChatService, Platform
from escala.model.chat_service.ec2 import build_ec2
from escala.model.chat_service.fargate import build_fargate
from escala.model.chat_service.front import build_front
from escala.model.context import ModelContext
from escala.model.image_repository import build_image_repository
from escala.reconcile.task import Task


def build_chat_service(service: ChatService, replica: ReplicaCpu) -> dict[str, Task]:
    """Every AWS task of the (completed, validated) chat service, keyed `Kind/name`.
    `replica`: the vCPUs of an instance of `spec.machineType` (which only AWS knows:
    escala.ops.chat_service_lifecycle.replica_cpu) or of a task; the CPU policy's
    target depends on them."""
    ctx = ModelContext(service.name)
    if service.spec.platform is Platform.ec2:
        build_ec2(ctx, build_front(ctx, service, "instance"), replica)
    else:  # Fargate tasks register their IPs in the target group
        build_fargate(ctx, build_front(ctx, service, "ip"), replica)
    build_image_repository(ctx)
    return ctx.tasks
