"""ecrlab: a faithful Amazon ECR sandbox for learning, on your own machine.

>>> import ecrlab
>>> with ecrlab.start() as lab:
...     lab.client("ecr").create_repository(repositoryName="hello")
"""

from ecrlab.clock import LabClock
from ecrlab.errors import EcrlabError, LabError, ServiceError
from ecrlab.lab import Lab, start

__all__ = ["EcrlabError", "Lab", "LabClock", "LabError", "ServiceError", "start"]
__version__ = "0.1.0"
