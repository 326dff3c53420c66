"""The HTTP API (FastAPI; OpenAPI at /docs): a thin layer over the library, a router per
capability. Every route needs a bearer token: the node's `REDLANE_API_TOKEN` (a service
acting for the node) or a user's API token (`redlane user token`), whose roles then decide
what the user may do. Reads of personal data are audited with who asked and why (the
`X-Redlane-Purpose` header). Under /taxii2/ (the TAXII 2.1 server) the token may also be the
password of HTTP Basic, the scheme TAXII clients implement.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from redlane.config import api_token
from redlane.exchange.crypto import Kek
from redlane.security.accounts import Actor, Capability, Forbidden, Service, require
from redlane.security.auth import TOKEN_PREFIX, AuthenticationError, authenticate_token
from redlane.store.database import Database

_bearer = HTTPBearer(auto_error=False)
#: Where the TAXII 2.1 server answers (redlane.api.taxii).
TAXII_PREFIX = "/taxii2"


def _basic_password(request: Request) -> str:
    """The password of an HTTP Basic Authorization header, or "" when there is none."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _authorised(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    expected: str = request.app.state.token
    taxii = request.url.path.startswith(TAXII_PREFIX + "/")
    given = credentials.credentials if credentials else ""
    if not given and taxii:
        # TAXII clients implement HTTP Basic, the scheme TAXII mandates: the token is the
        # password (any user name)
        given = _basic_password(request)
    if hmac.compare_digest(given.encode(), expected.encode()):
        request.state.actor = Service("api")
        return
    if given.startswith(TOKEN_PREFIX):
        try:
            request.state.actor = authenticate_token(request.app.state.db, given)
            return
        except AuthenticationError:
            pass
    needed, challenge = "a valid bearer token is needed", "Bearer"
    if taxii:
        needed += ", or HTTP Basic with the token as the password"
        challenge += ', Basic realm="redlane TAXII"'
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, needed, headers={"WWW-Authenticate": challenge}
    )


def create_app(db: Database, token: str | None = None, kek: Kek | None = None) -> FastAPI:
    """The API over one store; the token defaults to REDLANE_API_TOKEN (required). The
    mailbox's key encryption key `kek` defaults to REDLANE_NODE_KEK_FILE, read at its first use
    (`redlane serve` reads it at start-up)."""
    from redlane.api.feedback import router as feedback_router
    from redlane.api.hits import router as hits_router
    from redlane.api.messages import router as messages_router
    from redlane.api.targeting import router as targeting_router
    from redlane.api.taxii import router as taxii_router
    from redlane.api.taxii import taxii_errors
    from redlane.api.watchlist import router as watchlist_router

    app = FastAPI(
        title="redlane",
        description="Targeting and intelligence exchange for customs and police.",
        dependencies=[Depends(_authorised)],
    )
    app.state.db = db
    app.state.token = api_token(token)
    app.state.kek = kek
    app.include_router(targeting_router)
    app.include_router(messages_router)
    # A path parameter never spans a '/', so /messages/{id} cannot shadow /messages/{id}/feedback
    # and /close; registered after the messages router, its literal routes (/threads/...) win.
    app.include_router(feedback_router)
    app.include_router(watchlist_router)
    app.include_router(hits_router)
    app.include_router(taxii_router)
    taxii_errors(app)
    return app


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def actor(request: Request) -> Actor:
    """Who is asking: the user of the token, or the node's service."""
    who: Actor = request.state.actor
    return who


def allowed(capability: Capability) -> Callable[[Request], None]:
    """A route dependency: 403 unless the token's user holds `capability`."""

    def check(request: Request) -> None:
        try:
            require(actor(request), capability)
        except Forbidden as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc

    return check
