"""The ChatService document's defaults (a pure function) and its YAML round trip."""

from escala.api.chat_service_spec import (
    ChatService,
    ChatServiceSpec,
    Platform,
    complete,
    dump_chat_service,
    parse_chat_service,
)
from escala.api.chat_service_spec_validation import problems
from escala.api.types import ObjectMeta, Subnet


def _service(platform: Platform, **spec: object) -> ChatService:
    zones = ("eu-west-1a", "eu-west-1b")
    return ChatService(
        metadata=ObjectMeta(name="chat"),
        spec=ChatServiceSpec(
            platform=platform,
            subnets=[Subnet(name=z, zone=z) for z in zones],
            image="escala:0.1.0",
            redis_parameter="/escala/chat/redis",
            **spec,  # type: ignore[arg-type]
        ),
    )


def test_ec2_defaults_fill_only_the_ec2_fields() -> None:
    done = complete(_service(Platform.ec2, machine_type="m7g.large")).spec
    assert (done.region, done.network_cidr) == ("eu-west-1", "172.20.0.0/16")
    assert [s.cidr for s in done.subnets] == ["172.20.0.0/19", "172.20.32.0/19"]
    assert done.ami is not None and "arm64" in done.ami  # Graviton gets the arm64 image
    assert (done.root_volume_size, done.cpu, done.memory) == (16, None, None)
    assert (done.min_size, done.max_size, done.cpu_target) == (2, 6, 50.0)
    assert done.http_access == ["0.0.0.0/0"]


def test_fargate_defaults_fill_only_the_fargate_fields() -> None:
    done = complete(_service(Platform.fargate, min_size=8)).spec
    assert (done.cpu, done.memory) == (512, 1024)
    assert (done.ami, done.machine_type, done.root_volume_size) == (None, None, None)
    assert (done.min_size, done.max_size) == (8, 8), "maxSize never defaults below minSize"
    assert problems(complete(_service(Platform.fargate))) == []


def test_values_the_user_set_are_kept_and_the_document_round_trips() -> None:
    service = _service(Platform.ec2, max_size=3, cpu_target=75.0, network_cidr="10.8.0.0/16")
    done = complete(service)
    assert (done.spec.max_size, done.spec.cpu_target) == (3, 75.0)
    assert done.spec.subnets[0].cidr == "10.8.0.0/19"
    assert parse_chat_service(dump_chat_service(done)) == done
    assert complete(done) == done, "completing twice changes nothing"


def test_a_cidr_given_twice_in_http_access_is_named() -> None:
    service = _service(Platform.ec2, http_access=["10.0.0.0/8", "10.0.0.0/8"])
    assert "spec.httpAccess: 10.0.0.0/8 is listed 2 times; give it once" in problems(
        complete(service)
    )
