"""Bearer-token guard for the admin endpoints (upload, delete, rebuild).

DAFU_ADMIN_TOKEN unset (or empty): the admin endpoints are off and answer 403 saying so.
Set: a request must send ``Authorization: Bearer <token>``; a missing or wrong token → 401, and each one
counts against DAFU_RATE_LIMIT_AUTH_FAILURES for that client: past it, every admin call from the client
answers 429 with Retry-After (even with the right token) until the window frees.
"""
from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

DISABLED = "admin endpoints are disabled: set DAFU_ADMIN_TOKEN to enable them"
_bearer = HTTPBearer(auto_error=False, description="the value of DAFU_ADMIN_TOKEN")


def admin_enabled(request: Request) -> bool:
    token = request.app.state.settings.admin_token
    return token is not None and bool(token.get_secret_value())


def _too_many_failures(wait: int) -> HTTPException:
    return HTTPException(429, f"too many wrong admin tokens from this client; try again in {wait} s",
                         headers={"Retry-After": str(wait)})


def require_admin(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    token = request.app.state.settings.admin_token
    if token is None or not token.get_secret_value():
        raise HTTPException(403, DISABLED)
    limits = getattr(request.app.state, "rate_limits", None)
    client = request.client.host if request.client else "unknown"
    if limits is not None and (wait := limits.blocked("auth_failures", client)) is not None:
        raise _too_many_failures(wait)
    expected = token.get_secret_value().encode("utf-8")
    if cred is None or cred.scheme.lower() != "bearer":
        problem = "admin token missing: send the header 'Authorization: Bearer <DAFU_ADMIN_TOKEN>'"
    elif not hmac.compare_digest(cred.credentials.encode("utf-8"), expected):
        problem = "admin token is wrong: send 'Authorization: Bearer <DAFU_ADMIN_TOKEN>'"
    else:
        return
    if limits is not None and (wait := limits.hit("auth_failures", client)) is not None:
        raise _too_many_failures(wait)
    raise HTTPException(401, problem, headers={"WWW-Authenticate": "Bearer"})
