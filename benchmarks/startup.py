"""Start-up: `ecrlab.start()` to the first ECR answer, against bare moto's first ECR answer.

Each side runs in a fresh interpreter (imports count: they are what a learner waits for), alternating,
several times; the script prints medians of the in-process time to first answer, the whole-process
wall time, and the peak resident memory, plus the ecrlab/moto ratios.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, resource, time
t0 = time.perf_counter()
{body}
t1 = time.perf_counter()
print(json.dumps({{"first_answer_s": t1 - t0, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

ECRLAB = """
import ecrlab
lab = ecrlab.start()
lab.client("ecr").describe_repositories()
"""

BARE_MOTO = """
import boto3
from moto import mock_aws
mock = mock_aws(); mock.start()
boto3.client("ecr", region_name="us-east-1").describe_repositories()
"""


def run(body: str) -> dict[str, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD.format(body=body)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    samples: dict[str, list[dict[str, float]]] = {"ecrlab": [], "bare moto": []}
    run(ECRLAB), run(BARE_MOTO)  # warm the file cache so neither side pays for the first read
    for _ in range(args.runs):
        samples["ecrlab"].append(run(ECRLAB))
        samples["bare moto"].append(run(BARE_MOTO))
    medians = {
        side: {key: statistics.median(s[key] for s in runs) for key in runs[0]} for side, runs in samples.items()
    }
    print(f"{'':10} {'first answer':>13} {'whole process':>14} {'peak RSS':>10}")
    for side, m in medians.items():
        print(f"{side:10} {m['first_answer_s']:12.3f}s {m['process_s']:13.3f}s {m['peak_rss_mib']:8.1f}MiB")
    lab, moto = medians["ecrlab"], medians["bare moto"]
    print(
        f"ratio      {lab['first_answer_s'] / moto['first_answer_s']:12.2f}x {lab['process_s'] / moto['process_s']:13.2f}x"
        f" {lab['peak_rss_mib'] / moto['peak_rss_mib']:9.2f}x   (median of {args.runs} runs each, Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
