"""The moto adapter: every place ecrlab touches moto's internals, in one package.

moto is the sandbox's transport (its in-process botocore stubber and its threaded server) and the
neighbour services (IAM, STS, ...); ecrlab's own engine answers ECR. A moto upgrade is one package
to read: the internals below are all ecrlab uses, written against moto's :data:`MOTO_SERIES` minor
version (pinned in ``pyproject.toml`` and ``constraints.txt``; ``tests/test_wire_boundary.py`` checks
the installed moto is that series and that no module outside this package imports moto).

- :mod:`~ecrlab.wire.mock`: ``moto.mock_aws`` (start/stop), ``moto.server.ThreadedMotoServer`` and
  ``moto.core.models.botocore_stubber.enabled`` (whether a request will be answered in-process);
- :mod:`~ecrlab.wire.clock`: ``moto.core.utils.utcnow``, rebound in every ``moto.*`` module that
  imported it by name, and ``moto.moto_api._internal.mock_random.seed``;
- :mod:`~ecrlab.wire.ecr_api`: the one ECR route, ``moto.ecr.urls.url_paths["{0}/$"]``, read at
  request time in-process and when the server builds its ECR app (it needs a classmethod);
- :mod:`~ecrlab.wire.iam`: two actions added to ``moto.iam.responses.IamResponse``
  (``simulate_principal_policy``, ``simulate_custom_policy``) answering ``moto.core.responses.ActionResult``
  or raising ``moto.iam.exceptions.InvalidInput`` / ``NoSuchEntity``;
- :mod:`~ecrlab.wire.sts`: ``moto.sts.responses.TokenResponse.assume_role`` wrapped, refusing with
  ``moto.core.exceptions.AccessDeniedError``;
- :mod:`~ecrlab.wire.backends`: read-only lookups in ``moto.iam.models.iam_backends`` (users, groups,
  roles, managed policies and their default versions, access keys, tags) and
  ``moto.sts.models.sts_backends`` (assumed-role sessions), returned as plain ecrlab data, plus the
  few writes the lab makes there directly: access keys (``create_access_key``,
  ``create_temp_access_key``), role sessions (``assume_role``) and AWS managed policies
  (``moto.iam.models.AWSManagedPolicy.from_data`` into ``managed_policies``/``aws_managed_policies``);
- :mod:`~ecrlab.wire.secrets`: read-only lookups in ``moto.secretsmanager.models.secretsmanager_backends``
  (a secret by ARN: ``is_deleted()``, ``kms_key_id``, ``secret_string``) and ``moto.kms.models.kms_backends``
  (``describe_key``, ``moto.kms.exceptions.NotFoundException``) for pull through cache credentials.

The adapter sits above the engine and access control, which never import it: the lab installs
:mod:`~ecrlab.wire.backends` as access control's :class:`~ecrlab.access.directory.Directory` (it
answers with that module's plain records), and the request hooks (``ecr_api``, ``iam``, ``sts``) with
the engine and the lab's callbacks. This ``__init__`` imports no submodule.
"""

#: The moto minor version every hook here is written against.
MOTO_SERIES = "5.2"

__all__ = ["MOTO_SERIES"]
