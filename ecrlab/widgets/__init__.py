"""Live widgets over a running lab: views that call the lab's boto3 clients, never business rules.

Each is testable without a browser: set its controls' values, ``button.click()``, then read
``widget.message.value`` and the widget's HTML (``table.value``, ``panel.value``).
"""

from ecrlab.widgets.exercise_help import ExerciseHelp
from ecrlab.widgets.image_timeline import ImageTimeline
from ecrlab.widgets.instructor import InstructorView
from ecrlab.widgets.lifecycle_builder import LifecycleBuilder
from ecrlab.widgets.messages import LabWidget, MessageLine
from ecrlab.widgets.monitoring_dashboard import MonitoringDashboard
from ecrlab.widgets.policy_playground import PolicyPlayground
from ecrlab.widgets.progress import PushProgress, default_progress
from ecrlab.widgets.replication_map import ReplicationMap
from ecrlab.widgets.repository_browser import RepositoryBrowser
from ecrlab.widgets.scan_findings import ScanFindings
from ecrlab.widgets.start_over import StartOver
from ecrlab.widgets.status import LabStatus

__all__ = [
    "ExerciseHelp",
    "ImageTimeline",
    "InstructorView",
    "LabStatus",
    "LabWidget",
    "LifecycleBuilder",
    "MessageLine",
    "MonitoringDashboard",
    "PolicyPlayground",
    "PushProgress",
    "ReplicationMap",
    "RepositoryBrowser",
    "ScanFindings",
    "StartOver",
    "default_progress",
]
