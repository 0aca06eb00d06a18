"""Exercises for notebooks/10-monitoring.ipynb: find who did what in CloudTrail, alarm on pulls, route
ECR's events to a queue.

The checks read the lab as a learner would: CloudTrail's ``LookupEvents``, CloudWatch's ``DescribeAlarms``,
EventBridge's rules and targets, and the queue's messages (peeked at without consuming them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.exercises.core import Incorrect, NotAttempted, Problem
from ecrlab.images import ImageBuilder, RegistryClient

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["q1", "q2", "q3", "q4", "reset", "setup"]

REPOSITORY = "shop/web"
ALARM = "web-busy"
QUEUE = "web-deletes"

_TRUST_NOBODY = json.dumps({"Version": "2012-10-17", "Statement": []})
_DELETE_ONLY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:BatchDeleteImage", "Resource": "*"}]}
)


def setup(lab: Lab) -> str:
    """The exercises' starting point: ``shop/web`` with ``v1`` and ``v2`` pushed by the CI user ``ci-bot``,
    and ``v2`` deleted since by one of the team (which one is exercise 1). Safe to run again."""
    ecr, iam = lab.client("ecr"), lab.client("iam")
    existing = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    if REPOSITORY in existing:
        return f"{REPOSITORY} is ready."
    ecr.create_repository(repositoryName=REPOSITORY)
    users = {u["UserName"] for u in iam.list_users()["Users"]}
    for name in ("ci-bot", "pat", "sam"):
        if name not in users:
            iam.create_user(UserName=name)
    iam.attach_user_policy(UserName="ci-bot", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
    for name in ("pat", "sam"):
        iam.put_user_policy(UserName=name, PolicyName="delete-images", PolicyDocument=_DELETE_ONLY)
    pusher = RegistryClient.for_lab(lab, lab.session(user="ci-bot"))
    try:
        for tag in ("v1", "v2", "old"):
            pusher.push(ImageBuilder().copy_bytes(f"shop web {tag}".encode(), "/content.txt").build(), REPOSITORY, tag)
    finally:
        pusher.close()
    lab.session(user="sam").client("ecr").batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "v2"}])
    return f"{REPOSITORY} holds v1 and old; v2 was pushed and then deleted by someone."


def _deleter(lab: Lab) -> str | None:
    """Who deleted ``shop/web:v2``, from the lab's trail (the answer a LookupEvents search finds)."""
    for record in lab.trail.who("BatchDeleteImage", repository=REPOSITORY, account=lab.account_id):
        if {"imageTag": "v2"} in (record.get("requestParameters") or {}).get("imageIds", []):
            return record["userIdentity"].get("userName") or record["userIdentity"].get("arn")
    return None


