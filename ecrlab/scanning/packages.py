"""What is installed in an image: the OS (os-release) and the packages its package managers recorded.

Sources, each read the way its own tool reads it:

- ``/etc/os-release`` (else ``/usr/lib/os-release``), and ``/etc/alpine-release`` for Alpine's point release;
- apk's installed database ``/lib/apk/db/installed`` (stanzas of ``X:value`` lines; ``P`` name, ``V``
  version, ``A`` arch, ``o`` origin);
- dpkg's ``/var/lib/dpkg/status`` (RFC 822 stanzas; only packages whose ``Status`` ends in ``installed``;
  ``Source`` with an optional ``(version)`` names the source package);
- Python distributions: ``*.dist-info/METADATA`` and ``*.egg-info/PKG-INFO`` (``Name``, ``Version``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from ecrlab.scanning.rootfs import RootFS

__all__ = ["OperatingSystem", "Package", "detect_os", "installed_packages", "normalise_pypi_name"]

_PEP503 = re.compile(r"[-_.]+")


def normalise_pypi_name(name: str) -> str:
    return _PEP503.sub("-", name).lower()


@dataclass(frozen=True)
class OperatingSystem:
    id: str  # os-release ID: alpine, debian, ubuntu, ...
    version_id: str  # 3.18.0, 12, 22.04
    pretty_name: str

    @property
    def branch(self) -> str:
        """The advisory branch: Alpine ``v3.18`` for ``3.18.0``; Debian ``12``."""
        if self.id == "alpine":
            return "v" + ".".join(self.version_id.split(".")[:2])
        return self.version_id

    @property
    def display(self) -> str:
        return self.pretty_name or f"{self.id} {self.version_id}"


@dataclass(frozen=True)
class Package:
    """One installed package; ``manager`` as Inspector names it (``OS`` or ``PYTHONPKG``)."""

    name: str
    version: str
    source: str  # origin (apk) / source package (dpkg) / the name itself (Python)
    ecosystem: str  # apk | dpkg | pypi
    manager: str
    arch: str
    file_path: str  # the database it was read from
    layer: str  # digest of the layer that last wrote that database


def _os_release(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def detect_os(fs: RootFS) -> OperatingSystem | None:
    """The image's OS, or None when it has no os-release nor alpine-release (e.g. FROM scratch)."""
    raw = fs.read("etc/os-release") or fs.read("usr/lib/os-release")
    fields = _os_release(raw.decode("utf-8", "replace")) if raw else {}
    alpine = fs.read("etc/alpine-release")
    if alpine is not None and fields.get("ID", "alpine") == "alpine":
        version = alpine.decode("utf-8", "replace").strip()
        return OperatingSystem("alpine", version, fields.get("PRETTY_NAME", f"Alpine Linux v{version}"))
    if "ID" not in fields:
        return None
    return OperatingSystem(fields["ID"], fields.get("VERSION_ID", ""), fields.get("PRETTY_NAME", ""))


def _stanzas(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.split(r"\n\s*\n", text) if block.strip()]


def _apk(fs: RootFS) -> list[Package]:
    path = "lib/apk/db/installed"
    entry = fs.files.get(path)
    if entry is None:
        return []
    out = []
    for stanza in _stanzas(entry.data.decode("utf-8", "replace")):
        fields: dict[str, str] = {}
        for line in stanza:
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields and "V" in fields:
            out.append(
                Package(
                    fields["P"],
                    fields["V"],
                    fields.get("o", fields["P"]),
                    "apk",
                    "OS",
                    fields.get("A", ""),
                    "/" + path,
                    entry.layer,
                )
            )
    return out


def _dpkg(fs: RootFS) -> list[Package]:
    out = []
    for path, entry in fs.glob(lambda p: p == "var/lib/dpkg/status" or p.startswith("var/lib/dpkg/status.d/")):
        for stanza in _stanzas(entry.data.decode("utf-8", "replace")):
            fields: dict[str, str] = {}
            for line in stanza:
                if line[:1] in (" ", "\t"):
                    continue  # continuation of a multi-line field (Description, Conffiles)
                key, sep, value = line.partition(":")
                if sep:
                    fields[key.strip()] = value.strip()
            status = fields.get("Status", "install ok installed")
            if "Package" not in fields or "Version" not in fields or not status.endswith(" installed"):
                continue
            source = fields.get("Source", fields["Package"]).split(" ")[0]
            out.append(
                Package(
                    fields["Package"],
                    fields["Version"],
                    source,
                    "dpkg",
                    "OS",
                    fields.get("Architecture", ""),
                    "/" + path,
                    entry.layer,
                )
            )
    return out


def _python(fs: RootFS) -> list[Package]:
    out = []
    parser = BytesHeaderParser()
    for path, entry in fs.glob(lambda p: p.endswith((".dist-info/METADATA", ".egg-info/PKG-INFO"))):
        headers = parser.parsebytes(entry.data)
        name, version = headers.get("Name"), headers.get("Version")
        if name and version:
            out.append(Package(str(name), str(version), str(name), "pypi", "PYTHONPKG", "", "/" + path, entry.layer))
    return out


def installed_packages(fs: RootFS, *, languages: bool) -> list[Package]:
    """OS packages (apk, dpkg), and Python distributions when ``languages`` (enhanced scanning)."""
    packages = _apk(fs) + _dpkg(fs)
    if languages:
        packages += _python(fs)
    return packages
