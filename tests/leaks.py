"""The leak check: everything the test account holds after a delete, whoever owns it.

Each test gets a fresh account (tests/conftest.py `aws`), so what is listed here after a
`delete` is what the delete left behind, tagged or not: EC2 (VPCs, subnets, security
groups, internet gateways, route tables, NAT gateways not deleted, Elastic IPs, launch
templates, volumes, key pairs, running instances), load balancers and target groups,
Auto Scaling Groups and their scaling policies, IAM roles and instance profiles, ECS
clusters, services and active task definitions, Application Auto Scaling targets and
policies, CloudWatch alarms, log groups, SSM parameters, ECR repositories, S3 buckets
and, in the state bucket, the objects left. `keep` names what the test made itself and
expects to stay (an operator's SSM parameters); `state_bucket` is kept, but not what it
holds.
"""

from typing import Any

import boto3


def _default_vpcs(ec2: Any) -> set[str]:
    return {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")}


def _ec2(ec2: Any) -> list[str]:
    default = _default_vpcs(ec2)
    left = [f"VPC/{v['VpcId']}" for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] not in default]
    left += [
        f"Subnet/{s['SubnetId']}"
        for s in ec2.describe_subnets()["Subnets"]
        if s["VpcId"] not in default
    ]
    left += [
        f"SecurityGroup/{g['GroupName']}"
        for g in ec2.describe_security_groups()["SecurityGroups"]
        if g["VpcId"] not in default and g["GroupName"] != "default"
    ]
    left += [
        f"InternetGateway/{g['InternetGatewayId']}"
        for g in ec2.describe_internet_gateways()["InternetGateways"]
        if not {a["VpcId"] for a in g.get("Attachments", [])} & default
    ]
    left += [
        f"RouteTable/{t['RouteTableId']}"
        for t in ec2.describe_route_tables()["RouteTables"]
        if t["VpcId"] not in default and not any(a.get("Main") for a in t["Associations"])
    ]
    left += [
        f"NatGateway/{g['NatGatewayId']}"
        for g in ec2.describe_nat_gateways()["NatGateways"]
        if g["State"] not in ("deleted", "failed")
    ]
    left += [f"ElasticIP/{a['AllocationId']}" for a in ec2.describe_addresses()["Addresses"]]
    left += [
        f"LaunchTemplate/{t['LaunchTemplateName']}"
        for t in ec2.describe_launch_templates()["LaunchTemplates"]
    ]
    left += [
        f"Volume/{v['VolumeId']}"
        for v in ec2.describe_volumes()["Volumes"]
        if v["State"] != "deleted" and not v.get("Attachments")
    ]
    left += [f"KeyPair/{k['KeyName']}" for k in ec2.describe_key_pairs()["KeyPairs"]]
    running = ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]}]
    )
    left += [f"Instance/{i['InstanceId']}" for r in running["Reservations"] for i in r["Instances"]]
    return left


def _scaling() -> list[str]:
    asg = boto3.client("autoscaling")
    left = [f"ScalingPolicy/{p['PolicyName']}" for p in asg.describe_policies()["ScalingPolicies"]]
    scaling = boto3.client("application-autoscaling")
    for namespace in ("ecs", "ec2"):
        left += [
            f"ScalableTarget/{t['ResourceId']}"
            for t in scaling.describe_scalable_targets(ServiceNamespace=namespace)[
                "ScalableTargets"
            ]
        ]
        left += [
            f"ServiceScalingPolicy/{p['PolicyName']}"
            for p in scaling.describe_scaling_policies(ServiceNamespace=namespace)[
                "ScalingPolicies"
            ]
        ]
    return left


def _storage(state_bucket: str | None) -> list[str]:
    s3 = boto3.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    left = [f"S3Bucket/{b}" for b in buckets if b != state_bucket]
    if state_bucket in buckets:
        objects = s3.list_objects_v2(Bucket=state_bucket).get("Contents", [])
        left += [f"S3Object/{state_bucket}/{o['Key']}" for o in objects]
    left += [
        f"ECRRepository/{r['repositoryName']}"
        for r in boto3.client("ecr").describe_repositories()["repositories"]
    ]
    return left


def leftovers(keep: frozenset[str] = frozenset(), state_bucket: str | None = None) -> list[str]:
    """`Kind/name` of everything left in the account, less `keep`."""
    left = _ec2(boto3.client("ec2")) + _scaling() + _storage(state_bucket)
    elbv2 = boto3.client("elbv2")
    left += [
        f"LoadBalancer/{b['LoadBalancerName']}"
        for b in elbv2.describe_load_balancers()["LoadBalancers"]
    ]
    left += [
        f"TargetGroup/{t['TargetGroupName']}"
        for t in elbv2.describe_target_groups()["TargetGroups"]
    ]
    left += [
        f"ClassicLoadBalancer/{b['LoadBalancerName']}"
        for b in boto3.client("elb").describe_load_balancers()["LoadBalancerDescriptions"]
    ]
    left += [
        f"AutoScalingGroup/{g['AutoScalingGroupName']}"
        for g in boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    ]
    iam = boto3.client("iam")
    left += [
        f"IAMRole/{r['RoleName']}"
        for r in iam.list_roles()["Roles"]
        if not r["Path"].startswith("/aws-service-role/")
    ]
    left += [
        f"InstanceProfile/{p['InstanceProfileName']}"
        for p in iam.list_instance_profiles()["InstanceProfiles"]
    ]
    ecs = boto3.client("ecs")
    clusters = ecs.list_clusters()["clusterArns"]
    if clusters:
        described = ecs.describe_clusters(clusters=clusters)["clusters"]
        active = [c for c in described if c["status"] == "ACTIVE"]
        left += [f"ECSCluster/{c['clusterName']}" for c in active]
        for c in active:
            left += [
                f"ECSService/{s}" for s in ecs.list_services(cluster=c["clusterArn"])["serviceArns"]
            ]
    left += [
        f"TaskDefinition/{arn.rsplit('/', 1)[-1]}"
        for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    ]
    left += [
        f"Alarm/{a['AlarmName']}"
        for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    ]
    left += [
        f"LogGroup/{g['logGroupName']}"
        for g in boto3.client("logs").describe_log_groups()["logGroups"]
    ]
    left += [
        f"SSMParameter/{p['Name']}" for p in boto3.client("ssm").describe_parameters()["Parameters"]
    ]
    return sorted(item for item in left if item not in keep)
