"""Who: agencies, their users and roles, and functional desks (addressees whose members are
users). Library functions over the store; the CLI and API call these."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

import pycountry
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from redlane.security.passwords import check_password, hash_password
from redlane.store.database import Database
from redlane.store.schema import agencies, desk_members, desks, user_roles, users

E = TypeVar("E", bound=StrEnum)


class AccountError(ValueError):
    """An account operation is refused; the message names what and why."""


class AgencyKind(StrEnum):
    CUSTOMS = "customs"
    POLICE = "police"
    BORDER_GUARD = "border_guard"
    COAST_GUARD = "coast_guard"
    PROSECUTOR = "prosecutor"
    EU_BODY = "eu_body"
    THIRD_COUNTRY_SERVICE = "third_country_service"


class Role(StrEnum):
    TARGETER = "targeter"
    OFFICER = "officer"
    INTELLIGENCE_OFFICER = "intelligence_officer"
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"


class Capability(StrEnum):
    """What a role lets a user do (capabilities; which data they may see is decided apart)."""

    READ_WORKLIST = "read_worklist"
    RECORD_RESULTS = "record_results"
    MANAGE_PROFILES = "manage_profiles"
    APPROVE_PROFILES = "approve_profiles"
    READ_MESSAGES = "read_messages"
    SEND_MESSAGES = "send_messages"
    EXPORT_MESSAGES = "export_messages"
    RELEASE_MESSAGES = "release_messages"
    COORDINATE_OPERATIONS = "coordinate_operations"
    MANAGE_ACCOUNTS = "manage_accounts"
    READ_AUDIT = "read_audit"
    #: see messages restricted by retention, to check their accuracy and lawfulness, and decide
    REVIEW_RESTRICTED = "review_restricted"


#: Administrators manage accounts and read the audit log but see no operational data
#: (separation of duties); supervisors approve and release what others draft.
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.TARGETER: frozenset(
        {
            Capability.READ_WORKLIST,
            Capability.MANAGE_PROFILES,
            Capability.RECORD_RESULTS,
            Capability.READ_MESSAGES,
        }
    ),
    Role.OFFICER: frozenset(
        {Capability.READ_WORKLIST, Capability.RECORD_RESULTS, Capability.READ_MESSAGES}
    ),
    Role.INTELLIGENCE_OFFICER: frozenset(
        {Capability.READ_MESSAGES, Capability.SEND_MESSAGES, Capability.EXPORT_MESSAGES}
    ),
    Role.COORDINATOR: frozenset(
        {
            Capability.READ_MESSAGES,
            Capability.SEND_MESSAGES,
            Capability.EXPORT_MESSAGES,
            Capability.COORDINATE_OPERATIONS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Capability.READ_WORKLIST,
            Capability.APPROVE_PROFILES,
            Capability.READ_MESSAGES,
            Capability.SEND_MESSAGES,
            Capability.EXPORT_MESSAGES,
            Capability.RELEASE_MESSAGES,
            Capability.READ_AUDIT,
            Capability.REVIEW_RESTRICTED,
        }
    ),
    Role.ADMINISTRATOR: frozenset({Capability.MANAGE_ACCOUNTS, Capability.READ_AUDIT}),
}


class Forbidden(PermissionError):
    """The user's roles do not give the capability an operation needs."""


class Actor(Protocol):
    """Whoever acts: a user, or a service (a process acting for the node)."""

    @property
    def username(self) -> str: ...

    @property
    def agency(self) -> str | None: ...

    def can(self, capability: Capability) -> bool: ...


@dataclass(frozen=True)
class Service:
    """A process acting for the node without a person behind it (the shared API token, the
    command line run by the operator). Holds every capability; its actions are audited."""

    username: str
    agency: str | None = None

    def can(self, capability: Capability) -> bool:
        return True


@dataclass(frozen=True)
class Agency:
    id: int
    code: str
    name: str
    kind: AgencyKind
    country: str


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    agency: str
    roles: frozenset[Role]
    active: bool
    desks: frozenset[str] = frozenset()

    def can(self, capability: Capability) -> bool:
        return self.active and any(capability in ROLE_CAPABILITIES[r] for r in self.roles)


@dataclass(frozen=True)
class Desk:
    id: int
    code: str
    name: str
    agency: str
    place: str | None
    members: tuple[str, ...]


def require(actor: Actor, capability: Capability) -> None:
    """Raise Forbidden unless `actor` holds `capability`."""
    if not actor.can(capability):
        granting = [r.value for r, held in ROLE_CAPABILITIES.items() if capability in held]
        raise Forbidden(
            f"{actor.username} may not {capability.value}: that needs the role "
            f"{' or '.join(granting)}"
        )


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _code(value: str, what: str) -> str:
    code = value.strip().upper()
    if not _CODE.match(code):
        raise AccountError(
            f"{what} code {value!r}: 2 to 32 letters, digits, '-', '_' or '.', e.g. NL-FIOD"
        )
    return code


