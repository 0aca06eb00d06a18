"""GetAuthorizationToken, and checking the registry passwords it hands out.

The token is ``base64("AWS:" + password)``; the data plane receives it as HTTP Basic credentials.
A password is a random string the engine remembers with the principal that asked for it and its
expiry (12 hours later on the lab clock), so the registry acts as that principal and a forged or
expired password is refused. One token opens every registry the principal may use.

Passwords are secrets: they come from :mod:`secrets`, never from the engine's seeded generator, so
even a deterministic lab (same ids every run) hands out passwords nobody can predict.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import Principal
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import ExpiredTokenError, InvalidParameterException, TokenError

__all__ = ["PASSWORD_BYTES", "TOKEN_LIFETIME", "principal_for_password"]

TOKEN_LIFETIME = timedelta(hours=12)
# Real ECR passwords are about 2,000 to 2,700 characters (an encrypted, base64 token), long enough to
# break some credential stores; the sandbox's are as long (1,600 random bytes: 2,136 base64 characters) so
# a learner meets the same limits. They come from `secrets`, never from the seeded ids: tokens are secrets.
PASSWORD_BYTES = 1600


@operation("GetAuthorizationToken", resource="*")
def get_authorization_token(call: Call) -> dict[str, Any]:
    """The ECR login token.

    Deviation from real ECR, on purpose: ``proxyEndpoint`` is ``http://127.0.0.1:<port>``, the
    sandbox's own registry for that account and region, where real ECR answers
    ``https://<account>.dkr.ecr.<region>.amazonaws.com``; a client can log in and push to it as is.
    ``ecrlab serve --aws-hostnames`` serves that AWS host over TLS and answers it (``engine.proxy_endpoint``).
    """
    engine = call.engine
    endpoint = engine.registry_endpoint
    if endpoint is None:
        raise InvalidParameterException("The sandbox's registry is not running: start the lab with ecrlab.start()")
    password = base64.b64encode(secrets.token_bytes(PASSWORD_BYTES)).decode()
    expires_at = call.now() + TOKEN_LIFETIME
    now = call.now()
    with engine.lock:
        # Forget expired passwords as new ones are issued, so the table stays small in a long lab.
        for stale in [p for p, (_, at) in engine.tokens.items() if at <= now]:
            del engine.tokens[stale]
        engine.tokens[password] = (call.principal, expires_at)
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    registry_ids = call.params.get("registryIds") or [call.principal.account]
    return {
        "authorizationData": [
            {
                "authorizationToken": token,
                "expiresAt": expires_at,
                "proxyEndpoint": (
                    engine.proxy_endpoint(rid, call.region)
                    if engine.proxy_endpoint is not None
                    else f"http://{endpoint(rid, call.region)}"
                ),
            }
            for rid in registry_ids
        ]
    }


def principal_for_password(engine: Engine, password: str) -> Principal:
    """The principal a registry password was issued to; ExpiredTokenError past its expiry, TokenError
    for one never issued."""
    with engine.reading():
        entry = engine.tokens.get(password)
    if entry is None:
        raise TokenError("the authorization token is not one the sandbox issued")
    principal, expires_at = entry
    if engine.clock.now() >= expires_at:
        raise ExpiredTokenError(f"the authorization token expired at {expires_at.isoformat()}")
    return principal
