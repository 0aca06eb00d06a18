"""A workshop on this machine: what one attendee costs, and how many a machine holds.

Runs what tests/workshop/test_hub.py runs: workshop/jupyterhub_config.py, N attendees who get a token
through the hub's REST API, start their own server and run lesson 01 in a kernel of it, K at a time.
For each attendee it measures the time from "start my server" to the hub calling it ready, the time
lesson 01 takes to run, and the memory of their server with its kernel after the lesson (RSS, and USS:
the memory that is theirs alone). It prints the figures, then the capacity arithmetic of
docs/workshops.md for a 2-core/8 GiB and a 16-core/64 GiB machine.

    python benchmarks/workshop.py [--attendees 10] [--at-once 3]

Needs jupyterhub (pip install -e '.[workshop]') and configurable-http-proxy (npm) on PATH.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.workshop.hub import AttendeeRun, attend, running_hub

MIB = 2**20
GIB = 2**30
# What a machine keeps for itself besides the attendees: the OS, the hub and its proxy (measured below).
SYSTEM_RESERVE = 1 * GIB
# A lesson is mostly reading and typing: over its 45 minutes an attendee's server and kernel use a few
# CPU-seconds (measured below). Counting cores at half their time keeps cells answering promptly when a room
# runs the same cell at once.
LESSON_SECONDS = 45 * 60
CPU_SHARE = 0.5


def capacity(cores: int, memory: int, per_attendee: int, hub_rss: int, cpu_seconds: float) -> tuple[int, int, int]:
    """(by memory, by CPU, the machine's capacity): attendees that fit in memory after the system's and the
    hub's share, and attendees whose lesson CPU-seconds fit in half the cores' time over a lesson."""
    by_memory = (memory - SYSTEM_RESERVE - hub_rss) // per_attendee
    by_cpu = int(cores * CPU_SHARE * LESSON_SECONDS / cpu_seconds)
    return by_memory, by_cpu, min(by_memory, by_cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=10)
    parser.add_argument("--at-once", type=int, default=3)
    args = parser.parse_args()
    names = [f"attendee-{n:02d}" for n in range(args.attendees)]
    cpu_before = psutil.cpu_times()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, running_hub(Path(tmp)) as hub:
        hub_up = time.monotonic() - began
        with ThreadPoolExecutor(max_workers=args.at_once) as pool:
            runs: list[AttendeeRun] = list(pool.map(lambda name: attend(hub, name, {"q1", "q2", "q4"}), names))
        # the hub's own processes (the hub and its proxy), not the attendees' servers it started
        servers = {hub.server_pid(name) for name in names}
        hub_process = psutil.Process(hub.process.pid)
        hub_rss = sum(
            p.memory_info().rss
            for p in [hub_process, *hub_process.children(recursive=True)]
            if p.pid not in servers and not any(a.pid in servers for a in p.parents())
        )
        failed = [r.name for r in runs if any(cell.status != "ok" for cell in r.cells)]
    elapsed = time.monotonic() - began
    busy = psutil.cpu_times()
    cpu_seconds = sum(getattr(busy, f) - getattr(cpu_before, f) for f in ("user", "system"))
    if failed:
        print(f"lesson 01 failed for {failed}")
        return 1

    def line(label: str, values: list[float], unit: str) -> None:
        print(
            f"  {label:<32} median {statistics.median(values):7.1f} {unit}   max {max(values):7.1f} {unit}   "
            f"min {min(values):7.1f} {unit}"
        )

    print(f"{args.attendees} attendees, {args.at_once} at a time, on {os.cpu_count()} cores")
    print(f"  hub up in {hub_up:.1f} s; whole run {elapsed:.0f} s; {cpu_seconds:.0f} CPU-seconds used by the machine")
    line("server start (POST to ready)", [r.start_seconds for r in runs], "s  ")
    line("lesson 01 (all cells)", [r.lesson_seconds for r in runs], "s  ")
    line("server + kernel RSS after 01", [r.rss / MIB for r in runs], "MiB")
    line("server + kernel USS after 01", [r.uss / MIB for r in runs], "MiB")
    print(f"  hub + proxy RSS                  {hub_rss / MIB:7.1f} MiB")
    line("server + kernel CPU (start + 01)", [r.cpu_seconds for r in runs], "s  ")
    per_attendee = max(r.rss for r in runs)
    cpu = max(r.cpu_seconds for r in runs)
    print(f"\ncapacity, counting the largest attendee ({per_attendee / MIB:.0f} MiB RSS, {cpu:.1f} CPU-s per lesson):")
    for cores, memory in ((2, 8 * GIB), (16, 64 * GIB)):
        by_memory, by_cpu, fits = capacity(cores, memory, per_attendee, hub_rss, cpu)
        print(
            f"  {cores:>2} cores / {memory // GIB:>2} GiB: memory ({memory // GIB} GiB - {SYSTEM_RESERVE // GIB} GiB"
            f" - {hub_rss / MIB:.0f} MiB) / {per_attendee / MIB:.0f} MiB = {by_memory};"
            f" CPU {cores} x {CPU_SHARE} x {LESSON_SECONDS} s / {cpu:.1f} s = {by_cpu}; capacity {fits} attendees"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
