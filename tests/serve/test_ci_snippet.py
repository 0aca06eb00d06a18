"""docs/ci-service.md's CI steps, run as written (tests/serve/ci_snippet.sh): serve in the background, wait on
health, create a repository, log in with `aws ecr get-login-password | podman login`, build, push, copy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.serve.conftest import clean_env, free_port, podman_settings

pytestmark = pytest.mark.realclient

HERE = Path(__file__).resolve().parent
DOC = HERE.parent.parent / "docs" / "ci-service.md"


def test_the_ci_snippet_runs_as_documented(tmp_path):
    for tool in ("podman", "skopeo", "curl"):
        require_tool(tool)
    work = tmp_path / "job"
    work.mkdir()
    bin_dir = os.path.dirname(sys.executable)  # ecrlab and aws, as `pip install ecrlab` puts them on PATH
    env = {
        **clean_env(),
        **podman_settings(tmp_path, own_storage=True),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ECRLAB_PORT": str(free_port()),
        "ECRLAB_REGISTRY_PORT": str(port := free_port()),
    }
    done = subprocess.run(
        ["bash", str(HERE / "ci_snippet.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{(work / 'ecrlab.log').read_text()}"
    lines = done.stdout.split("\n")
    assert "123456789012.dkr.ecr.us-east-1.amazonaws.com/app" in lines
    assert "Login Succeeded!" in lines
    assert sorted(lines[-2].split()) == ["1", "copy"]  # both tags, listed by DescribeImages
    assert f'"registry": "127.0.0.1:{port}"' in (work / "ecrlab-health.json").read_text()


def test_the_documented_steps_are_the_scripts():
    """Each command of the script's start and use sections appears in both documented CI snippets."""
    script = (HERE / "ci_snippet.sh").read_text()
    body = script.split("# --- start", 1)[1].split("\n", 1)[1].split("# --- stop", 1)[0]
    commands = [
        line.strip()
        for line in body.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not re.match(r"(for|done|sleep)\b", line.strip())
    ]
    doc = DOC.read_text()
    github, gitlab = doc.split("## GitLab CI", 1)
    for command in commands:
        assert command in github, command
        assert command in gitlab, command
