"""Live widgets over a running lab: views that call the lab's boto3 clients, never business rules.

Each is testable without a browser: set its controls' values, ``button.click()``, then read
``widget.message.value`` and the widget's HTML (``table.value``, ``panel.value``).
"""

from ecrlab.widgets.messages import LabWidget, MessageLine
from ecrlab.widgets.repository_browser import RepositoryBrowser
from ecrlab.widgets.status import LabStatus

__all__ = ["LabStatus", "LabWidget", "MessageLine", "RepositoryBrowser"]
