"""ECR lifecycle policies: validation, evaluation, previews and daily execution on the lab clock.

>>> from ecrlab.lifecycle import evaluate_lifecycle_policy, parse_lifecycle_policy  # doctest: +SKIP
>>> result = evaluate_lifecycle_policy(parse_lifecycle_policy(text), repo.images.values(), lab.clock.now())
>>> result.expired_digests()                                     # digest -> rulePriority

The API operations (PutLifecyclePolicy, StartLifecyclePolicyPreview, ...) are in
:mod:`ecrlab.lifecycle.operations`, loaded with the lab's features.
"""

from ecrlab.lifecycle.evaluation import Evaluation, Verdict, evaluate_lifecycle_policy
from ecrlab.lifecycle.execution import attach, run_now, run_policy
from ecrlab.lifecycle.policy import LifecyclePolicy, Rule, canonical_text, parse_lifecycle_policy
from ecrlab.lifecycle.preview import Preview

__all__ = [
    "Evaluation",
    "LifecyclePolicy",
    "Preview",
    "Rule",
    "Verdict",
    "attach",
    "canonical_text",
    "evaluate_lifecycle_policy",
    "parse_lifecycle_policy",
    "run_now",
    "run_policy",
]
