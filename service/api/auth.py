"""Bearer-token guard for the admin endpoints (upload, delete, rebuild).

DAFU_ADMIN_TOKEN unset (or empty): the admin endpoints are off and answer 403 saying so.
Set: a request must send ``Authorization: Bearer <token>``; a missing or wrong token → 401.
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


def require_admin(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    token = request.app.state.settings.admin_token
    if token is None or not token.get_secret_value():
        raise HTTPException(403, DISABLED)
    expected = token.get_secret_value().encode("utf-8")
    if cred is None or cred.scheme.lower() != "bearer":
        raise HTTPException(401, "admin token missing: send the header 'Authorization: Bearer <DAFU_ADMIN_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(cred.credentials.encode("utf-8"), expected):
        raise HTTPException(401, "admin token is wrong: send 'Authorization: Bearer <DAFU_ADMIN_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})
