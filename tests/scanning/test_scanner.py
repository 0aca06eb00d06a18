"""The scanner against images built here, with expectations derived from the shipped data files."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import yaml
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from univers.versions import AlpineLinuxVersion, PypiVersion

from ecrlab import images
from ecrlab.images.oci import Blob
from ecrlab.scanning import AdvisoryDatabase, Scanner, SeverityTable, import_feed
from ecrlab.scanning.rootfs import read_rootfs

DATA = resources.files("ecrlab") / "data"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory) -> Scanner:
    # An empty import folder: only the shipped snapshot, whatever the machine has imported.
    return Scanner(AdvisoryDatabase.load(imported=tmp_path_factory.mktemp("none")))


def _stanzas(text: str) -> list[dict[str, str]]:
    return [{ln[0]: ln[2:] for ln in block.splitlines()} for block in text.strip().split("\n\n")]


def _secfixes(branch: str) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for repo in ("main", "community"):
        doc = json.loads((DATA / "advisories" / "alpine" / branch / f"{repo}.json").read_text())
        for item in doc["packages"]:
            out.setdefault(item["pkg"]["name"], {}).update(item["pkg"]["secfixes"])
    return out


def _expected_apk(installed: str, branch: str) -> set[tuple[str, str]]:
    """(binary package, id) for every secfixes key above the installed version of the package's origin."""
    fixes = _secfixes(branch)
    expected = set()
    for pkg in _stanzas(installed):
        for key, ids in fixes.get(pkg["o"], {}).items():
            if key == "0":
                continue
            if not AlpineLinuxVersion.is_valid(key):  # e.g. 1.9.5p2-r0: not orderable
                continue
            if AlpineLinuxVersion(pkg["V"]) < AlpineLinuxVersion(key):
                expected |= {(pkg["P"], i.split()[0]) for i in ids}
    return expected


def _found(result) -> set[tuple[str, str]]:
    return {(f.package.name, f.name) for f in result.findings}


@pytest.mark.parametrize("base", images.BASE_IMAGES)
def test_each_base_image_finds_what_the_secdb_says(scanner, base):
    version = base.split(":")[1]
    installed = (DATA / "base-images" / f"alpine-{version}.installed").read_text()
    result = scanner.scan(images.base_image(base).layers, enhanced=False)
    assert result.status == "COMPLETE"
    assert result.os is not None and result.os.id == "alpine" and result.os.version_id == version
    assert len(result.packages) == len(_stanzas(installed))
    assert _found(result) == _expected_apk(installed, "v" + ".".join(version.split(".")[:2]))
    assert sum(result.counts.values()) == len(result.findings)


def test_older_point_release_has_more_findings_than_newer(scanner):
    old = scanner.scan(images.base_image("alpine:3.18.0").layers, enhanced=False)
    new = scanner.scan(images.base_image("alpine:3.18.9").layers, enhanced=False)
    assert _found(new) < _found(old)


def test_a_later_layer_that_upgrades_packages_removes_their_findings(scanner):
    base = images.base_image("alpine:3.18.0")
    installed = (DATA / "base-images" / "alpine-3.18.0.installed").read_text()
    fixes = _secfixes("v3.18")["openssl"]
    newest = max((k for k in fixes if k != "0"), key=AlpineLinuxVersion)
    upgraded = installed
    for pkg in _stanzas(installed):
        if pkg["o"] == "openssl":
            upgraded = upgraded.replace(f"P:{pkg['P']}\nV:{pkg['V']}", f"P:{pkg['P']}\nV:{newest}")
    assert upgraded != installed
    image = images.ImageBuilder(base).copy_files({"/lib/apk/db/installed": upgraded.encode()}).build()
    before = scanner.scan(base.layers, enhanced=False)
    after = scanner.scan(image.layers, enhanced=False)
    assert any(f.package.source == "openssl" for f in before.findings)
    assert not any(f.package.source == "openssl" for f in after.findings)
    assert {f for f in _found(before) if not f[0].startswith("lib")} >= {
        f for f in _found(after) if not f[0].startswith("lib")
    }
    assert _found(after) == _expected_apk(upgraded, "v3.18")


@pytest.mark.parametrize("marker", ["/lib/apk/db/.wh.installed", "/lib/apk/db/.wh..wh..opq", "/lib/.wh.apk"])
def test_whiteouts_delete_the_package_database(scanner, marker):
    image = images.ImageBuilder(images.base_image("alpine:3.20.0")).copy_files({marker: b""}).build()
    result = scanner.scan(image.layers, enhanced=False)
    assert result.status == "UNSUPPORTED_IMAGE"
    assert result.findings == [] and result.packages == []


