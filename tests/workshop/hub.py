"""A workshop on this machine, driven the way attendees and an instructor use it, for the hub test and
benchmarks/workshop.py: start ``workshop/jupyterhub_config.py`` on free loopback ports, create attendees
and their tokens through the hub's REST API, start each attendee's server with the attendee's own token,
and run a lesson in a kernel of that server over Jupyter's kernel websocket protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nbformat
import psutil
import websocket

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "workshop" / "jupyterhub_config.py"
LESSON_01 = ROOT / "notebooks" / "01-repositories.ipynb"
INSTRUCTOR_PASSWORD = "an-instructor-password-of-32-chars-or-more"


@dataclass
class Hub:
    """A running hub: its public URL, an admin token (a hub service's), and the hub process."""

    url: str
    admin_token: str
    process: subprocess.Popen
    state: Path
    log: Path

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return httpx.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kwargs)

    def create_attendee(self, name: str) -> str:
        """Create the user and a token for them (as the hub's token page would); return the token."""
        self.api("POST", f"/users/{name}").raise_for_status()
        made = self.api("POST", f"/users/{name}/tokens", json={"note": "workshop attendee", "expires_in": 3600})
        made.raise_for_status()
        return made.json()["token"]

    def token_for(self, name: str, scopes: list[str]) -> str:
        made = self.api("POST", f"/users/{name}/tokens", json={"note": "test", "scopes": scopes, "expires_in": 3600})
        made.raise_for_status()
        return made.json()["token"]

    def start_server(self, name: str, token: str, timeout: float = 120) -> float:
        """Start ``name``'s server with their own token; return the seconds until the hub calls it ready."""
        started = time.monotonic()
        response = self.api("POST", f"/users/{name}/server", token=token)
        while response.status_code == 429 and time.monotonic() - started < timeout:
            # the hub's concurrent_spawn_limit: try again, as the hub's spawn page does
            time.sleep(2)
            response = self.api("POST", f"/users/{name}/server", token=token)
        if response.status_code not in (201, 202):
            raise AssertionError(f"starting {name}'s server: HTTP {response.status_code} {response.text}")
        while time.monotonic() - started < timeout:
            server = self.api("GET", f"/users/{name}", token=token).json()["servers"].get("")
            if server and server["ready"]:
                return time.monotonic() - started
            time.sleep(0.25)
        raise AssertionError(f"{name}'s server was not ready after {timeout}s; hub log: {self.log}")

    def server_pid(self, name: str) -> int:
        """The single-user server's process id, from the spawner's state (admin:server_state)."""
        return self.api("GET", f"/users/{name}").json()["servers"][""]["state"]["pid"]

    def server_url(self, name: str) -> str:
        return f"{self.url}/user/{name}/"

    def home(self, name: str) -> Path:
        return self.state / "homes" / name


