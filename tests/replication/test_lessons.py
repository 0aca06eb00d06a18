"""The exercises of lessons 07 and 08: each published solution passes its check, twice in a row, and the
checks refuse the wrong answers a learner is likely to give."""

from __future__ import annotations

import json

from ecrlab.exercises import lesson07, lesson08


def _namespace(lab, module):
    """What the lesson's own cells define before its exercises: the lab, a client, json, push()."""
    from ecrlab import images
    from ecrlab.images import RegistryClient

    def push(repository, text, tag):
        image = images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(text.encode(), "/app/v.txt").build()
        with RegistryClient.for_lab(lab) as client:
            return client.push(image, repository, tag).digest

    return {"lab": lab, "ecr": lab.client("ecr"), "ex": module, "json": json, "push": push}


def run(lab, module, name, capsys, code=None):
    exec(code or getattr(module, name).solution_code, _namespace(lab, module))  # noqa: S102 - learners' code
    capsys.readouterr()


def wrongs_then_solution(lab, module, name, capsys):
    problem = getattr(module, name)
    for code in problem.wrong_answers:
        try:
            run(lab, module, name, capsys, code)
        except Exception:  # noqa: BLE001, S110 - a wrong cell may fail outright; what matters is the verdict
            pass
        feedback = problem.evaluate(*([_answer(lab, module, code)] if problem.takes_answer else []))
        assert not feedback.correct, (name, code)
    for _ in range(2):
        run(lab, module, name, capsys)
        if not problem.takes_answer:
            assert problem.evaluate().correct, (name, problem.evaluate())


def _answer(lab, module, code):
    """The value a wrong cell passes to check(): the cell run with check() capturing it."""
    seen = []
    namespace = _namespace(lab, module)
    namespace["ex"] = type("Ex", (), {n: getattr(module, n) for n in module.__all__})
    question = code.rsplit("ex.", 1)[1].split(".", 1)[0]
    setattr(namespace["ex"], question, type("Q", (), {"check": staticmethod(seen.append)}))
    exec(code, namespace)  # noqa: S102
    return seen[-1]


def test_lesson07_solutions_pass_twice_and_reset_undoes_them(lab, capsys):
    lesson07.setup(lab)
    assert not lesson07.q1.evaluate().correct
    for name in ["q1", "q2", "q3", "q4"]:
        wrongs_then_solution(lab, lesson07, name, capsys)
    assert lesson07.q4.evaluate(["a new image pushed", "a tag put on an image already pushed"]).correct
    assert lesson07.reset(lab).startswith("lab reset:")
    assert lab.client("ecr").describe_registry()["replicationConfiguration"] == {"rules": []}
    assert lab.client("ecr", region_name="us-west-2").describe_repositories()["repositories"] == []
    assert not lesson07.q1.evaluate().correct


def test_lesson07_partner_check_wants_the_policy_in_the_partner_account(lab, capsys):
    lesson07.setup(lab)
    ecr = lab.client("ecr")
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [{"destinations": [{"region": "us-east-1", "registryId": lesson07.PARTNER}]}]
        }
    )
    lab.account(lesson07.PARTNER)
    # The policy in the wrong account (the source's own registry) does not open the partner's.
    ecr.put_registry_policy(
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:root"},
                        "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                        "Resource": "*",
                    }
                ],
            }
        )
    )
    feedback = lesson07.q2.evaluate()
    assert not feedback.correct and "partner" in feedback.text


def test_lesson08_solutions_pass_twice(lab, capsys):
    lesson08.setup(lab)
    lesson08.setup(lab)  # idempotent
    assert not lesson08.q4.evaluate().correct
    for name in ["q1", "q2", "q3", "q4", "q5"]:
        wrongs_then_solution(lab, lesson08, name, capsys)


def test_lesson08_what_was_deployed_then_is_not_what_is_deployed_now(lab):
    from ecrlab.widgets import ImageTimeline

    lesson08.setup(lab)
    when = lesson08.last_tuesday(lab)
    assert when.weekday() == 1 and when < lab.clock.now()
    then = ImageTimeline("shop/api", lab).tag_at("prod", when)
    ecr = lab.client("ecr")
    now = ecr.describe_images(repositoryName="shop/api", imageIds=[{"imageTag": "prod"}])["imageDetails"][0]
    assert then is not None and then != now["imageDigest"]
    assert lesson08.q3.evaluate(then).correct
    assert not lesson08.q3.evaluate(now["imageDigest"]).correct


def test_lesson08_keep_last_n_without_protection_is_refused(lab):
    lesson08.setup(lab)
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3},
                "action": {"type": "expire"},
            }
        ]
    }
    ecr = lab.client("ecr")
    manifest = ecr.batch_get_image(repositoryName="shop/api", imageIds=[{"imageTag": "1.1.0"}])["images"][0]
    ecr.put_image(repositoryName="shop/api", imageManifest=manifest["imageManifest"], imageTag="stable")
    ecr.put_lifecycle_policy(repositoryName="shop/api", lifecyclePolicyText=json.dumps(policy))
    assert not lesson08.q5.evaluate().correct
