"""The SSM parameters a chat service reads its URLs from, and as which variable. Pure.

`escala.ops.chat_service_lifecycle.check_parameters` checks, before anything is created,
that they exist and are SecureStrings.
"""

from escala.api.chat_service_spec import ChatService


def parameter_env(service: ChatService) -> dict[str, str]:
    """The chat's environment variable -> the SSM parameter holding its value."""
    env = {"ESCALA_CHAT_REDIS": str(service.spec.redis_parameter)}
    if service.spec.database_parameter:
        env["ESCALA_CHAT_DATABASE"] = service.spec.database_parameter
    if service.spec.auth_secret_parameter:
        env["ESCALA_CHAT_AUTH_SECRET"] = service.spec.auth_secret_parameter
    return env


def named_parameters(service: ChatService) -> dict[str, str]:
    """spec field -> SSM parameter name, for the parameters the service uses."""
    spec = service.spec
    fields = {
        "redisParameter": spec.redis_parameter,
        "databaseParameter": spec.database_parameter,
        "authSecretParameter": spec.auth_secret_parameter,
    }
    return {field: name for field, name in fields.items() if name}
