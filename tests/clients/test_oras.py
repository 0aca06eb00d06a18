"""oras-py pushes and pulls an artifact through the sandbox's registry with the ECR password."""

from __future__ import annotations

import base64
import pathlib

import oras.client
import pytest


@pytest.mark.parametrize("chunked", [False, True])
def test_oras_push_and_pull(lab, ecr, tmp_path, monkeypatch, chunked):
    monkeypatch.setenv("HOME", str(tmp_path))  # oras-py writes a docker config; keep the learner's alone
    ecr.create_repository(repositoryName="artifacts/notes")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().split(":", 1)[1]
    client = oras.client.OrasClient(hostname=lab.registry, insecure=True, auth_backend="basic")
    client.login(username="AWS", password=password, hostname=lab.registry, config_path=str(tmp_path / "config.json"))
    artifact = tmp_path / "notes.txt"
    artifact.write_bytes(b"release notes\n" * 5000)
    monkeypatch.chdir(tmp_path)
    target = f"{lab.registry}/artifacts/notes:v1"
    response = client.push(target=target, files=["notes.txt"], do_chunked=chunked, chunk_size=20_000)
    assert response.status_code == 201
    (detail,) = ecr.describe_images(repositoryName="artifacts/notes")["imageDetails"]
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == artifact.stat().st_size
    out = tmp_path / "out"
    files = client.pull(target=target, outdir=str(out))
    assert [pathlib.Path(f).read_bytes() for f in files] == [artifact.read_bytes()]


def test_oras_with_a_forged_password_is_refused(lab, ecr, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    ecr.create_repository(repositoryName="artifacts/notes")
    client = oras.client.OrasClient(hostname=lab.registry, insecure=True, auth_backend="basic")
    client.login(username="AWS", password="forged", hostname=lab.registry, config_path=str(tmp_path / "config.json"))
    (tmp_path / "a.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="UNAUTHORIZED"):
        client.push(target=f"{lab.registry}/artifacts/notes:v1", files=["a.txt"])
    assert ecr.describe_images(repositoryName="artifacts/notes")["imageDetails"] == []
