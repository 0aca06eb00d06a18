"""Access control: policy documents, identities and the decisions made from them.

- :mod:`~ecrlab.access.grammar`: parse and check a policy document (clear errors, AWS's rules);
- :mod:`~ecrlab.access.conditions`: condition operators, IfExists, ForAnyValue/ForAllValues, policy variables;
- :mod:`~ecrlab.access.evaluation`: AWS's evaluation logic for one request, with its explanation;
- :mod:`~ecrlab.access.identities`: access keys → principals, principals → their policies (moto's IAM/STS);
- :mod:`~ecrlab.access.managed`: the AWS managed ECR policies, attachable with their real texts;
- :mod:`~ecrlab.access.authorizer`: the engine's authorizer for every ECR request, API and registry;
- :mod:`~ecrlab.access.accounts`: more AWS accounts in one lab (``lab.account("222222222222")``);
- :mod:`~ecrlab.access.simulation` and :mod:`~ecrlab.access.iam_adapter`: IAM's policy simulator.
"""
