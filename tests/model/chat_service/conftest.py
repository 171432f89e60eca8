import boto3
import pytest

from tests.model.chat_service.specs import DATABASE_PARAMETER, REDIS_PARAMETER


@pytest.fixture
def state(tmp_path) -> list[str]:
    return ["--state", f"file://{tmp_path}/state"]


@pytest.fixture
def parameters(aws: str) -> dict[str, str]:
    """The SecureString parameters an operator stores before creating a chat service."""
    values = {
        REDIS_PARAMETER: "redis://:s3cret-redis@redis.internal:6379/0",
        DATABASE_PARAMETER: "postgresql://chat:s3cret-pg@db.internal/chat",
    }
    ssm = boto3.client("ssm")
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    return values
