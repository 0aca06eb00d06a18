"""Peak memory of the lab while its registry receives one large layer (default 1 GiB).

The upload comes from a separate process (so only the lab's memory is measured) as one monolithic
``POST ?digest=`` with a Content-Length, then again as a chunked-transfer PATCH (no length, as skopeo
sends). The lab's resident memory is sampled every 10 ms; the figure is the peak growth over the
resident size just before the upload. Aim: under 64 MiB growth.

    python benchmarks/registry_memory.py            # 1 GiB
    python benchmarks/registry_memory.py --mib 256  # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import ecrlab

CLIENT = r"""
import hashlib, http.client, os, sys
host, port, repo, auth, mib, mode = sys.argv[1:7]
mib = int(mib)
block = os.urandom(1 << 20)
def body():
    for i in range(mib):
        yield block[:-8] + i.to_bytes(8, "big")  # every MiB distinct, nothing held in memory
digest = hashlib.sha256()
for chunk in body():
    digest.update(chunk)
digest = "sha256:" + digest.hexdigest()
conn = http.client.HTTPConnection(host, int(port), timeout=600)
headers = {"Authorization": "Basic " + auth, "Content-Type": "application/octet-stream"}
if mode == "monolithic":
    conn.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", body=body(),
                 headers={**headers, "Content-Length": str(mib << 20)})
    response = conn.getresponse(); response.read()
else:
    conn.request("POST", f"/v2/{repo}/blobs/uploads/", headers=headers)
    response = conn.getresponse(); response.read()
    location = response.getheader("Location")
    conn.request("PATCH", location, body=body(), headers=headers, encode_chunked=True)
    response = conn.getresponse(); response.read()
    location = response.getheader("Location")
    conn.request("PUT", f"{location}?digest={digest}", headers={**headers, "Content-Length": "0"})
    response = conn.getresponse(); response.read()
print(response.status)
"""


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(lab: ecrlab.Lab, auth: str, mib: int, mode: str) -> tuple[int, float, str]:
    host, port = lab.registry.split(":")
    baseline = rss_bytes()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, host, port, "bench/layer", auth, str(mib), mode],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return peak - baseline, elapsed, (result.stdout.strip() or result.stderr.strip()[-300:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="layer size in MiB (default 1024)")
    args = parser.parse_args()
    with ecrlab.start() as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="bench/layer")
        auth = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        measure(lab, auth, 8, "monolithic")  # warm up: imports, thread pool, first connection
        print(f"layer: {args.mib} MiB, lab RSS before: {rss_bytes() / 2**20:.1f} MiB")
        for mode in ("monolithic", "chunked"):
            growth, elapsed, status = measure(lab, auth, args.mib, mode)
            print(
                f"{mode:>10}: HTTP {status}  peak RSS growth {growth / 2**20:6.1f} MiB  "
                f"({args.mib / elapsed:6.1f} MiB/s including the client's own hashing)"
            )


if __name__ == "__main__":
    main()
