"""ECR lifecycle policies: validation, evaluation, previews and daily execution on the lab clock.

>>> from ecrlab.lifecycle import parse_policy, evaluate          # doctest: +SKIP
>>> result = evaluate(parse_policy(text), repo.images.values(), lab.clock.now())
>>> result.expired_digests()                                     # digest -> rulePriority

The API operations (PutLifecyclePolicy, StartLifecyclePolicyPreview, ...) are in
:mod:`ecrlab.lifecycle.operations`, loaded with the lab's features.
"""

from ecrlab.lifecycle.evaluation import Evaluation, Verdict, evaluate
from ecrlab.lifecycle.execution import attach, run_now, run_policy
from ecrlab.lifecycle.policy import Policy, Rule, canonical_text, parse_policy
from ecrlab.lifecycle.preview import Preview

__all__ = [
    "Evaluation",
    "Policy",
    "Preview",
    "Rule",
    "Verdict",
    "attach",
    "canonical_text",
    "evaluate",
    "parse_policy",
    "run_now",
    "run_policy",
]
