"""EventBridge's event envelope in moto: the ``account`` field its targets receive.

moto builds the JSON it delivers to a rule's targets from a template
(``moto.events.utils.EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE``) that leaves out ``account``,
which every EventBridge event carries. :func:`install` puts it back, in the order AWS writes the
envelope (``version``, ``id``, ``detail-type``, ``source``, ``account``, ``time``, ``region``,
``resources``, ``detail``); the template's placeholders are moto's own.
"""

from __future__ import annotations

__all__ = ["ENVELOPE_TEMPLATE", "install"]

ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}'
)


def install() -> None:
    """Deliver EventBridge events with their full envelope (process-wide; idempotent)."""
    from moto.events.utils import EventTemplateParser

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = ENVELOPE_TEMPLATE
