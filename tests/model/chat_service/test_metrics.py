"""`escala metrics chatservice`: datapoints written with PutMetricData into the sandbox come
back through the command, exactly, as JSON, as terminal charts and as a PNG; a series
without datapoints is said in words, never drawn; bad flags exit 2."""

import json
from datetime import UTC, datetime, timedelta

import boto3

from tests.cli.run import escala
from tests.datapoints import put_minutes, shown_values
from tests.model.chat_service.specs import EC2_FLAGS, FARGATE_FLAGS, NAME

MINUTES = 30


def test_ec2_metrics_read_back_what_cloudwatch_holds(aws, state, parameters, capsys, tmp_path):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state, "--yes").code == 0
    group = {"AutoScalingGroupName": f"chat.{NAME}"}
    cpu = [20.0 + 2 * i for i in range(MINUTES)]
    desired = [2.0] * 10 + [3.0] * 10 + [5.0] * 10
    connections = [100.0 + 15 * i for i in range(MINUTES)]
    put_minutes("AWS/EC2", "CPUUtilization", group, cpu)
    put_minutes("AWS/AutoScaling", "GroupDesiredCapacity", group, desired)
    put_minutes("Escala/Chat", "ConnectedClients", {"Service": NAME}, connections)
    # the load balancer's metrics are filed under `app/<name>/<id>`, the end of its ARN
    (lb,) = boto3.client("elbv2").describe_load_balancers(Names=[f"chat-{NAME}"])["LoadBalancers"]
    alb = {"LoadBalancer": lb["LoadBalancerArn"].split(":loadbalancer/")[1]}
    put_minutes("AWS/ApplicationELB", "RequestCount", alb, [600.0] * MINUTES)

    wanted = ("-m", "cpu,desired", "-m", "connections,requests,running")
    asked = escala(capsys, "metrics", "chatservice", NAME, *state, "--since", "1h", *wanted,
                   "-o", "json")  # fmt: skip
    assert asked.code == 0, asked.err
    document = json.loads(asked.out)
    assert (document["kind"], document["period"]) == ("Metrics", 60)
    assert shown_values(document, "cpu") == cpu
    assert shown_values(document, "desired") == desired
    assert shown_values(document, "connections") == connections
    assert shown_values(document, "requests") == [600.0] * MINUTES
    assert shown_values(document, "running") == []  # nothing published for it
    (cpu_query,) = [m["cloudwatch"] for m in document["metrics"] if m["metric"] == "cpu"]
    assert cpu_query == {"namespace": "AWS/EC2", "name": "CPUUtilization",
                         "dimensions": group, "stat": "Average"}  # fmt: skip

    png = tmp_path / "web.png"
    charts = escala(capsys, "metrics", "chatservice", NAME, *state, "--since", "1h",
                    "-m", "cpu,connections,running", "--png", str(png))  # fmt: skip
    assert charts.code == 0, charts.err
    assert "cpu: average CPU of the instances (%)" in charts.out
    assert "connections: connected clients per replica (clients)" in charts.out
    assert "running: no datapoints from CloudWatch between" in charts.out
    assert "running: in-service" not in charts.out, "an empty series is not drawn"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_fargate_metrics_are_the_ecs_services(aws, state, parameters, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, *state, "--yes").code == 0
    service = {"ClusterName": f"chat-{NAME}", "ServiceName": f"chat-{NAME}"}
    running = [2.0, 2.0, 3.0, 4.0, 4.0]
    put_minutes("ECS/ContainerInsights", "RunningTaskCount", service, running)
    put_minutes("AWS/ECS", "MemoryUtilization", service, [40.0] * 5)
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    asked = escala(capsys, "metrics", "chatservice", NAME, *state, "-m", "running,memory",
                   "--since", since, "--period", "60", "-o", "json")  # fmt: skip
    assert asked.code == 0, asked.err
    document = json.loads(asked.out)
    assert shown_values(document, "running") == running
    assert shown_values(document, "memory") == [40.0] * 5


def test_no_datapoints_is_said_and_nothing_is_drawn(aws, state, parameters, capsys, tmp_path):
    assert escala(capsys, "create", "chatservice", NAME, *EC2_FLAGS, *state, "--yes").code == 0
    shown = escala(capsys, "metrics", "chatservice", NAME, *state, "-m", "cpu")
    assert shown.code == 0
    assert "cpu: no datapoints from CloudWatch between" in shown.out
    assert "┤" not in shown.out, "no chart axis: there is nothing to draw"
    assert f"CloudWatch returned no datapoints for chat service {NAME}" in shown.err

    png = tmp_path / "empty.png"
    drawn = escala(capsys, "metrics", "chatservice", NAME, *state, "--png", str(png))
    assert drawn.code == 1 and "not written, there is no datapoint" in drawn.err
    assert not png.exists()


def test_bad_flags_are_named_and_exit_2(aws, state, parameters, capsys, tmp_path):
    assert escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, *state).code == 0
    cases = {
        ("--since", "yesterday"): "--since 'yesterday': not a duration or a time",
        ("--since", "2999-01-01T00:00:00Z"): "is not in the past",
        ("--since", "0m"): "is not in the past",
        ("--period", "90"): "--period 90: must be a multiple of 60",
        ("--period", "30"): "--period 30: must be a multiple of 60",
        ("-m", "cpu,latency"): "--metric: latency is not a metric escala knows",
        ("--png", str(tmp_path / "no" / "such" / "x.png")): "does not exist; create it first",
    }
    for flags, message in cases.items():
        out = escala(capsys, "metrics", "chatservice", NAME, *state, *flags)
        assert out.code == 2 and message in out.err, (flags, out.err)
    unknown = escala(capsys, "metrics", "chatservice", "nope", *state)
    assert unknown.code == 2 and f"chat services there: {NAME}" in unknown.err


def test_the_value_written_a_moment_ago_is_in_whole_minute_buckets(aws, state, parameters, capsys):
    assert escala(capsys, "create", "chatservice", NAME, *FARGATE_FLAGS, *state, "--yes").code == 0
    written = datetime.now(UTC)
    boto3.client("cloudwatch").put_metric_data(
        Namespace="Escala/Chat",
        MetricData=[{"MetricName": "ConnectedClients", "Dimensions": [{"Name": "Service",
                     "Value": NAME}], "Timestamp": written, "Value": 7.0}],
    )  # fmt: skip
    asked = escala(capsys, "metrics", "chatservice", NAME, *state, "-m", "connections",
                   "--since", "90m", "-o", "json")  # fmt: skip
    assert asked.code == 0, asked.err
    document = json.loads(asked.out)
    assert shown_values(document, "connections") == [7.0]
    (point,) = document["metrics"][0]["datapoints"]
    assert datetime.fromisoformat(point["timestamp"]) == written.replace(second=0, microsecond=0)
    start, end = (datetime.fromisoformat(document[k]) for k in ("start", "end"))
    assert start.second == end.second == 0 and written < end
