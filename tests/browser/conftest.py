"""A JupyterLab server over a temporary copy of the lessons, and headless Chromium driven by Playwright.

Chromium is the Debian package at /usr/bin/chromium, launched by Playwright (``executable_path``); the
browser tests skip without it, or without Playwright, except in CI where a skip is a failure (the rule
of ``require_tool`` in tests/conftest.py). Nothing is fetched from the internet: JupyterLab's news and
update checks are off, and the page may only talk to the loopback server.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: the browser tests are required in CI (.ci/run installs Chromium and Playwright)")
    pytest.skip(reason)


@dataclass
class JupyterServer:
    url: str
    token: str
    root: Path
    log: Path

    def lab_url(self, path: str) -> str:
        # `reset` starts from an empty workspace: no tabs left open by an earlier test
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright for Python is not installed (pip install playwright)")
    return path


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "ECRLAB_DETERMINISTIC": "1",
        # the kernel imports this checkout of ecrlab, installed or not
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # keep the learner's own JupyterLab settings and workspaces out of the test, and the test's out of theirs
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    _write_lab_settings(base / "settings")
    log = base / "jupyter.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    if os.geteuid() == 0:  # containers and CI runners often run as root
        command.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=base)
    server = JupyterServer(f"http://127.0.0.1:{port}", token, root, log)
    try:
        _wait_until_up(server, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


# JupyterLab user settings for the test: start the notebook's kernel without asking, attach every cell to
# the page (no virtual scrolling, so every output can be found), and never ask about or fetch news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_up(server: JupyterServer, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {timeout:.0f}s:\n{server.log.read_text()[-3000:]}")


@pytest.fixture
def page(chromium_path: str, jupyter_server: JupyterServer, tmp_path: Path, request: pytest.FixtureRequest):
    """A Chromium page that may only reach the test's JupyterLab server; screenshot on failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith(jupyter_server.url) else route.abort(),
        )
        context.set_default_timeout(60_000)
        pg = context.new_page()
        try:
            yield pg
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                shot = tmp_path / "failure.png"
                pg.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot}\nJupyterLab log: {jupyter_server.log}")
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # keep each phase's report on the item, so the page fixture knows whether the test failed
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
