"""The kinds registry the operator's IAM policy is built from."""

import boto3
import pytest

from escala.cloud.aws.launch_template import resolve_image
from escala.cloud.aws.load_balancer import elb_name
from escala.cloud.aws.registry import ALL_DELETABLE, ALL_TASKS, operator_iam_actions
from escala.cloud.aws.session import ClientFactory
from escala.errors import UsageError


def test_operator_actions_cover_every_kind_and_are_not_wildcards():
    actions = operator_iam_actions()
    for kind in (*ALL_TASKS, *ALL_DELETABLE):
        assert set(kind.iam_actions) <= set(actions), kind.kind
    assert not any(a.endswith("*") for a in actions)
    assert actions == sorted(set(actions))


def test_load_balancer_names_fit_aws_limits():
    assert elb_name("api", "proyecto.k8s.local") == "api-proyecto-k8s-local"
    long = elb_name("api", "a-very-long-cluster-name.example.k8s.local")
    assert len(long) <= 32 and not long.endswith("-")


def test_images_resolve_by_owner_and_name_pattern(aws):
    cloud = ClientFactory()
    image = resolve_image(cloud, "099720109477/ubuntu/images/hvm-ssd/ubuntu-xenial-*")
    described = boto3.client("ec2").describe_images(ImageIds=[image])["Images"][0]
    assert described["Name"].startswith("ubuntu/images/hvm-ssd/ubuntu-xenial-")
    with pytest.raises(UsageError, match=r"spec\.image: no AMI matches"):
        resolve_image(cloud, "099720109477/no-such-image-*")
    with pytest.raises(UsageError, match=r"spec\.image"):
        resolve_image(cloud, "not-an-image")