@contextmanager
def running_hub(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[Hub]:
    """Start the workshop hub with its state under ``tmp``; stop it (and every server it started) on exit."""
    jupyterhub = shutil.which("jupyterhub", path=str(Path(sys.executable).parent)) or shutil.which("jupyterhub")
    if jupyterhub is None:
        raise FileNotFoundError("jupyterhub (pip install -e '.[workshop]')")
    port = free_port()
    token = secrets.token_hex(32)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # attendees' kernels import this checkout's ecrlab (PYTHONPATH is one of the variables spawners keep)
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "ECRLAB_HUB_URL": f"http://127.0.0.1:{port}",
        "ECRLAB_HUB_API_PORT": str(free_port()),
        "ECRLAB_PROXY_API_PORT": str(free_port()),
        "ECRLAB_WORKSHOP_DIR": str(tmp),
        "ECRLAB_HUB_ADMIN_TOKEN": token,
        "ECRLAB_WORKSHOP_PASSWORD": "room-password",
        "ECRLAB_INSTRUCTOR_PASSWORD": INSTRUCTOR_PASSWORD,
        **(extra_env or {}),
    }
    log = tmp / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [jupyterhub, "-f", str(CONFIG)], cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    hub = Hub(f"http://127.0.0.1:{port}", token, process, tmp, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the hub exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if hub.api("GET", "/").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the hub did not answer in 60s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield hub
    finally:
        # SIGTERM: the hub stops every server it spawned and its proxy before exiting
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class CellRun:
    """One executed code cell: its source, the shell reply's status, and its outputs (iopub messages)."""

    source: str
    status: str
    outputs: list[dict] = field(default_factory=list)

    def texts(self) -> list[str]:
        out = []
        for o in self.outputs:
            if o["msg_type"] == "stream":
                out.append(o["content"]["text"])
            elif o["msg_type"] in ("display_data", "execute_result"):
                out.append(o["content"]["data"].get("text/plain", ""))
            elif o["msg_type"] == "error":
                out.append(f"{o['content']['ename']}: {o['content']['evalue']}")
        return out


class RemoteKernel:
    """A kernel started in a single-user server through its REST API, driven over its websocket."""

    def __init__(self, server_url: str, token: str, timeout: float = 120):
        self.server_url, self.token, self.timeout = server_url, token, timeout
        self.headers = {"Authorization": f"token {token}"}
        made = httpx.post(f"{server_url}api/kernels", json={"name": "python3"}, headers=self.headers, timeout=60)
        made.raise_for_status()
        self.id = made.json()["id"]
        ws_url = server_url.replace("http://", "ws://", 1) + f"api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
        self.session = uuid.uuid4().hex

    def execute(self, code: str) -> CellRun:
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": self.session,
                        "username": "attendee",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        run = CellRun(code, status="")
        idle = False
        deadline = time.monotonic() + self.timeout
        while not (idle and run.status):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cell did not finish in {self.timeout}s:\n{code}")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                run.status = msg["content"]["status"]
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                run.outputs.append({"msg_type": kind, "content": msg["content"]})
        return run

    def shutdown(self) -> None:
        self.ws.close()
        httpx.delete(f"{self.server_url}api/kernels/{self.id}", headers=self.headers, timeout=60)


def lesson_cells(solve: set[str], notebook: Path = LESSON_01) -> list[str]:
    """Lesson 01's code cells as an attendee runs them, with the exercises in ``solve`` (``{"q1", "q3"}``)
    answered by pasting their published solution; the others are left as the lesson has them."""
    ex = importlib.import_module(f"ecrlab.exercises.lesson{notebook.name[:2]}")
    cells = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        asked = re.findall(r"^ex\.(q\d+)\.check\(", cell.source, re.MULTILINE)
        cells.append(getattr(ex, asked[0]).solution_code if asked and asked[0] in solve else cell.source)
    return cells


def memory_of(pid: int) -> tuple[int, int]:
    """RSS and USS in bytes of a process and all its descendants (a server, its kernels, what they run)."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    rss = uss = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss += info.rss
        uss += info.uss
    return rss, uss


def cpu_of(pid: int) -> float:
    """CPU-seconds used by a process and its descendants, including children that have exited (the AWS CLI
    runs of ``lab.aws``)."""
    total = 0.0
    for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class AttendeeRun:
    """One attendee's figures: server start and lesson wall times, memory after the lesson, CPU-seconds of
    their server and kernel (start and lesson), and each executed cell."""

    name: str
    start_seconds: float
    lesson_seconds: float
    rss: int
    uss: int
    cpu_seconds: float
    cells: list[CellRun]


def attend(hub: Hub, name: str, solve: set[str], keep_kernel: bool = False) -> AttendeeRun:
    """One attendee: log in (a token from the hub's API), start their server, run lesson 01 in it, measure."""
    token = hub.create_attendee(name)
    start_seconds = hub.start_server(name, token)
    kernel = RemoteKernel(hub.server_url(name), token)
    began = time.monotonic()
    try:
        cells = [kernel.execute(code) for code in lesson_cells(solve)]
        lesson_seconds = time.monotonic() - began
        pid = hub.server_pid(name)
        rss, uss = memory_of(pid)
        cpu_seconds = cpu_of(pid)
    finally:
        if not keep_kernel:
            kernel.shutdown()
    return AttendeeRun(name, start_seconds, lesson_seconds, rss, uss, cpu_seconds, cells)
