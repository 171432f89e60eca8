"""The chat services the scaling tests create, as their flags."""

from escala.api.chat_scaling import ReplicaCpu
from tests.reconcile.specs import IMAGE as AMI

NAME = "chat"
ZONES = ("eu-west-1a", "eu-west-1b")
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala:0.1.0"
REDIS_PARAMETER = "/escala/chat/redis"
DATABASE_PARAMETER = "/escala/chat/database"

EC2_FLAGS = (
    "--platform", "ec2", "--zones", ",".join(ZONES), "--image", IMAGE, "--ami", AMI,
    "--redis-parameter", REDIS_PARAMETER, "--database-parameter", DATABASE_PARAMETER,
    "--min", "2", "--max", "5", "--cpu-target", "60",
)  # fmt: skip

FARGATE_FLAGS = (
    "--platform", "fargate", "--zones", ",".join(ZONES), "--image", IMAGE,
    "--redis-parameter", REDIS_PARAMETER, "--database-parameter", DATABASE_PARAMETER,
    "--cpu", "512", "--memory", "2048", "--min", "2", "--max", "8", "--cpu-target", "70",
)  # fmt: skip

# What DescribeInstanceTypes says of the EC2 case's default type (AWS and the sandbox).
T3_SMALL = ReplicaCpu("t3.small", 2)
