"""Live widgets over a running lab: views that call the lab's boto3 clients, never business rules.

Each is testable without a browser: set its controls' values, ``button.click()``, then read
``widget.message.value`` and ``widget.table.value``.
"""

from ecrlab.widgets.messages import LabWidget, MessageLine

__all__ = ["LabWidget", "MessageLine"]
