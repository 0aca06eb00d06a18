"""CloudWatch metrics from real pulls and calls: RepositoryPullCount, CallCount, alarms, the AWS CLI."""

from __future__ import annotations

import json
from datetime import timedelta

from ecrlab.monitoring import usage_dimensions
from tests.images.random_images import random_image

REPO_DIMENSION = [{"Name": "RepositoryName", "Value": "team/app"}]


def pull_sum(lab, cloudwatch, repository: str = "team/app") -> float:
    now = lab.clock.now()
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/ECR",
        MetricName="RepositoryPullCount",
        Dimensions=[{"Name": "RepositoryName", "Value": repository}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_pull_count_after_n_pulls_is_n(lab, ecr, cloudwatch, registry, repo):
    registry.push(random_image(), repo, "v1")
    assert pull_sum(lab, cloudwatch) == 0  # a push is not a pull, and there is no push metric
    for _ in range(4):
        registry.get_manifest(repo, "v1")
    ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])  # the API's pull counts too
    registry.http.head(f"/v2/{repo}/manifests/v1")  # a HEAD is not a pull
    assert pull_sum(lab, cloudwatch) == 5
    metrics = cloudwatch.list_metrics(Namespace="AWS/ECR")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"RepositoryPullCount"}
    assert metrics[0]["Dimensions"] == REPO_DIMENSION


def test_get_metric_data_and_lab_clock_timestamps(lab, cloudwatch, registry, repo):
    registry.push(random_image(), repo, "v1")
    registry.get_manifest(repo, "v1")
    lab.clock.advance(hours=3)
    registry.get_manifest(repo, "v1")
    registry.get_manifest(repo, "v1")
    now = lab.clock.now()
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "pulls",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ECR",
                        "MetricName": "RepositoryPullCount",
                        "Dimensions": REPO_DIMENSION,
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(hours=5),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"][0]
    assert sorted(result["Values"]) == [1.0, 2.0]


def test_call_count_for_data_plane_operations(lab, cloudwatch, registry, repo, ecr):
    registry.push(random_image(layers=2), repo, "v1")
    ecr.describe_repositories()  # a control-plane call: no usage metric
    now = lab.clock.now()

    def calls(operation: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Usage",
            MetricName="CallCount",
            Dimensions=usage_dimensions(operation),
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=1),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    assert calls("InitiateLayerUpload") == 3  # the config and two layers
    assert calls("CompleteLayerUpload") == 3
    assert calls("PutImage") == 1
    assert calls("GetAuthorizationToken") == 1
    resources = {
        next(d["Value"] for d in m["Dimensions"] if d["Name"] == "Resource")
        for m in cloudwatch.list_metrics(Namespace="AWS/Usage")["Metrics"]
    }
    assert "DescribeRepositories" not in resources and "PutImage" in resources


def test_an_alarm_on_pulls_fires_and_clears(lab, cloudwatch, registry, repo):
    registry.push(random_image(), repo, "v1")
    cloudwatch.put_metric_alarm(
        AlarmName="busy-app",
        Namespace="AWS/ECR",
        MetricName="RepositoryPullCount",
        Dimensions=REPO_DIMENSION,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=3,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )

    def state() -> str:
        return cloudwatch.describe_alarms(AlarmNames=["busy-app"])["MetricAlarms"][0]["StateValue"]

    registry.get_manifest(repo, "v1")
    assert state() == "OK"
    registry.get_manifest(repo, "v1")
    registry.get_manifest(repo, "v1")
    assert state() == "ALARM"
    alarm = cloudwatch.describe_alarms(AlarmNames=["busy-app"])["MetricAlarms"][0]
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [3.0 (")
    lab.clock.advance(minutes=30)  # the pulls stop: no data in the evaluation period any more
    assert state() == "INSUFFICIENT_DATA"


def test_cli_reads_the_metric(lab, registry, repo):
    registry.push(random_image(), repo, "v1")
    registry.get_manifest(repo, "v1")
    registry.get_manifest(repo, "v1")
    now = lab.clock.now()
    result = lab.aws(
        "cloudwatch get-metric-statistics --namespace AWS/ECR --metric-name RepositoryPullCount "
        f"--dimensions Name=RepositoryName,Value={repo} --statistics Sum --period 3600 "
        f"--start-time {(now - timedelta(hours=1)).isoformat()} --end-time {(now + timedelta(minutes=1)).isoformat()}"
    )
    assert result.ok, result.stderr
    assert [p["Sum"] for p in json.loads(result.stdout)["Datapoints"]] == [2.0]
