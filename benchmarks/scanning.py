"""Scanning an image with 1,000 packages against a whole secdb branch plus thousands of OSV records.

Run: ``python benchmarks/scanning.py [--packages N] [--osv N] [--repeat N]``. Measures separately:

- feed load: the shipped Alpine v3.18 secdb (main + community, every origin of the branch) and N OSV
  PyPI records (the 230 shipped records, re-keyed under distinct package names until there are N: the
  same shapes and ranges as real records, so matching does real work; they are load, not advisories);
- one scan of an image whose apk database holds 1,000 packages (every origin in the branch, each at a
  version below its oldest fix, the rest as extra binary packages) plus one Python distribution per
  re-keyed OSV package, with enhanced scanning (OS and Python packages). Aim: under 0.5 s per scan.
There is no peer to compare with in one run: moto's scanning returns canned findings without reading layers.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from importlib import resources

import yaml

from ecrlab import images
from ecrlab.scanning import AdvisoryDatabase, Scanner
from ecrlab.scanning.advisories import PACK_SECDB_UPDATED_AT

DATA = resources.files("ecrlab") / "data" / "advisories"


def _osv_records(count: int) -> list[dict]:
    shipped = [
        yaml.safe_load(f.read_text())
        for package in sorted((DATA / "pypi").iterdir(), key=lambda t: t.name)
        for f in sorted(package.iterdir(), key=lambda t: t.name)
    ]
    records = []
    for i in range(count):
        record = copy.deepcopy(shipped[i % len(shipped)])
        for affected in record["affected"]:
            affected["package"]["name"] = f"{affected['package']['name']}-bench{i // len(shipped)}"
        record["id"] = f"{record['id']}-bench{i}"
        records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--osv", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    secdb = [json.loads((DATA / "alpine" / "v3.18" / f"{repo}.json").read_text()) for repo in ("main", "community")]
    records = _osv_records(args.osv)
    start = time.perf_counter()
    db = AdvisoryDatabase()
    for doc in secdb:
        db.add_secdb(doc, PACK_SECDB_UPDATED_AT)
    db.add_osv(records, "benchmark OSV")
    load = time.perf_counter() - start
    print(
        f"feed load: {load:.3f} s ({sum(len(d['packages']) for d in secdb)} secdb origins, {len(records)} OSV records)"
    )

    origins = [(item["pkg"]["name"], item["pkg"]["secfixes"]) for doc in secdb for item in doc["packages"]]
    stanzas = []
    for n in range(args.packages):
        origin, _ = origins[n % len(origins)]
        stanzas.append(f"P:{origin}-bin{n}\nV:0.0.1-r0\nA:x86_64\no:{origin}\n")
    dists = {
        f"/usr/lib/python3.11/site-packages/{name}-1.0.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
        )
        for name in sorted({r["affected"][0]["package"]["name"] for r in records})
    }
    image = (
        images.ImageBuilder(images.base_image("alpine:3.18.0"))
        .copy_files({"/lib/apk/db/installed": "\n".join(stanzas).encode()})
        .copy_files(dists)
        .build()
    )
    scanner = Scanner(db)
    times, findings = [], 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = scanner.scan(image.layers, enhanced=True)
        times.append(time.perf_counter() - start)
        findings = len(result.findings)
    print(
        f"scan: {len(result.packages)} packages, {findings} findings; "
        f"first {times[0]:.3f} s, median of {len(times)} {statistics.median(times):.3f} s, best {min(times):.3f} s"
    )


if __name__ == "__main__":
    main()
