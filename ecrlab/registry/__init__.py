"""The sandbox's data plane: an OCI Distribution (``/v2/``) registry with ECR's authentication.

Every action goes through the ECR engine (:mod:`ecrlab.ecr`), so a push here is an image in
``DescribeImages`` and an image put with ``PutImage`` can be pulled here; the access rules and the
event log see the same actions as for the API.
"""

from ecrlab.registry.app import RegistryApp
from ecrlab.registry.errors import CATALOGUE, RegistryError
from ecrlab.registry.server import RegistryServer

__all__ = ["CATALOGUE", "RegistryApp", "RegistryError", "RegistryServer"]