def test_an_opaque_directory_keeps_what_its_own_layer_writes(scanner):
    installed = (DATA / "base-images" / "alpine-3.18.9.installed").read_bytes()
    image = (
        images.ImageBuilder(images.base_image("alpine:3.18.0"))
        .copy_files({"/lib/apk/db/.wh..wh..opq": b"", "/lib/apk/db/installed": installed})
        .build()
    )
    result = scanner.scan(image.layers, enhanced=False)
    assert _found(result) == _expected_apk(installed.decode(), "v3.18")


def test_scratch_image_is_unsupported(scanner):
    image = images.ImageBuilder("scratch").copy_bytes(b"x", "/app/x").build()
    assert scanner.scan(image.layers, enhanced=False).status == "UNSUPPORTED_IMAGE"


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nlong description\n".encode()


def _osv(package: str) -> list[dict]:
    folder = DATA / "advisories" / "pypi" / package
    return [yaml.safe_load(f.read_text()) for f in folder.iterdir() if f.name.endswith(".yaml")]


def _expected_pypi(package: str, version: str) -> set[str]:
    """Ids (CVE alias when present) of the records whose ECOSYSTEM ranges or versions hold ``version``."""
    installed = PypiVersion(version)
    out = set()
    for record in _osv(package):
        if record.get("withdrawn"):
            continue
        hit = False
        for affected in record["affected"]:
            if version in [str(v) for v in affected.get("versions", [])]:
                hit = True
            for rng in affected.get("ranges", []):
                if rng["type"] != "ECOSYSTEM":
                    continue
                start = end = None
                for event in rng["events"]:
                    start = event.get("introduced", start)
                    end = event.get("fixed", end)
                    if end is not None:
                        low = start == "0" or installed >= PypiVersion(str(start))
                        if low and installed < PypiVersion(str(end)):
                            hit = True
                        start = end = None
                if start is not None and end is None and (start == "0" or installed >= PypiVersion(str(start))):
                    hit = True
        if hit:
            cve = [a for a in record.get("aliases", []) if a.startswith("CVE-")]
            out.add(cve[0] if cve else record["id"])
    return out


def test_python_distributions_only_enhanced_finds(scanner):
    image = (
        images.ImageBuilder(images.base_image("alpine:3.20.3"))
        .copy_files(
            {
                "/usr/lib/python3.12/site-packages/requests-2.30.0.dist-info/METADATA": _metadata("requests", "2.30.0"),
                "/usr/lib/python3.12/site-packages/PyYAML-5.3.egg-info/PKG-INFO": _metadata("PyYAML", "5.3"),
            }
        )
        .build()
    )
    basic = scanner.scan(image.layers, enhanced=False)
    enhanced = scanner.scan(image.layers, enhanced=True)
    assert not any(f.package.manager == "PYTHONPKG" for f in basic.findings)
    python = {(f.package.name, f.name) for f in enhanced.findings if f.package.manager == "PYTHONPKG"}
    expected = {("requests", i) for i in _expected_pypi("requests", "2.30.0")} | {
        ("PyYAML", i) for i in _expected_pypi("pyyaml", "5.3")
    }
    assert expected and python == expected
    assert _found(basic) <= _found(enhanced)


def test_severity_follows_the_vendor_word_then_cvss_then_undefined():
    table = SeverityTable.shipped()
    assert table.check() == []
    rows = [ln.split("\t") for ln in (DATA / "advisories" / "cve-metrics.tsv").read_text().splitlines()[1:]]
    vendor = next(r for r in rows if r[2] == "other")
    assert table.rate(vendor[0]).severity == {"moderate": "MEDIUM"}.get(vendor[5].lower(), vendor[5].upper())
    assert table.rate(vendor[0]).source == f"vendor ({vendor[1]})"
    nvd = [ln.split("\t") for ln in (DATA / "advisories" / "nvd-cvss.tsv").read_text().splitlines()[1:]]
    described = {r[0] for r in rows if r[1] != "-"} | {r[0] for r in nvd if r[2] != "-"}
    no_data = next(r[0] for r in rows if r[0] not in described)
    assert table.rate(no_data).severity == "UNDEFINED"
    v3_only = next(r for r in nvd if r[1].startswith("3") and r[0] not in {x[0] for x in rows if x[2] == "other"})
    assert table.rate(v3_only[0]).severity == v3_only[4]
    assert table.rate(v3_only[0]).cvss3[0] == float(v3_only[3])


def _raw_layer(files: dict[str, bytes], compress: str) -> Blob:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = raw.getvalue()
    if compress == "zstd":
        data = zstandard.ZstdCompressor().compress(data)
    return Blob("application/vnd.oci.image.layer.v1.tar" + ("+zstd" if compress == "zstd" else ""), data)


