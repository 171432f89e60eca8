"""The cluster's API load balancer in moto, named by the naming contract."""

import boto3

from escala.cloud.aws.load_balancer import api_load_balancer_name
from tests.bootstrap.conftest import CLUSTER


def make_api_nlb() -> str:
    """Create the NLB; returns its DNS name."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="172.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="172.20.32.0/19", AvailabilityZone="eu-west-1a")
    nlb = boto3.client("elbv2").create_load_balancer(
        Name=api_load_balancer_name(CLUSTER),
        Subnets=[subnet["Subnet"]["SubnetId"]],
        Type="network",
        Scheme="internet-facing",
    )
    return nlb["LoadBalancers"][0]["DNSName"]