def _choice(enum: type[E], value: str, what: str) -> E:
    try:
        return enum(value.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        raise AccountError(
            f"{what} {value!r} is not one of {', '.join(e.value for e in enum)}"
        ) from None


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise AccountError(f"country {value!r} is not an ISO 3166-1 alpha-2 code (e.g. NL, CO)")
    return code


def _agency_id(conn: Connection, code: str) -> int:
    found = conn.execute(select(agencies.c.id).where(agencies.c.code == _code(code, "agency")))
    agency_id = found.scalar()
    if agency_id is None:
        raise AccountError(f"agency {code!r} does not exist (see `redlane agency list`)")
    return int(agency_id)


def _user_id(conn: Connection, username: str) -> int:
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise AccountError(f"user {username!r} does not exist (see `redlane user list`)")
    return int(user_id)


# --- agencies ----------------------------------------------------------------------------


def add_agency(db: Database, code: str, name: str, kind: str, country: str) -> Agency:
    """Register an agency: a code (e.g. NL-FIOD), its name, kind and ISO country."""
    values = {
        "code": _code(code, "agency"),
        "name": name.strip(),
        "kind": _choice(AgencyKind, kind, "agency kind").value,
        "country": _country(country),
        "created_at": _now(),
    }
    if not values["name"]:
        raise AccountError("the agency needs a name")
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(agencies).values(values))
    except IntegrityError:
        raise AccountError(f"agency {values['code']} exists already") from None
    return get_agency(db, str(values["code"]))


def _agency(row: object) -> Agency:
    r = row._mapping  # type: ignore[attr-defined]
    return Agency(r["id"], r["code"], r["name"], AgencyKind(r["kind"]), r["country"])


def get_agency(db: Database, code: str) -> Agency:
    with db.engine.connect() as conn:
        row = conn.execute(select(agencies).where(agencies.c.code == _code(code, "agency"))).first()
    if row is None:
        raise AccountError(f"agency {code!r} does not exist (see `redlane agency list`)")
    return _agency(row)


def list_agencies(db: Database) -> list[Agency]:
    with db.engine.connect() as conn:
        return [_agency(r) for r in conn.execute(select(agencies).order_by(agencies.c.code))]


# --- users -------------------------------------------------------------------------------


def _username(value: str) -> str:
    name = value.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            f"user name {value!r}: 2 to 64 lower-case letters, digits, '.', '_', '-' or '@'"
        )
    return name


def _roles(values: Iterable[str | Role]) -> frozenset[Role]:
    roles = frozenset(_choice(Role, str(v), "role") for v in values)
    if not roles:
        raise AccountError(f"a user needs at least one role: {', '.join(r.value for r in Role)}")
    return roles


def add_user(
    db: Database,
    username: str,
    agency: str,
    password: str,
    roles: Iterable[str | Role],
    display_name: str | None = None,
) -> User:
    """Create a local account in `agency` with an argon2id-hashed password and its roles."""
    name = _username(username)
    chosen = _roles(roles)
    check_password(password, name)
    now = _now()
    try:
        with db.engine.begin() as conn:
            user_id = conn.execute(
                insert(users)
                .values(
                    username=name,
                    display_name=(display_name or name).strip(),
                    agency_id=_agency_id(conn, agency),
                    password_hash=hash_password(password),
                    active=True,
                    created_at=now,
                    password_changed_at=now,
                )
                .returning(users.c.id)
            ).scalar_one()
            conn.execute(insert(user_roles), [{"user_id": user_id, "role": r} for r in chosen])
    except IntegrityError:
        raise AccountError(f"user {name} exists already") from None
    return get_user(db, name)


def _load_users(conn: Connection, where: object = None) -> list[User]:
    query = select(users, agencies.c.code).join(agencies, agencies.c.id == users.c.agency_id)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    rows = list(conn.execute(query.order_by(users.c.username)))
    ids = [r.id for r in rows]
    roles: dict[int, set[Role]] = {i: set() for i in ids}
    in_desks: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for user_id, role in conn.execute(
            select(user_roles.c.user_id, user_roles.c.role).where(user_roles.c.user_id.in_(ids))
        ):
            roles[user_id].add(Role(role))
        for user_id, code in conn.execute(
            select(desk_members.c.user_id, desks.c.code)
            .join(desks, desks.c.id == desk_members.c.desk_id)
            .where(desk_members.c.user_id.in_(ids))
        ):
            in_desks[user_id].add(code)
    return [
        User(
            r.id,
            r.username,
            r.display_name,
            r.code,
            frozenset(roles[r.id]),
            bool(r.active),
            frozenset(in_desks[r.id]),
        )
        for r in rows
    ]


def get_user(db: Database, username: str) -> User:
    with db.engine.connect() as conn:
        found = _load_users(conn, users.c.username == username.strip().lower())
    if not found:
        raise AccountError(f"user {username!r} does not exist (see `redlane user list`)")
    return found[0]


def user_by_id(conn: Connection, user_id: int) -> User:
    (user,) = _load_users(conn, users.c.id == user_id)
    return user