@pytest.mark.parametrize("compress", ["zstd", "none"])
def test_zstd_and_uncompressed_layers(scanner, compress):
    installed = (DATA / "base-images" / "alpine-3.20.0.installed").read_bytes()
    layer = _raw_layer({"etc/alpine-release": b"3.20.0\n", "lib/apk/db/installed": installed}, compress)
    result = scanner.scan([layer], enhanced=False)
    assert _found(result) == _expected_apk(installed.decode(), "v3.20")


def test_dpkg_status_is_read_with_source_packages():
    status = (
        b"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.11-1)\n"
        b"Version: 3.0.11-1~deb12u1\nDescription: x\n more\n\n"
        b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n"
    )
    layer = _raw_layer({"etc/os-release": b'ID=debian\nVERSION_ID="12"\n', "var/lib/dpkg/status": status}, "none")
    fs = read_rootfs([(layer.digest, layer.data)])
    from ecrlab.scanning.packages import detect_os, installed_packages

    assert detect_os(fs).branch == "12"
    (pkg,) = installed_packages(fs, languages=False)
    assert (pkg.name, pkg.source, pkg.version, pkg.manager) == ("libssl3", "openssl", "3.0.11-1~deb12u1", "OS")


def test_imported_feeds_secdb_branch_and_osv_zip(tmp_path):
    installed = (DATA / "base-images" / "alpine-3.20.0.installed").read_text()
    pkg = _stanzas(installed)[0]
    secdb = {
        "distroversion": "v3.99",
        "reponame": "main",
        "packages": [{"pkg": {"name": pkg["o"], "secfixes": {"999.0-r0": ["CVE-2099-0001"]}}}],
    }
    (tmp_path / "main.json").write_text(json.dumps(secdb))
    record = {
        "id": "DEBIAN-CVE-2099-0002",
        "aliases": ["CVE-2099-0002"],
        "modified": "2099-01-02T00:00:00Z",
        "affected": [
            {
                "package": {"name": "openssl", "ecosystem": "Debian:12"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}],
            }
        ],
    }
    with zipfile.ZipFile(tmp_path / "all.zip", "w") as archive:
        archive.writestr("DEBIAN-CVE-2099-0002.json", json.dumps(record))
    store = tmp_path / "imported"
    import_feed(tmp_path / "main.json", store)
    import_feed(tmp_path / "all.zip", store)
    db = AdvisoryDatabase.load(shipped=False, imported=store)
    scanner = Scanner(db)
    layer = _raw_layer({"etc/alpine-release": b"3.99.0\n", "lib/apk/db/installed": installed.encode()}, "none")
    found = scanner.scan([layer], enhanced=False).findings
    assert {(f.package.source, f.name) for f in found} == {(pkg["o"], "CVE-2099-0001")}
    deb = _raw_layer(
        {
            "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
            "var/lib/dpkg/status": b"Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u1\n"
            b"Status: install ok installed\n",
        },
        "none",
    )
    (finding,) = scanner.scan([deb], enhanced=False).findings
    assert (finding.name, finding.fixed_in, finding.severity) == ("CVE-2099-0002", "3.0.15-1~deb12u1", "UNDEFINED")
    assert db.updated_at.year == 2099


# Only the shipped snapshot: a folder that does not exist holds no imported feeds.
_SHARED = Scanner(AdvisoryDatabase.load(imported=Path(__file__).parent / "no-imported-feeds"))


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=14), max_size=15))
def test_removing_packages_never_adds_findings_and_rescans_agree(removed):
    scanner = _SHARED
    installed = (DATA / "base-images" / "alpine-3.18.0.installed").read_text()
    blocks = installed.strip().split("\n\n")
    kept = "\n\n".join(b for i, b in enumerate(blocks) if i not in removed) + "\n"
    base = images.base_image("alpine:3.18.0")
    image = images.ImageBuilder(base).copy_files({"/lib/apk/db/installed": kept.encode()}).build()
    before = _found(scanner.scan(base.layers, enhanced=False))
    after = scanner.scan(image.layers, enhanced=False)
    assert _found(after) <= before
    assert _found(scanner.scan(image.layers, enhanced=False)) == _found(after)


def test_cli_imports_a_feed(tmp_path, monkeypatch, capsys):
    from ecrlab.cli import main

    monkeypatch.setenv("ECRLAB_ADVISORIES", str(tmp_path / "store"))
    feed = {"distroversion": "v3.21", "reponame": "main", "packages": []}
    (tmp_path / "main.json").write_text(json.dumps(feed))
    assert main(["advisories", "import", str(tmp_path / "main.json")]) == 0
    assert "Alpine secdb v3.21/main" in capsys.readouterr().out
    assert (tmp_path / "store" / "alpine-v3.21-main.json").is_file()
    (tmp_path / "bad.json").write_text("[1]")
    assert main(["advisories", "import", str(tmp_path / "bad.json")]) == 2
    assert "not an Alpine secdb file" in capsys.readouterr().err
