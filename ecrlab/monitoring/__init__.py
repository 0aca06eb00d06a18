"""Monitoring: what the sandbox's CloudTrail, CloudWatch and EventBridge would show, built from the
engine's event stream (:mod:`ecrlab.ecr.events`), so every record comes from a real action in the lab."""

from ecrlab.monitoring.trail import IMAGES_PER_EVENT, Trail

__all__ = ["IMAGES_PER_EVENT", "Trail"]
