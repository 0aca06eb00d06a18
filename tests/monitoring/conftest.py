"""Fixtures for monitoring: the CloudTrail and CloudWatch clients, and an SQS queue behind an EventBridge
rule for ECR's events (the registry client and repository come from tests/conftest.py)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def cloudtrail(lab):
    return lab.client("cloudtrail")


@pytest.fixture
def cloudwatch(lab):
    return lab.client("cloudwatch")


def queue_behind_rule(lab, pattern: dict, name: str = "ecr-events") -> str:
    """An SQS queue that an EventBridge rule on the default bus with ``pattern`` targets; its URL."""
    sqs, events = lab.client("sqs"), lab.client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def drain(lab, url: str) -> list[dict]:
    """Every message on the queue, in order, as parsed JSON."""
    sqs = lab.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
