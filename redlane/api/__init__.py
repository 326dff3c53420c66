"""The HTTP API (FastAPI; OpenAPI at /docs): a thin layer over the library, a router per
capability. Every route needs the bearer token of `REDLANE_API_TOKEN`; per-user accounts,
roles and the audit of personal-data reads come with the exchange's security layer.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from redlane.config import api_token
from redlane.store.database import Database

_bearer = HTTPBearer(auto_error=False)


def _authorised(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    expected: str = request.app.state.token
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is needed",
            headers={"WWW-Authenticate": "Bearer"},
        )


def create_app(db: Database, token: str | None = None) -> FastAPI:
    """The API over one store; the token defaults to REDLANE_API_TOKEN (required)."""
    from redlane.api.targeting import router as targeting_router

    app = FastAPI(
        title="redlane",
        description="Targeting and intelligence exchange for customs and police.",
        dependencies=[Depends(_authorised)],
    )
    app.state.db = db
    app.state.token = api_token(token)
    app.include_router(targeting_router)
    return app


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db
