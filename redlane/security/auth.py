"""Authentication: password logins with rate limits, sessions, and API tokens.

Tokens and session keys are random (256 bits), shown once, and only their SHA-256 is stored;
a token has an expiry and can be revoked. Logins are limited per account and per source
address: after `account_failures` failed logins of one account (or `source_failures` from one
address) within `window`, further logins are refused until the window has passed, even with
the right password. Every login, refused login and logout is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from redlane.security import audit
from redlane.security.accounts import AccountError, Service, User, _user_id, user_by_id
from redlane.security.passwords import hash_password, needs_rehash, verify_password
from redlane.store.database import Database, utc
from redlane.store.schema import api_tokens, login_attempts, sessions, users

TOKEN_PREFIX = "rlt_"
SESSION_PREFIX = "rls_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=366)
DEFAULT_SESSION_LIFETIME = timedelta(hours=8)


class AuthenticationError(PermissionError):
    """Who is asking could not be established; the message says why (never which of user
    name or password was wrong)."""


class LoginLocked(AuthenticationError):
    """Too many failed logins: refused until `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class LoginLimits:
    account_failures: int = 5
    source_failures: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: `token` is shown this once and is not stored anywhere."""

    id: int
    username: str
    name: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def status(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or datetime.now(UTC)) else "valid"


@dataclass(frozen=True)
class Session:
    token: str
    user: User
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def _dummy_hash() -> str:
    return hash_password("redlane: no such account")


# --- API tokens --------------------------------------------------------------------------


def issue_token(
    db: Database,
    username: str,
    name: str = "api",
    valid_for: timedelta = DEFAULT_TOKEN_LIFETIME,
    *,
    now: datetime | None = None,
) -> IssuedToken:
    """A new API token for a user, valid for `valid_for` (at most a year)."""
    if not timedelta(0) < valid_for <= MAX_TOKEN_LIFETIME:
        raise AccountError(f"a token is valid for 1 second to {MAX_TOKEN_LIFETIME.days} days")
    moment = utc(now or datetime.now(UTC))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.engine.begin() as conn:
        user_id = _user_id(conn, username.strip().lower())
        token_id = conn.execute(
            insert(api_tokens)
            .values(
                user_id=user_id,
                name=name,
                token_hash=_digest(token),
                created_at=moment,
                expires_at=moment + valid_for,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
    return IssuedToken(int(token_id), username, name, token, moment + valid_for)


def list_tokens(db: Database, username: str) -> list[TokenInfo]:
    with db.engine.connect() as conn:
        user_id = _user_id(conn, username.strip().lower())
        rows = conn.execute(
            select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
        )
        return [
            TokenInfo(
                r.id,
                username,
                r.name,
                utc(r.created_at),
                utc(r.expires_at),
                utc(r.revoked_at) if r.revoked_at else None,
            )
            for r in rows
        ]


def revoke_token(db: Database, token_id: int, *, now: datetime | None = None) -> None:
    """Revoke a token at once (revoking twice keeps the first time)."""
    with db.engine.begin() as conn:
        found = conn.execute(select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first()
        if found is None:
            raise AccountError(f"token {token_id} does not exist")
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utc(now or datetime.now(UTC)))
        )


def authenticate_token(db: Database, token: str, *, now: datetime | None = None) -> User:
    """The user an API token belongs to; AuthenticationError when it is unknown, revoked or
    expired, or the account is disabled."""
    moment = utc(now or datetime.now(UTC))
    with db.engine.connect() as conn:
        row = conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == _digest(token))
        ).first()
        if row is None:
            raise AuthenticationError("unknown API token")
        if row.revoked_at is not None:
            raise AuthenticationError(f"API token {row.id} was revoked")
        if utc(row.expires_at) <= moment:
            raise AuthenticationError(
                f"API token {row.id} expired on {utc(row.expires_at):%Y-%m-%d %H:%M} UTC"
            )
        return _active(conn, row.user_id)


def _active(conn: Connection, user_id: int) -> User:
    user = user_by_id(conn, user_id)
    if not user.active:
        raise AuthenticationError(f"the account {user.username} is disabled")
    return user


# --- logins and sessions -----------------------------------------------------------------


def _failures(
    conn: Connection, column: ColumnElement[str], value: str, since: datetime
) -> list[datetime]:
    query = (
        select(login_attempts.c.at)
        .where(column == value, login_attempts.c.at > since)
        .where(login_attempts.c.success.is_(False))
        .order_by(login_attempts.c.at)
    )
    return [utc(at) for (at,) in conn.execute(query)]


def _locked_until(
    conn: Connection, username: str, source: str, moment: datetime, limits: LoginLimits
) -> tuple[str, datetime] | None:
    since = moment - limits.window
    last_success = conn.execute(
        select(func.max(login_attempts.c.at)).where(
            login_attempts.c.username == username, login_attempts.c.success.is_(True)
        )
    ).scalar()
    account_since = max(since, utc(last_success)) if last_success else since
    checks = (
        ("account", login_attempts.c.username, username, account_since, limits.account_failures),
        ("source", login_attempts.c.source, source, since, limits.source_failures),
    )
    for what, column, value, start, limit in checks:
        failed = _failures(conn, column, value, start)
        if len(failed) >= limit:
            # free again once all but limit - 1 of these failures have left the window
            return what, failed[len(failed) - limit] + limits.window
    return None


def login(
    db: Database,
    username: str,
    password: str,
    source: str,
    *,
    now: datetime | None = None,
    limits: LoginLimits = LoginLimits(),
    lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
) -> Session:
    """Check a password login from `source` (the client's address) and open a session.

    Refused with LoginLocked while the account or the source is over its limit of failed
    logins, and with AuthenticationError on a wrong user name or password (the same message
    for both, and the same time taken)."""
    moment = utc(now or datetime.now(UTC))
    # what a client sends is kept within the columns' bounds (a longer name exists nowhere)
    name, source = username.strip().lower()[:64], source[:255]
    with db.engine.begin() as conn:
        locked = _locked_until(conn, name, source, moment, limits)
        if locked is None:
            row = conn.execute(
                select(users.c.id, users.c.password_hash, users.c.active).where(
                    users.c.username == name
                )
            ).first()
            good = verify_password(row.password_hash if row else _dummy_hash(), password)
            good = good and row is not None and bool(row.active)
            conn.execute(
                insert(login_attempts).values(username=name, source=source, at=moment, success=good)
            )
    if locked is not None:
        what, until = locked
        audit.record(
            db,
            Service(name),
            audit.Action.LOGIN_REFUSED,
            "authentication",
            "user",
            name,
            {"source": source, "reason": f"{what} locked"},
            at=moment,
        )
        subject = f"account {name}" if what == "account" else f"address {source}"
        raise LoginLocked(
            f"too many failed logins for {subject}: locked until {until:%Y-%m-%d %H:%M:%S} UTC",
            until,
        )
    if not good or row is None:
        audit.record(
            db,
            Service(name),
            audit.Action.LOGIN_REFUSED,
            "authentication",
            "user",
            name,
            {"source": source, "reason": "bad credentials"},
            at=moment,
        )
        raise AuthenticationError("wrong user name or password")
    if needs_rehash(row.password_hash):
        with db.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(password_hash=hash_password(password))
            )
    return _open_session(db, int(row.id), source, moment, lifetime)


def _open_session(
    db: Database, user_id: int, source: str, moment: datetime, lifetime: timedelta
) -> Session:
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    with db.engine.begin() as conn:
        conn.execute(
            insert(sessions).values(
                user_id=user_id,
                token_hash=_digest(token),
                source=source,
                created_at=moment,
                expires_at=moment + lifetime,
            )
        )
        user = user_by_id(conn, user_id)
    audit.record(
        db,
        user,
        audit.Action.LOGIN,
        "authentication",
        "user",
        user.username,
        {"source": source},
        at=moment,
    )
    return Session(token, user, moment + lifetime)


def session_user(db: Database, token: str, *, now: datetime | None = None) -> User:
    """The user of an open session; AuthenticationError when it is unknown, ended or expired."""
    moment = utc(now or datetime.now(UTC))
    with db.engine.connect() as conn:
        row = conn.execute(select(sessions).where(sessions.c.token_hash == _digest(token))).first()
        if row is None or row.ended_at is not None:
            raise AuthenticationError("no such session; log in again")
        if utc(row.expires_at) <= moment:
            raise AuthenticationError("the session has expired; log in again")
        return _active(conn, row.user_id)


def logout(db: Database, token: str, *, now: datetime | None = None) -> None:
    """End a session (ending it twice is a no-op)."""
    moment = utc(now or datetime.now(UTC))
    with db.engine.begin() as conn:
        row = conn.execute(select(sessions).where(sessions.c.token_hash == _digest(token))).first()
        if row is None or row.ended_at is not None:
            return
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(ended_at=moment))
        user = user_by_id(conn, row.user_id)
    audit.record(db, user, audit.Action.LOGOUT, "authentication", "user", user.username, at=moment)
