"""`ecrlab serve` gives another process (the AWS CLI) a sandbox to talk to."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys


def test_serve_then_aws_cli_then_stop():
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecrlab.cli", "serve", "--deterministic"],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    try:
        exports = {}
        for line in proc.stdout:
            exports.update(re.findall(r"(AWS_[A-Z_]+)=(\S+)", line))
            if line.startswith("Ctrl-C"):
                break
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        env = {**os.environ, **exports, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        env.pop("AWS_PROFILE", None)
        aws = [sys.executable, "-m", "awscli"]
        made = subprocess.run(
            [*aws, "ecr", "create-repository", "--repository-name", "cli/one"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        listed = subprocess.run(
            [*aws, "ecr", "describe-repositories", "--query", "repositories[].repositoryName", "--output", "text"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert listed.stdout.split() == ["cli/one"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_doctor_reports_the_sandbox():
    out = subprocess.run([sys.executable, "-m", "ecrlab.cli", "doctor"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("sandbox: ok")
    assert "\nregistry: ok (pushed sha256:" in out.stdout
