"""Image scanning: what a real scanner finds in an image, from real advisory data.

The scanner (:mod:`.rootfs`, :mod:`.packages`, :mod:`.advisories`, :mod:`.severity`, :mod:`.scanner`) reads
an image's layers as a runtime assembles them and matches its packages against the Alpine secdb and OSV
records; it knows nothing of HTTP or the engine. :func:`install` (called by the lab) attaches it to an
engine (:mod:`.service`) and registers the ECR scanning operations (:mod:`.operations`).
"""

from ecrlab.scanning import operations as _operations  # noqa: F401 - registers the ECR scanning operations
from ecrlab.scanning.advisories import AdvisoryDatabase, import_feed
from ecrlab.scanning.events import ImageScanned, InspectorFinding, InspectorScanCompleted
from ecrlab.scanning.scanner import Finding, Scanner, ScanResult
from ecrlab.scanning.service import install
from ecrlab.scanning.severity import SEVERITIES, SeverityTable

__all__ = [
    "SEVERITIES",
    "AdvisoryDatabase",
    "Finding",
    "ImageScanned",
    "InspectorFinding",
    "InspectorScanCompleted",
    "ScanResult",
    "Scanner",
    "SeverityTable",
    "import_feed",
    "install",
]
