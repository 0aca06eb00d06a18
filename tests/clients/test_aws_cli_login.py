"""The AWS CLI's get-login-password gives a password the sandbox's registry accepts."""

from __future__ import annotations

import base64
import json

import httpx


def test_get_login_password_opens_the_registry(lab):
    result = lab.aws("ecr get-login-password")
    assert result.ok, result.stderr
    password = result.stdout.strip()
    basic = base64.b64encode(f"AWS:{password}".encode()).decode()
    assert httpx.get(f"http://{lab.registry}/v2/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(f"AWS:{password[:-4]}xxxx".encode()).decode()
    refused = httpx.get(f"http://{lab.registry}/v2/", headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic ")


def test_get_authorization_token_through_the_cli(lab):
    result = lab.aws("ecr get-authorization-token --output json")
    assert result.ok, result.stderr
    (data,) = json.loads(result.stdout)["authorizationData"]
    assert data["proxyEndpoint"] == f"http://{lab.registry}"
    assert base64.b64decode(data["authorizationToken"]).decode().startswith("AWS:")
