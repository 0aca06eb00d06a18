"""Advisory feeds and matching: Alpine secdb (``secfixes``) and OSV records, with per-ecosystem ordering.

Versions are compared only by ``univers`` classes (apk, Debian and PEP 440 ordering): no hand-written
comparison. The database loads the advisories shipped in ``ecrlab/data/advisories`` (a dated snapshot)
and any full feeds imported with :func:`import_feed` (``ecrlab advisories import PATH``):

- an Alpine secdb JSON file for any branch and repository (``v3.19/main.json`` from secdb.alpinelinux.org);
- an OSV zip for any ecosystem (``https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip``).

Imported feeds are copied into :func:`import_folder` (``$ECRLAB_ADVISORIES``, else
``~/.local/share/ecrlab/advisories``), where every later :class:`AdvisoryDatabase` finds them.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from univers.versions import AlpineLinuxVersion, DebianVersion, InvalidVersion, PypiVersion, Version

from ecrlab.errors import LabError
from ecrlab.scanning.packages import OperatingSystem, Package, normalise_pypi_name
from ecrlab.scanning.severity import Metric

__all__ = [
    "PACK_SECDB_UPDATED_AT",
    "Advisory",
    "AdvisoryDatabase",
    "Match",
    "import_feed",
    "import_folder",
]

# The secdb mirror's snapshot commit is "update for 2024-12-31"; the JSON files carry no date themselves.
PACK_SECDB_UPDATED_AT = datetime(2024, 12, 31, tzinfo=timezone.utc)

_VERSION_CLASSES: dict[str, type[Version]] = {"apk": AlpineLinuxVersion, "dpkg": DebianVersion, "pypi": PypiVersion}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _version_class(ecosystem: str) -> type[Version] | None:
    """The univers class for an OSV ecosystem name (``PyPI``, ``Alpine:v3.18``, ``Debian:12``)."""
    base = ecosystem.split(":")[0]
    return {"PyPI": PypiVersion, "Alpine": AlpineLinuxVersion, "Debian": DebianVersion, "Ubuntu": DebianVersion}.get(
        base
    )


@functools.lru_cache(maxsize=65536)  # range bounds repeat across records and scans; parsing dominates matching
def _parse(cls: type[Version], text: str) -> Version | None:
    try:
        return cls(text)
    except (InvalidVersion, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Advisory:
    """One advisory as the scanner reports it."""

    id: str  # CVE id when there is one, else the feed's own id
    feed_id: str  # the id in its feed (the CVE, ALPINE-13661, PYSEC-2023-74)
    aliases: tuple[str, ...]
    details: str
    uri: str
    metrics: tuple[Metric, ...] = ()


@dataclass(frozen=True)
class Match:
    package: Package
    advisory: Advisory
    fixed_in: str | None  # the first fixed version, when the feed names one


@dataclass
class _SecdbEntry:
    fixes: list[tuple[str, list[str]]]  # (fixed version, ids), as the file lists them
    # The fixes in ascending version order, parsed once: an installed version is then placed among them by
    # bisection (every fix above it is a finding), a few comparisons instead of one per fix.
    parsed: list[tuple[Version, str, list[str]]] | None = None


@dataclass(frozen=True)
class _Affected:
    """One ``affected`` entry of an OSV record, with its package name normalised and its versions as a set."""

    ecosystem: str
    name: str
    ranges: tuple[dict[str, Any], ...]
    versions: frozenset[str]


@dataclass
class _OsvRecord:
    raw: dict[str, Any]
    advisory: Advisory
    affected: list[_Affected]


def _first_token(text: str) -> str:
    return text.split()[0] if text.split() else text


def _uri(vuln_id: str) -> str:
    if vuln_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{vuln_id}"
    if vuln_id.startswith("ALPINE-"):
        return f"https://gitlab.alpinelinux.org/alpine/aports/-/issues/{vuln_id.removeprefix('ALPINE-')}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


@dataclass
class AdvisoryDatabase:
    """Secdb entries per (branch, origin) and OSV records per (ecosystem, package name)."""

    secdb: dict[tuple[str, str], _SecdbEntry] = field(default_factory=dict)
    osv: dict[tuple[str, str], list[_OsvRecord]] = field(default_factory=dict)
    feeds: list[tuple[str, datetime]] = field(default_factory=list)  # (what, when the data was updated)

    @classmethod
    def load(cls, *, shipped: bool = True, imported: Path | None = None) -> AdvisoryDatabase:
        """The shipped snapshot plus the feeds imported into ``imported`` (default: :func:`import_folder`)."""
        db = cls()
        if shipped:
            db.add_shipped()
        folder = imported if imported is not None else import_folder()
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                db.add_file(path)
        return db

    @property
    def updated_at(self) -> datetime | None:
        """When the newest feed's data was updated (ECR's ``vulnerabilitySourceUpdatedAt``)."""
        return max((when for _, when in self.feeds), default=None)

    # -- loading ----------------------------------------------------------------------------------
    def add_shipped(self) -> None:
        folder = resources.files("ecrlab") / "data" / "advisories"
        for branch in sorted((folder / "alpine").iterdir(), key=lambda t: t.name):
            for repo in sorted(branch.iterdir(), key=lambda t: t.name):
                self.add_secdb(json.loads(repo.read_text(encoding="utf-8")), PACK_SECDB_UPDATED_AT)
        records = []
        for package in sorted((folder / "pypi").iterdir(), key=lambda t: t.name):
            records += [_yaml(f) for f in sorted(package.iterdir(), key=lambda t: t.name) if f.name.endswith(".yaml")]
        self.add_osv(records, "shipped PyPI advisories")

    def add_file(self, path: Path) -> None:
        """Load an Alpine secdb JSON file or an OSV zip (see the module docstring)."""
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                records = [json.loads(archive.read(n)) for n in archive.namelist() if n.endswith(".json")]
            self.add_osv(records, f"OSV {path.name}")
            return
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LabError(f"{path} is neither an OSV zip nor an Alpine secdb JSON file: {exc}") from exc
        if not isinstance(doc, dict) or "packages" not in doc or "distroversion" not in doc:
            raise LabError(f"{path} is JSON but not an Alpine secdb file (no 'distroversion' and 'packages')")
        # secdb files carry no date: the download's own time is the best statement of their age.
        self.add_secdb(doc, datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc))

    def add_secdb(self, doc: dict[str, Any], updated_at: datetime) -> None:
        branch = doc["distroversion"]
        for item in doc.get("packages", []):
            pkg = item.get("pkg", {})
            fixes = [(version, list(ids)) for version, ids in (pkg.get("secfixes") or {}).items() if version != "0"]
            if not fixes:
                continue  # only "0": judged not to affect Alpine's package
            entry = self.secdb.setdefault((branch, pkg["name"]), _SecdbEntry([]))
            entry.fixes.extend(fixes)
            entry.parsed = None
        self.feeds.append((f"Alpine secdb {branch}/{doc.get('reponame', '?')}", updated_at))

    def add_osv(self, records: Iterable[dict[str, Any]], label: str) -> None:
        newest: datetime | None = None
        for raw in records:
            if raw.get("withdrawn"):
                continue
            aliases = tuple(raw.get("aliases") or ())
            cve = next((a for a in (raw["id"], *aliases) if a.startswith("CVE-")), None)
            metrics = tuple(
                Metric(
                    f"osv:{raw['id']}", "cvss3" if s["score"].startswith("CVSS:3") else "cvss2", s["score"], None, ""
                )
                for s in raw.get("severity") or ()
                if s.get("type") in ("CVSS_V3", "CVSS_V2")
            )
            advisory = Advisory(cve or raw["id"], raw["id"], aliases, raw.get("details", ""), _uri(raw["id"]), metrics)
            entries = []
            for affected in raw.get("affected") or ():
                package = affected.get("package") or {}
                name = package.get("name", "")
                ecosystem = package.get("ecosystem", "")
                entries.append(
                    _Affected(
                        ecosystem,
                        normalise_pypi_name(name) if ecosystem == "PyPI" else name,
                        tuple(affected.get("ranges") or ()),
                        frozenset(str(v) for v in affected.get("versions") or ()),
                    )
                )
            record = _OsvRecord(raw, advisory, entries)
            for key in {(entry.ecosystem, entry.name) for entry in entries}:
                self.osv.setdefault(key, []).append(record)
            modified = raw.get("modified")
            if modified:
                when = datetime.fromisoformat(str(modified).replace("Z", "+00:00"))
                when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
                newest = when if newest is None or when > newest else newest
        if newest is not None:
            self.feeds.append((label, newest))

    # -- matching ---------------------------------------------------------------------------------
    def matches(self, package: Package, system: OperatingSystem | None) -> list[Match]:
        """Every advisory ``package`` is affected by, in the feeds for its ecosystem."""
        out: list[Match] = []
        if package.ecosystem == "apk" and system is not None:
            out += self._secdb_matches(package, system.branch)
        for ecosystem, name in self._osv_keys(package, system):
            for record in self.osv.get((ecosystem, name), ()):
                fixed = self._osv_affects(record, ecosystem, name, package.version)
                if fixed is not False:
                    out.append(Match(package, record.advisory, fixed))
        return out

    def _secdb_matches(self, package: Package, branch: str) -> list[Match]:
        entry = self.secdb.get((branch, package.source))
        installed = _parse(AlpineLinuxVersion, package.version)
        if entry is None or installed is None:
            return []
        if entry.parsed is None:
            # Keys that are not well-formed apk versions (``1.9.5p2-r0``) cannot be ordered: skipped.
            parsed = [(v, text, ids) for text, ids in entry.fixes if (v := _parse(AlpineLinuxVersion, text))]
            entry.parsed = sorted(parsed, key=lambda fix: fix[0])
        # Fixes above the installed version are the ones it lacks (bisect_right: a fix equal to it is applied).
        first = bisect.bisect_right(entry.parsed, installed, key=lambda fix: fix[0])
        out = []
        for _, text, ids in entry.parsed[first:]:
            for raw_id in ids:
                vuln_id = _first_token(raw_id)
                out.append(Match(package, Advisory(vuln_id, vuln_id, (), "", _uri(vuln_id)), text))
        return out

    @staticmethod
    def _osv_keys(package: Package, system: OperatingSystem | None) -> list[tuple[str, str]]:
        if package.ecosystem == "pypi":
            return [("PyPI", normalise_pypi_name(package.name))]
        if system is None:
            return []
        if package.ecosystem == "apk":
            return [(f"Alpine:{system.branch}", package.source)]
        if package.ecosystem == "dpkg":
            base = "Ubuntu" if system.id == "ubuntu" else "Debian"
            return [(f"{base}:{system.version_id}", package.source)]
        return []

    @staticmethod
    def _osv_affects(record: _OsvRecord, ecosystem: str, name: str, version: str) -> str | None | bool:
        """False when not affected; else the fixed version of the matching range (None if it names none)."""
        cls = _version_class(ecosystem)
        installed = _parse(cls, version) if cls else None
        for affected in record.affected:
            if affected.ecosystem != ecosystem or affected.name != name:
                continue
            for rng in affected.ranges:
                if rng.get("type") not in ("ECOSYSTEM", "SEMVER") or installed is None or cls is None:
                    continue
                affected_now, fixed_text = False, None
                for event in rng.get("events") or ():
                    if "introduced" in event:
                        start = event["introduced"]
                        affected_now = start == "0" or ((v := _parse(cls, str(start))) is not None and installed >= v)
                    elif "fixed" in event and affected_now:
                        fixed = _parse(cls, str(event["fixed"]))
                        if fixed is not None and installed >= fixed:
                            affected_now = False
                        else:
                            fixed_text = str(event["fixed"])
                    elif "last_affected" in event and affected_now:
                        last = _parse(cls, str(event["last_affected"]))
                        if last is not None and installed > last:
                            affected_now = False
                    elif "limit" in event and affected_now:
                        limit = _parse(cls, str(event["limit"]))
                        if limit is not None and installed >= limit:
                            affected_now = False
                if affected_now:
                    return fixed_text
            if version in affected.versions:
                return None
        return False


def _yaml(file: Traversable) -> dict[str, Any]:
    return yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)


def import_folder() -> Path:
    """Where imported feeds live: ``$ECRLAB_ADVISORIES``, else ``~/.local/share/ecrlab/advisories``."""
    configured = os.environ.get("ECRLAB_ADVISORIES")
    return Path(configured) if configured else Path.home() / ".local" / "share" / "ecrlab" / "advisories"


def import_feed(path: str | os.PathLike[str], folder: Path | None = None) -> tuple[Path, list[tuple[str, datetime]]]:
    """Check that ``path`` loads as a feed, then copy it into the import folder; returns (copy, feeds)."""
    source = Path(path)
    if not source.is_file():
        raise LabError(f"{source} is not a file: give an Alpine secdb JSON file or an OSV zip")
    probe = AdvisoryDatabase()
    probe.add_file(source)
    target_dir = folder if folder is not None else import_folder()
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = source.name
    if not zipfile.is_zipfile(source):
        doc = json.loads(source.read_text(encoding="utf-8"))
        # Two branches' main.json must not overwrite each other.
        stem = f"alpine-{doc['distroversion']}-{doc.get('reponame', 'main')}.json"
    target = target_dir / stem
    shutil.copy2(source, target)
    return target, probe.feeds
