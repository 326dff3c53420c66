"""Settings from the environment, with safe defaults; a wrong setting stops start-up loudly."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///var/redlane.db"
SUPPORTED_DRIVERS = ("sqlite", "postgresql", "postgresql+psycopg")


class ConfigError(ValueError):
    """A setting is wrong; the message names the setting and what is accepted."""


def database_url(value: str | None = None) -> URL:
    """Parse and check a database URL (default: REDLANE_DATABASE_URL, else ./var/redlane.db)."""
    raw = value if value is not None else os.environ.get("REDLANE_DATABASE_URL", "")
    raw = raw.strip() or DEFAULT_DATABASE_URL
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(f"REDLANE_DATABASE_URL={raw!r} is not a database URL: {exc}") from exc
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"REDLANE_DATABASE_URL uses {url.drivername!r}; redlane supports "
            f"{', '.join(SUPPORTED_DRIVERS)}"
        )
    if url.drivername.startswith("postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


NODE_KEY_SETTING = "REDLANE_NODE_KEY_FILE"


def node_key_path(value: str | None = None) -> str:
    """Where the node's Ed25519 signing key is (default: REDLANE_NODE_KEY_FILE). There is no
    default key: whatever signs the audit chain's head does not start without one."""
    raw = (value if value is not None else os.environ.get(NODE_KEY_SETTING, "")).strip()
    if not raw:
        raise ConfigError(
            f"{NODE_KEY_SETTING} is not set; it names the node's Ed25519 key file that signs "
            "the audit chain's head and the mailbox's messages (create one with `redlane audit "
            "keygen PATH`)"
        )
    return raw


MIN_TOKEN_LENGTH = 24


def api_token(value: str | None = None) -> str:
    """The API's bearer token (default: REDLANE_API_TOKEN). There is no default token: the
    API does not start without one, and a short one is refused."""
    raw = (value if value is not None else os.environ.get("REDLANE_API_TOKEN", "")).strip()
    if not raw:
        raise ConfigError(
            "REDLANE_API_TOKEN is not set; the API needs a bearer token "
            f'(at least {MIN_TOKEN_LENGTH} characters, e.g. from `python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"`)'
        )
    if len(raw) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"REDLANE_API_TOKEN is {len(raw)} characters; at least {MIN_TOKEN_LENGTH} are needed"
        )
    return raw


PASSENGER_DATA_SETTING = "REDLANE_PASSENGER_DATA"
_SWITCH = {"on": True, "off": False}


def passenger_data(value: str | None = None) -> bool:
    """Whether air passenger data (API/PNR: PAXLST, PNRGOV) may be read here (default:
    REDLANE_PASSENGER_DATA, else off).

    Collecting passenger data needs a legal basis (national law under Regulation (EU) 2025/12
    and 2025/13 for API, Directive (EU) 2016/681 for PNR); the operator switches it on once
    that basis exists, so it is off unless set.
    """
    raw = value if value is not None else os.environ.get(PASSENGER_DATA_SETTING, "")
    switch = _SWITCH.get(raw.strip().lower() or "off")
    if switch is None:
        raise ConfigError(
            f"{PASSENGER_DATA_SETTING}={raw!r} is not a switch; use on (a legal basis for "
            "passenger data exists) or off (the default)"
        )
    return switch


@dataclass(frozen=True)
class Settings:
    database_url: URL
    passenger_data: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database_url=database_url(), passenger_data=passenger_data())