class WhoDeleted(Problem):
    title = "Someone deleted `shop/web:v2`. Who? Answer with the IAM user name, from CloudTrail."
    takes_answer = True
    hints = (
        "`cloudtrail.lookup_events(LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': 'BatchDeleteImage'}])`.",
        "Each event has `Username`; its `CloudTrailEvent` (a JSON string) has the `requestParameters` naming the tag.",
    )
    solution_text = "Look the deletes up and read the one that named `v2`:"
    solution_code = (
        "import json\n"
        "cloudtrail = lab.client('cloudtrail')\n"
        "deletes = cloudtrail.lookup_events(\n"
        "    LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': 'BatchDeleteImage'}])['Events']\n"
        "deleter = next(e['Username'] for e in deletes\n"
        "               if {'imageTag': 'v2'} in json.loads(e['CloudTrailEvent'])['requestParameters']['imageIds'])\n"
        "ex.q1.check(deleter)"
    )
    wrong_answers = (
        "deleter = 'ci-bot'  # the user who pushed v2\nex.q1.check(deleter)",
        "deleter = 'pat'  # one of the two users allowed to delete\nex.q1.check(deleter)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        who = _deleter(lab)
        if who is None:
            raise NotAttempted("nobody has deleted `shop/web:v2` yet: run `ex.setup(lab)` first.")
        if not isinstance(answer, str):
            raise Incorrect(f"answer with the user name as a string (you gave {type(answer).__name__}).")
        if answer.strip() == "ci-bot":
            raise Incorrect("ci-bot pushed `v2` (PutImage); look for the BatchDeleteImage that named it.")
        if answer.strip() != who:
            raise Incorrect(f"CloudTrail does not show {answer!r} deleting `v2`: filter on EventName BatchDeleteImage.")
        return f"{who} deleted it: CloudTrail's BatchDeleteImage record names the user, the key and the tag."


def _alarm(lab: Lab) -> dict[str, Any]:
    found = lab.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    if not found:
        raise NotAttempted(f"there is no alarm named `{ALARM}` yet: create it with `put_metric_alarm`.")
    return found[0]


class PullAlarm(Problem):
    title = (
        f"Create a CloudWatch alarm `{ALARM}` that goes to ALARM when `shop/web` is pulled 5 or more times "
        "within 5 minutes."
    )
    hints = (
        "Namespace `AWS/ECR`, metric `RepositoryPullCount`, dimension `RepositoryName`; statistic `Sum`.",
        "`Period=300`, `EvaluationPeriods=1`, `Threshold=5`, `ComparisonOperator='GreaterThanOrEqualToThreshold'`.",
    )
    solution_text = "One static-threshold alarm on the repository's pull count:"
    solution_code = (
        "cloudwatch = lab.client('cloudwatch')\n"
        "cloudwatch.put_metric_alarm(\n"
        f"    AlarmName='{ALARM}', Namespace='AWS/ECR', MetricName='RepositoryPullCount',\n"
        "    Dimensions=[{'Name': 'RepositoryName', 'Value': 'shop/web'}],\n"
        "    Statistic='Sum', Period=300, EvaluationPeriods=1, Threshold=5,\n"
        "    ComparisonOperator='GreaterThanOrEqualToThreshold')\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        (
            "lab.client('cloudwatch').put_metric_alarm(\n"
            f"    AlarmName='{ALARM}', Namespace='AWS/ECR', MetricName='RepositoryPullCount',\n"
            "    Dimensions=[{'Name': 'RepositoryName', 'Value': 'shop/web'}],\n"
            "    Statistic='Average', Period=300, EvaluationPeriods=1, Threshold=5,\n"
            "    ComparisonOperator='GreaterThanOrEqualToThreshold')\n"
            "ex.q2.check()"
        ),
        (
            "lab.client('cloudwatch').put_metric_alarm(\n"
            f"    AlarmName='{ALARM}', Namespace='AWS/ECR', MetricName='RepositoryPullCount',\n"
            "    Dimensions=[{'Name': 'RepositoryName', 'Value': 'shop/web'}],\n"
            "    Statistic='Sum', Period=300, EvaluationPeriods=1, Threshold=5,\n"
            "    ComparisonOperator='GreaterThanThreshold')\n"
            "ex.q2.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        alarm = _alarm(lab)
        if (alarm.get("Namespace"), alarm.get("MetricName")) != ("AWS/ECR", "RepositoryPullCount"):
            raise Incorrect("watch the metric `RepositoryPullCount` in the namespace `AWS/ECR`.")
        if alarm.get("Dimensions") != [{"Name": "RepositoryName", "Value": REPOSITORY}]:
            raise Incorrect("give it exactly one dimension: `RepositoryName` = `shop/web`.")
        if alarm.get("Statistic") != "Sum":
            raise Incorrect(
                "pulls add up: use the `Sum` statistic (a `SampleCount` or `Maximum` counts something else)."
            )
        if alarm.get("Period", 0) * alarm.get("EvaluationPeriods", 0) != 300:
            raise Incorrect("the window should be 5 minutes: `Period=300` with `EvaluationPeriods=1`.")
        fires_at_5 = {
            ("GreaterThanOrEqualToThreshold", 5.0),
            ("GreaterThanThreshold", 4.0),
        }
        if (alarm.get("ComparisonOperator"), float(alarm.get("Threshold", -1))) not in fires_at_5:
            raise Incorrect("it should fire at 5 pulls, not before and not after: `>= 5`.")
        return f"`{ALARM}` watches shop/web's pulls; it is {alarm['StateValue']} now."


class FireAlarm(Problem):
    title = f"Make `{ALARM}` fire: pull `shop/web:v1` through the registry until the alarm is in ALARM."
    hints = (
        "`RegistryClient.for_lab(lab)` gives a client; `get_manifest('shop/web', 'v1')` is one pull.",
        "Five pulls within the alarm's 5 minutes: the lab evaluates the alarm after each datapoint.",
    )
    solution_text = "Pull five times (the lab clock stands still in between):"
    solution_code = (
        "from ecrlab.images import RegistryClient\n"
        "puller = RegistryClient.for_lab(lab)\n"
        "for _ in range(5):\n"
        "    puller.get_manifest('shop/web', 'v1')\n"
        "puller.close()\n"
        "ex.q3.check()"
    )
    wrong_answers = (
        "lab.clock.advance(minutes=5)  # wait for the alarm\nex.q3.check()",
        (
            "from ecrlab.images import RegistryClient\n"
            "puller = RegistryClient.for_lab(lab)\n"
            "for _ in range(4):\n"
            "    puller.get_manifest('shop/web', 'v1')\n"
            "puller.close()\n"
            "ex.q3.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        alarm = _alarm(lab)
        if alarm["StateValue"] != "ALARM":
            raise Incorrect(
                f"`{ALARM}` is {alarm['StateValue']}: pull `shop/web:v1` 5 times within 5 minutes of lab time."
            )
        return f"`{ALARM}` is in ALARM: {alarm['StateReason']}"


class RouteDeletes(Problem):
    title = (
        f"Send ECR's DELETE image actions for `shop/web` (and nothing else) to an SQS queue `{QUEUE}` with an "
        f"EventBridge rule `{QUEUE}`, then delete the tag `old` to see one arrive."
    )
    hints = (
        (
            "Pattern: `{'source': ['aws.ecr'], 'detail-type': ['ECR Image Action'], "
            "'detail': {'action-type': ['DELETE'], 'repository-name': ['shop/web']}}`."
        ),
        (
            "`put_rule(Name=..., EventPattern=json.dumps(pattern))`, then `put_targets` with the queue's `QueueArn`; "
            "push `old` again if it is gone, then `batch_delete_image`."
        ),
    )
    solution_text = "A queue, a rule on the default bus with that pattern, the queue as its target, and a delete:"
    solution_code = (
        "import json\n"
        "from ecrlab.images import RegistryClient\n"
        "sqs, events = lab.client('sqs'), lab.client('events')\n"
        f"url = sqs.create_queue(QueueName='{QUEUE}')['QueueUrl']\n"
        "arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n"
        "pattern = {'source': ['aws.ecr'], 'detail-type': ['ECR Image Action'],\n"
        "           'detail': {'action-type': ['DELETE'], 'repository-name': ['shop/web']}}\n"
        f"events.put_rule(Name='{QUEUE}', EventPattern=json.dumps(pattern))\n"
        f"events.put_targets(Rule='{QUEUE}', Targets=[{{'Id': 'queue', 'Arn': arn}}])\n"
        "# `old` must exist to be deleted: put it back on v1 (a PUSH: the rule ignores it), then delete it\n"
        "manifest = ecr.batch_get_image(repositoryName='shop/web', imageIds=[{'imageTag': 'v1'}])['images'][0]\n"
        "ecr.put_image(repositoryName='shop/web', imageManifest=manifest['imageManifest'], imageTag='old')\n"
        "ecr.batch_delete_image(repositoryName='shop/web', imageIds=[{'imageTag': 'old'}])\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        (
            "import json\n"
            "sqs, events = lab.client('sqs'), lab.client('events')\n"
            f"url = sqs.create_queue(QueueName='{QUEUE}')['QueueUrl']\n"
            "arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n"
            "pattern = {'source': ['aws.ecr'], 'detail-type': ['ECR Image Action']}\n"
            f"events.put_rule(Name='{QUEUE}', EventPattern=json.dumps(pattern))\n"
            f"events.put_targets(Rule='{QUEUE}', Targets=[{{'Id': 'queue', 'Arn': arn}}])\n"
            "ex.q4.check()"
        ),
        (
            "import json\n"
            "pattern = {'source': ['aws.ecr'], 'detail-type': ['ECR Image Action'],\n"
            "           'detail': {'action-type': ['DELETE'], 'repository-name': ['shop/web']}}\n"
            f"lab.client('events').put_rule(Name='{QUEUE}', EventPattern=json.dumps(pattern))\n"
            "ex.q4.check()  # the rule is right, but nothing was deleted yet"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        sqs, events = lab.client("sqs"), lab.client("events")
        try:
            url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        except ClientError:
            raise NotAttempted(f"there is no queue `{QUEUE}` yet.") from None
        rules = {r["Name"]: r for r in events.list_rules()["Rules"]}
        if QUEUE not in rules:
            raise NotAttempted(f"there is no EventBridge rule `{QUEUE}` on the default bus yet.")
        pattern = json.loads(rules[QUEUE].get("EventPattern") or "{}")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if arn not in [t["Arn"] for t in events.list_targets_by_rule(Rule=QUEUE)["Targets"]]:
            raise Incorrect(
                f"the rule does not target the queue: `put_targets(Rule='{QUEUE}', Targets=[... '{arn}'])`."
            )
        if pattern.get("source") != ["aws.ecr"]:
            raise Incorrect("match ECR's events only: `'source': ['aws.ecr']`.")
        detail = pattern.get("detail") or {}
        if detail.get("action-type") != ["DELETE"]:
            raise Incorrect("pushes would match too: add `'detail': {'action-type': ['DELETE'], ...}`.")
        if detail.get("repository-name") != [REPOSITORY]:
            raise Incorrect("deletes in other repositories would match too: add `'repository-name': ['shop/web']`.")
        # Peek at the queue without consuming: a zero visibility timeout leaves the messages where they are.
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        bodies = [json.loads(m["Body"]) for m in messages]
        deletes = [b for b in bodies if b.get("detail", {}).get("action-type") == "DELETE"]
        if not deletes:
            raise Incorrect("the rule is right, but no DELETE has reached the queue yet: delete `shop/web:old`.")
        tag = deletes[-1]["detail"].get("image-tag")
        return f"the queue holds {len(deletes)} DELETE event(s) (last: tag {tag}), and no pushes."


def reset(lab: Lab) -> str:
    """Start lesson 10 over: delete its repository, IAM users, alarm, rule and queue (the lab clock is not
    turned back, and CloudTrail keeps its history, as in AWS)."""
    ecr, iam, cloudwatch, events, sqs = (lab.client(s) for s in ("ecr", "iam", "cloudwatch", "events", "sqs"))
    gone = []
    for repo in ecr.describe_repositories()["repositories"]:
        ecr.delete_repository(repositoryName=repo["repositoryName"], force=True)
        gone.append(repo["repositoryName"])
    for user in ("ci-bot", "pat", "sam"):
        try:
            for policy in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
                iam.detach_user_policy(UserName=user, PolicyArn=policy["PolicyArn"])
            for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
                iam.delete_user_policy(UserName=user, PolicyName=name)
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName=user)
            gone.append(f"user {user}")
        except ClientError:
            continue  # not created (setup not run): nothing to delete
    alarms = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
    if alarms:
        cloudwatch.delete_alarms(AlarmNames=alarms)
        gone += [f"alarm {a}" for a in alarms]
    for rule in events.list_rules()["Rules"]:
        targets = [t["Id"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        if targets:
            events.remove_targets(Rule=rule["Name"], Ids=targets)
        events.delete_rule(Name=rule["Name"])
        gone.append(f"rule {rule['Name']}")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
        gone.append(f"queue {url.rsplit('/', 1)[-1]}")
    return "deleted: " + (", ".join(gone) if gone else "nothing")


q1 = WhoDeleted()
q2 = PullAlarm()
q3 = FireAlarm()
q4 = RouteDeletes()