def list_users(db: Database, agency: str | None = None) -> list[User]:
    with db.engine.connect() as conn:
        where = agencies.c.code == _code(agency, "agency") if agency else None
        return _load_users(conn, where)


def set_password(db: Database, username: str, password: str) -> User:
    """Replace a user's password (argon2id)."""
    name = username.strip().lower()
    check_password(password, name)
    with db.engine.begin() as conn:
        user_id = _user_id(conn, name)
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=hash_password(password), password_changed_at=_now())
        )
    return get_user(db, name)


def set_roles(db: Database, username: str, roles: Iterable[str | Role]) -> User:
    """Replace a user's roles."""
    chosen = _roles(roles)
    with db.engine.begin() as conn:
        user_id = _user_id(conn, username.strip().lower())
        conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
        conn.execute(insert(user_roles), [{"user_id": user_id, "role": r} for r in chosen])
    return get_user(db, username)


def set_active(db: Database, username: str, active: bool) -> User:
    """Disable (or enable again) an account: a disabled user can neither log in nor use a
    token or session."""
    with db.engine.begin() as conn:
        user_id = _user_id(conn, username.strip().lower())
        conn.execute(update(users).where(users.c.id == user_id).values(active=active))
    return get_user(db, username)


# --- desks -------------------------------------------------------------------------------


def add_desk(db: Database, code: str, name: str, agency: str, place: str | None = None) -> Desk:
    """A functional addressee of an agency (e.g. the targeting centre of a port); `place` is
    its UN/LOCODE."""
    from redlane.reference import places

    if place is not None:
        place = place.strip().upper()
        if place not in places():
            raise AccountError(f"place {place!r} is not a known UN/LOCODE (e.g. NLRTM)")
    values = {"code": _code(code, "desk"), "name": name.strip(), "place": place}
    if not values["name"]:
        raise AccountError("the desk needs a name")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                insert(desks).values(
                    **values, agency_id=_agency_id(conn, agency), created_at=_now()
                )
            )
    except IntegrityError:
        raise AccountError(f"desk {values['code']} exists already") from None
    return get_desk(db, str(values["code"]))


def add_desk_member(db: Database, desk: str, username: str) -> Desk:
    """Make a user a member of a desk of their own agency (adding twice is a no-op)."""
    code = _code(desk, "desk")
    with db.engine.begin() as conn:
        row = conn.execute(
            select(desks.c.id, desks.c.agency_id).where(desks.c.code == code)
        ).first()
        if row is None:
            raise AccountError(f"desk {desk!r} does not exist (see `redlane desk list`)")
        user = conn.execute(
            select(users.c.id, users.c.agency_id).where(users.c.username == username.lower())
        ).first()
        if user is None:
            raise AccountError(f"user {username!r} does not exist (see `redlane user list`)")
        if user.agency_id != row.agency_id:
            raise AccountError(f"user {username} belongs to another agency than desk {code}")
        known = conn.execute(
            select(desk_members.c.user_id).where(
                desk_members.c.desk_id == row.id, desk_members.c.user_id == user.id
            )
        ).first()
        if known is None:
            conn.execute(insert(desk_members).values(desk_id=row.id, user_id=user.id))
    return get_desk(db, code)


def remove_desk_member(db: Database, desk: str, username: str) -> Desk:
    code = _code(desk, "desk")
    with db.engine.begin() as conn:
        desk_id = conn.execute(select(desks.c.id).where(desks.c.code == code)).scalar()
        if desk_id is None:
            raise AccountError(f"desk {desk!r} does not exist (see `redlane desk list`)")
        conn.execute(
            delete(desk_members).where(
                desk_members.c.desk_id == desk_id,
                desk_members.c.user_id == _user_id(conn, username.lower()),
            )
        )
    return get_desk(db, code)


def _desks(conn: Connection, where: object = None) -> list[Desk]:
    query = select(desks, agencies.c.code.label("agency")).join(
        agencies, agencies.c.id == desks.c.agency_id
    )
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    rows = list(conn.execute(query.order_by(desks.c.code)))
    members: dict[int, list[str]] = {r.id: [] for r in rows}
    if rows:
        for desk_id, name in conn.execute(
            select(desk_members.c.desk_id, users.c.username)
            .join(users, users.c.id == desk_members.c.user_id)
            .where(desk_members.c.desk_id.in_(list(members)))
            .order_by(users.c.username)
        ):
            members[desk_id].append(name)
    return [Desk(r.id, r.code, r.name, r.agency, r.place, tuple(members[r.id])) for r in rows]


def get_desk(db: Database, code: str) -> Desk:
    with db.engine.connect() as conn:
        found = _desks(conn, desks.c.code == _code(code, "desk"))
    if not found:
        raise AccountError(f"desk {code!r} does not exist (see `redlane desk list`)")
    return found[0]


def list_desks(db: Database, agency: str | None = None) -> list[Desk]:
    with db.engine.connect() as conn:
        return _desks(conn, agencies.c.code == _code(agency, "agency") if agency else None)
