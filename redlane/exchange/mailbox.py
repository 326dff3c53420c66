"""The secure mailbox: send, list, read, search, forward, reply, export, receipts, overdue.

Need-to-know is enforced in the queries themselves: a user sees a message only when their
agency sent it, their agency or a desk they are a member of is an addressee, or it was
delivered to one of those by a permitted forward; and only while their roles hold
`read_messages` (administrators do not read operational data). Every query that returns a
message carries that condition in its WHERE clause, so a message the user may not see cannot
come back from it: it answers `NotFound`, exactly as a message that does not exist.

Bodies and subjects are sealed with a key per message (`redlane.exchange.crypto`); reads,
searches, forwards and exports are audited with user and purpose (`redlane.security.audit`).
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Connection,
    delete,
    exists,
    func,
    insert,
    select,
    union_all,
)

from redlane.config import ConfigError
from redlane.exchange import signing
from redlane.exchange.access import (
    MESSAGE_ID,
    NOT_FOUND,
    Erased,
    NotFound,
    Reader,
    Refused,
    reader,
    refuse_restricted,
    require_visible,
    restricted,
    unrestricted,
    visible,
    visible_row,
)
from redlane.exchange.crypto import (
    KEK_SETTING,
    DecryptionError,
    Kek,
    load_kek,
    new_data_key,
    open_sealed,
    part_data,
    seal,
)
from redlane.exchange.handling import Decision, export_decision, forward_decision
from redlane.exchange.model import EntityKind, Handling, Message, MessageKind, Tlp
from redlane.exchange.schedule import REVIEW_MONTHS, add_months, needs_review
from redlane.exchange.watchlist import entries_from, entry_row
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, Forbidden, require
from redlane.security.keys import NodeKey, load_node_key
from redlane.store.database import Database, insert_unless_present, utc
from redlane.store.schema import (
    agencies,
    deliveries,
    desks,
    forwards,
    message_attachments,
    message_entities,
    message_keys,
    messages,
    node_keys,
    receipts,
    retention,
    routes,
    users,
    watchlist,
)

OBJECT_KIND = "message"
INBOX_PURPOSE = "inbox listing"
MAX_LIMIT = 500
#: Identifiers of conveyances, containers and businesses are indexed as they are (normalised);
#: the others name or locate people and are indexed as keyed hashes (see crypto.Kek.blind).
CLEAR_KINDS = frozenset(
    {EntityKind.VESSEL, EntityKind.AIRCRAFT, EntityKind.CONTAINER, EntityKind.COMPANY}
)
Box = Literal["received", "sent", "all"]
ATTACHMENT_SETTING = "REDLANE_ATTACHMENT_MAX_BYTES"
#: 20 MiB: what a scanned document or a few photographs take, far below what a row can hold
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class MailboxError(ValueError):
    """Bad input to the mailbox; the message names the field and the reason."""


class Tampered(RuntimeError):
    """A stored message no longer matches its signature: changed in the store after it was
    sent. The mailbox will not show or pass it on; `verify` lists them all."""

    def __init__(self, message_id: str, why: str) -> None:
        super().__init__(f"message {message_id}: {why}")
        self.message_id = message_id


# --- addresses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    address: str
    agency_id: int
    desk_id: int | None
    label: str
    """`agency:CODE` or `desk:CODE`."""


@dataclass
class _Names:
    agency: dict[int, str]
    country: dict[int, str]
    desk: dict[int, tuple[str, int]]

    def label(self, address: str) -> str:
        number = int(address[1:])
        if address[0] == "a":
            return f"agency:{self.agency[number]}"
        return f"desk:{self.desk[number][0]}"


def _names(conn: Connection) -> _Names:
    found = _Names({}, {}, {})
    for agency_id, code, country in conn.execute(
        select(agencies.c.id, agencies.c.code, agencies.c.country)
    ):
        found.agency[agency_id] = code
        found.country[agency_id] = country
    for desk_id, code, agency_id in conn.execute(
        select(desks.c.id, desks.c.code, desks.c.agency_id)
    ):
        found.desk[desk_id] = (code, agency_id)
    return found


def _resolve(conn: Connection, wanted: Iterable[str], what: str = "to") -> list[Address]:
    """Addresses from `agency:CODE`, `desk:CODE` or a bare code (an agency, else a desk)."""
    names = _names(conn)
    agency_ids = {code: i for i, code in names.agency.items()}
    desk_ids = {code: (i, a) for i, (code, a) in names.desk.items()}
    found: dict[str, Address] = {}
    for raw in wanted:
        text = raw.strip()
        prefix, _, code = text.rpartition(":")
        code = code.strip().upper()
        prefix = prefix.strip().lower()
        if prefix not in ("", "agency", "desk"):
            raise MailboxError(f"{what}: {raw!r} is not an agency or desk code (agency:CODE)")
        is_agency = prefix in ("", "agency") and code in agency_ids
        is_desk = prefix in ("", "desk") and code in desk_ids
        if is_agency and is_desk:
            raise MailboxError(
                f"{what}: {code} is both an agency and a desk; write agency:{code} or desk:{code}"
            )
        if is_agency:
            address = Address(f"a{agency_ids[code]}", agency_ids[code], None, f"agency:{code}")
        elif is_desk:
            desk_id, agency_id = desk_ids[code]
            address = Address(f"d{desk_id}", agency_id, desk_id, f"desk:{code}")
        else:
            raise MailboxError(
                f"{what}: no agency or desk {raw!r} (see `redlane agency list`, "
                "`redlane desk list`)"
            )
        found.setdefault(address.address, address)
    return list(found.values())


def add_route(db: Database, place: str, to: str) -> str:
    """Mode notices for a conveyance next at `place` (UN/LOCODE) go to `to` (an agency or
    desk) as well as to their explicit addressees. Returns the route's label."""
    from redlane.reference import places

    code = place.strip().upper()
    if code not in places():
        raise MailboxError(f"place: {place!r} is not a known UN/LOCODE (e.g. NLRTM)")
    with db.engine.begin() as conn:
        (address,) = _resolve(conn, [to])
        known = conn.execute(
            select(routes).where(routes.c.place == code, routes.c.address == address.address)
        ).first()
        if known is None:
            conn.execute(insert(routes).values(place=code, address=address.address))
    return f"{code} -> {address.label}"


def remove_route(db: Database, place: str, to: str) -> None:
    with db.engine.begin() as conn:
        (address,) = _resolve(conn, [to])
        conn.execute(
            delete(routes).where(
                routes.c.place == place.strip().upper(), routes.c.address == address.address
            )
        )


def list_routes(db: Database) -> list[tuple[str, str]]:
    """(place, addressee) pairs, by place."""
    with db.engine.connect() as conn:
        names = _names(conn)
        rows = conn.execute(select(routes).order_by(routes.c.place, routes.c.address))
        return [(r.place, names.label(r.address)) for r in rows]


# --- what comes back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """What a listing shows of a message: its headers and subject, never its body."""

    id: str
    kind: MessageKind
    sender: str
    sender_desk: str | None
    sent_at: datetime
    thread_id: str
    in_reply_to: str | None
    operation: str | None
    grading: str
    handling: Handling
    subject: str
    due_at: datetime | None = None
    valid_until: date | None = None
    delivered_at: datetime | None = None
    """When it reached the reader's address (None for what their agency sent)."""
    opened: bool = False
    """Whether the reader opened it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "sender": self.sender,
            "sender_desk": self.sender_desk,
            "sent_at": self.sent_at.isoformat(),
            "thread_id": self.thread_id,
            "in_reply_to": self.in_reply_to,
            "operation": self.operation,
            "grading": self.grading,
            "handling": self.handling.model_dump(mode="json"),
            "subject": self.subject,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "opened": self.opened,
        }


@dataclass(frozen=True)
class Opened:
    """A message as read: its envelope, its content, and whom it went to. The full list of
    addressees and the author are shown to the sending agency only; a recipient sees its own
    addresses (recipients need not learn of each other)."""

    envelope: Envelope
    message: Message
    author: str | None
    addressees: list[str]
    attachments: list[AttachmentInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "author": self.author,
            "addressees": self.addressees,
            "message": self.message.model_dump(mode="json"),
            "attachments": [a.to_dict() for a in self.attachments],
        }


@dataclass(frozen=True)
class Attachment:
    """A file to send with a message: its bytes, file name and media type."""

    name: str
    media_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class AttachmentInfo:
    n: int
    """Its number within the message, from 1."""
    name: str
    media_type: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "name": self.name, "media_type": self.media_type, "size": self.size}


@dataclass(frozen=True)
class AttachmentContent:
    info: AttachmentInfo
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Sent:
    id: str
    thread_id: str
    sent_at: datetime
    due_at: datetime | None
    addressees: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "thread_id": self.thread_id,
            "sent_at": self.sent_at.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "addressees": self.addressees,
        }


@dataclass(frozen=True)
class Receipt:
    address: str
    delivered_at: datetime
    user: str | None = None
    kind: Literal["delivered", "opened", "actioned"] = "delivered"
    at: datetime | None = None
    signed: bool | None = None
    """A user's receipt: whether its signature holds (False: changed in the store)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "delivered_at": self.delivered_at.isoformat(),
            "user": self.user,
            "kind": self.kind,
            "at": (self.at or self.delivered_at).isoformat(),
            "signed": self.signed,
        }


@dataclass(frozen=True)
class Forwarded:
    to: list[str]
    rules: list[str]


# --- helpers -----------------------------------------------------------------------------


def now_or(now: datetime | None) -> datetime:
    return utc(now or datetime.now(UTC))


def new_id(moment: datetime) -> str:
    """48 bits of milliseconds then 80 random bits, in hex: ordered in time, not guessable."""
    return f"{int(moment.timestamp() * 1000):012x}{secrets.token_hex(10)}"


def checked_purpose(purpose: str) -> str:
    if not purpose or not purpose.strip():
        raise MailboxError("purpose: say why (a case number, 'targeting'...); it is audited")
    return purpose.strip()


@contextmanager
def _sqlite_pragma(db: Database, pragma: str, during: str, after: str) -> Iterator[Connection]:
    """A transaction run with a SQLite pragma of the connection set to `during`, and back to
    the store's own `after` once it ends (PostgreSQL: only the transaction)."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql(f"PRAGMA {pragma}={during}")
            conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            if db.is_sqlite:
                conn.exec_driver_sql(f"PRAGMA {pragma}={after}")
                conn.commit()


def _durable(db: Database) -> AbstractContextManager[Connection]:
    """A transaction whose commit survives a crash of the machine, not only of redlane: on
    SQLite the WAL is synced at this commit (the store's default is synced at checkpoints)."""
    return _sqlite_pragma(db, "synchronous", "FULL", "NORMAL")


def _kek(kek: Kek | None) -> Kek:
    return kek if kek is not None else load_kek()


def _signer(signer: NodeKey | None) -> NodeKey:
    return signer if signer is not None else load_node_key()


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def normalise(kind: EntityKind, identifier: str) -> str:
    """The form an identifier is indexed and searched under: IMO digits, ISO 6346 and plate
    letters without spaces, phone digits with their +, names folded (accents, case, marks)."""
    text = identifier.strip()
    if kind == EntityKind.VESSEL:
        text = re.sub(r"^IMO", "", text.upper().replace(" ", ""))
        return re.sub(r"[^0-9A-Z]", "", text)
    if kind in (EntityKind.CONTAINER, EntityKind.AIRCRAFT, EntityKind.VEHICLE):
        return re.sub(r"[^0-9A-Z]", "", _fold(text).upper())
    if kind == EntityKind.PHONE:
        digits = re.sub(r"[^0-9+]", "", text)
        return "+" + digits[2:] if digits.startswith("00") else digits
    return _fold(text)


def entity_key(kind: EntityKind, identifier: str, kek: Kek) -> str:
    """The indexed key of an entity: its normalised identifier, or for identifiers of people
    (persons, phones, addresses, vehicles) a keyed hash of it."""
    value = normalise(kind, identifier)
    if kind in CLEAR_KINDS:
        return value[:128]
    return "h:" + kek.blind(f"{kind.value}|{value}")


def parse_entity(entity: str) -> tuple[EntityKind, str]:
    """KIND:IDENTIFIER (`vessel:9319466`, `person:Jan de Vries`) as search and hits read it."""
    kind, sep, identifier = entity.partition(":")
    try:
        chosen = EntityKind(kind.strip().lower())
    except ValueError:
        chosen = None
    if not sep or chosen is None or not identifier.strip():
        raise MailboxError(
            f"entity: {entity!r} is not KIND:IDENTIFIER with KIND one of "
            f"{', '.join(k.value for k in EntityKind)} (e.g. vessel:9319466)"
        )
    return chosen, identifier


def check_kek(db: Database, kek: Kek) -> None:
    """Stop start-up when the store's messages were sealed under another key than `kek`
    (a ConfigError naming REDLANE_NODE_KEK_FILE and both fingerprints)."""
    with db.engine.connect() as conn:
        sealed = conn.execute(select(message_keys.c.kek_id).distinct().limit(5)).scalars().all()
    if sealed and kek.id not in sealed:
        raise ConfigError(
            f"{KEK_SETTING}: the stored messages are sealed under key {', '.join(sealed)}, "
            f"not under this key ({kek.id}); is it the node's key?"
        )


def _data_key(conn: Connection, kek: Kek, message_id: str) -> bytes:
    row = conn.execute(
        select(message_keys.c.kek_id, message_keys.c.wrapped_key).where(
            message_keys.c.message_id == message_id
        )
    ).first()
    if row is None:
        raise Erased(f"message {message_id} was erased: its key is destroyed")
    try:
        return kek.unwrap(row.wrapped_key, message_id)
    except DecryptionError:
        if row.kek_id != kek.id:
            raise ConfigError(
                f"{KEK_SETTING}: message {message_id} was sealed under key {row.kek_id}, "
                f"not under this key ({kek.id}); is it the node's key?"
            ) from None
        raise


@lru_cache(maxsize=64)
def _handling(tlp: str, no_forward: bool, no_court_use: bool, no_export: bool) -> Handling:
    return Handling(
        tlp=Tlp(tlp), no_forward=no_forward, no_court_use=no_court_use, no_export=no_export
    )


def _envelope(row: Any, names: _Names, subject: str, opened: bool = False) -> Envelope:
    desk = names.desk[row.sender_desk_id][0] if row.sender_desk_id else None
    delivered = getattr(row, "delivered_at", None)
    return Envelope(
        id=row.id,
        kind=MessageKind(row.kind),
        sender=names.agency[row.sender_agency_id],
        sender_desk=desk,
        sent_at=utc(row.sent_at),
        thread_id=row.thread_id,
        in_reply_to=row.in_reply_to,
        operation=row.operation,
        grading=row.grading,
        handling=_handling(row.tlp, row.no_forward, row.no_court_use, row.no_export),
        subject=subject,
        due_at=utc(row.due_at) if row.due_at else None,
        valid_until=row.valid_until,
        delivered_at=utc(delivered) if delivered else None,
        opened=opened,
    )


def _subject(row: Any, kek: Kek) -> str:
    """The subject of a row that carries `wrapped_key` (None when the key was destroyed)."""
    if row.wrapped_key is None:
        return "(erased)"
    key = kek.unwrap(row.wrapped_key, row.id)
    return open_sealed(key, row.subject, part_data(row.id, "subject")).decode()


def _envelopes(
    conn: Connection, who: Reader, ids: Sequence[str], kek: Kek, delivered: dict[str, Any]
) -> list[Envelope]:
    """Envelopes of `ids` (all visible already), in that order."""
    if not ids:
        return []
    names = _names(conn)
    query = (
        select(messages, message_keys.c.wrapped_key)
        .outerjoin(message_keys, message_keys.c.message_id == messages.c.id)
        .where(messages.c.id.in_(ids))
    )
    rows = {r.id: r for r in conn.execute(query)}
    opened: set[str] = set()
    if who.user_id is not None:
        opened = set(
            conn.execute(
                select(receipts.c.message_id).where(
                    receipts.c.user_id == who.user_id,
                    receipts.c.kind == "opened",
                    receipts.c.message_id.in_(ids),
                )
            ).scalars()
        )
    found = []
    for message_id in ids:
        row = rows[message_id]
        envelope = _envelope(row, names, _subject(row, kek), message_id in opened)
        at = delivered.get(message_id)
        found.append(replace(envelope, delivered_at=utc(at) if at else None))
    return found


def _receipt(
    conn: Connection, who: Reader, message_id: str, kind: str, at: datetime, signer: NodeKey
) -> None:
    """The first `kind` receipt of the user stands; later ones (or a concurrent one) add
    nothing. Signed over the message's signature, the user, their agency, kind and time."""
    if who.user_id is None:
        return
    signed = conn.execute(select(messages.c.signature).where(messages.c.id == message_id)).scalar()
    content = signing.receipt_content(signed or "", who.actor.username, str(who.actor.agency),
                                      kind, at)  # fmt: skip
    conn.execute(
        insert_unless_present(conn, receipts).values(
            message_id=message_id, user_id=who.user_id, kind=kind, at=at,
            **signing.sign(signer, content),
        )
    )  # fmt: skip


# --- send --------------------------------------------------------------------------------


@dataclass
class _Composed:
    sent: Sent
    message: dict[str, Any]
    key: dict[str, Any]
    entities: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    parent: str | None = None
    watch: list[dict[str, Any]] = field(default_factory=list)
    """Watchlist rows of an alert or notice: targeting tests its subjects from the sending on."""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    review: dict[str, Any] | None = None
    """The retention row of an alert or a message naming a person (reviewed yearly)."""


def _sender_desk(conn: Connection, who: Reader, desk: str | None) -> int | None:
    if desk is None:
        return None
    code = desk.strip().upper()
    desk_id = conn.execute(select(desks.c.id).where(desks.c.code == code)).scalar()
    if desk_id is None or f"d{desk_id}" not in who.addresses:
        raise MailboxError(f"desk: you are not a member of a desk {code}")
    return int(desk_id)


def _compose(
    conn: Connection,
    who: Reader,
    message: Message,
    to: Sequence[str],
    desk: str | None,
    moment: datetime,
    kek: Kek,
    signer: NodeKey,
    attachments: Sequence[Attachment] = (),
) -> _Composed:
    if who.agency_id is None:
        raise MailboxError("sender: sending needs a user (or service) of a registered agency")
    sender_desk = _sender_desk(conn, who, desk)
    thread_id = None
    if message.in_reply_to is not None:
        try:
            parent = visible_row(conn, who, message.in_reply_to)
        except NotFound:
            raise MailboxError(
                f"in_reply_to: no message {message.in_reply_to} you may see"
            ) from None
        thread_id = parent.thread_id
    addresses = _resolve(conn, to)
    if message.notice is not None:
        routed = [
            a for (a,) in conn.execute(
                select(routes.c.address).where(routes.c.place == message.notice.next_place)
            )
        ]  # fmt: skip
        if not routed and not addresses:
            raise MailboxError(
                f"to: no service is routed for {message.notice.next_place}; address the notice "
                f"or add a route (`redlane mailbox route add {message.notice.next_place} "
                "--to AGENCY`)"
            )
        known = {a.address for a in addresses}
        names = _names(conn)
        for address in routed:
            if address not in known:
                number = int(address[1:])
                agency_id = number if address[0] == "a" else names.desk[number][1]
                desk_id = None if address[0] == "a" else number
                addresses.append(Address(address, agency_id, desk_id, names.label(address)))
    if not addresses:
        raise MailboxError("to: a message needs at least one addressee (an agency or desk code)")
    message_id = new_id(moment)
    data_key = new_data_key()
    due_at = message.request.due(moment) if message.request is not None else None
    part = message.alert or message.notice
    handling = message.handling
    body = message.model_dump_json().encode()
    row = {
        "id": message_id,
        "kind": message.kind.value,
        "sender_agency_id": who.agency_id,
        "sender_desk_id": sender_desk,
        "author": who.actor.username,
        "sent_at": moment,
        "thread_id": thread_id or message_id,  # a new message opens its own thread
        "in_reply_to": message.in_reply_to,
        "operation": message.operation,
        "grading": message.grading.code,
        "tlp": handling.tlp.value,
        "no_forward": handling.no_forward,
        "no_court_use": handling.no_court_use,
        "no_export": handling.no_export,
        "urgency": message.request.urgency.value if message.request else None,
        "due_at": due_at,
        "valid_until": part.valid_until if part is not None else None,
        "notice_mode": message.notice.mode.value if message.notice else None,
        "next_place": message.notice.next_place if message.notice else None,
        "subject": seal(data_key, message.subject.encode(), part_data(message_id, "subject")),
        "body": seal(data_key, body, part_data(message_id, "body")),
    }
    desk_code = None if sender_desk is None else _names(conn).desk[sender_desk][0]
    labels = [a.label for a in addresses]
    content = signing.message_content(row, str(who.actor.agency), desk_code, labels, body)
    row |= signing.sign(signer, content)
    keys = {(e.kind.value, entity_key(e.kind, e.identifier, kek)) for e in message.entities}
    return _Composed(
        sent=Sent(message_id, thread_id or message_id, moment, due_at, labels),
        message=row,
        key={
            "message_id": message_id,
            "kek_id": kek.id,
            "wrapped_key": kek.wrap(data_key, message_id),
            "created_at": moment,
        },
        entities=[{"message_id": message_id, "kind": k, "key": v} for k, v in sorted(keys)],
        deliveries=[
            {
                "message_id": message_id,
                "address": a.address,
                "agency_id": a.agency_id,
                "desk_id": a.desk_id,
                "delivered_at": moment,
                "forward_id": None,
            }
            for a in addresses
        ],
        parent=message.in_reply_to,
        watch=_watch_rows(message_id, who, message, moment),
        attachments=_attachment_rows(message_id, 1, attachments, who, moment, kek),
        review=(
            {"message_id": message_id, "review_due": add_months(moment, REVIEW_MONTHS)}
            if needs_review(message)
            else None
        ),
    )


def _watch_rows(
    message_id: str, who: Reader, message: Message, moment: datetime
) -> list[dict[str, Any]]:
    if message.alert is None and message.notice is None:
        return []
    try:
        entries = entries_from(message_id, str(who.actor.agency), message, moment)
    except ValueError as exc:
        raise MailboxError(str(exc)) from exc
    return [entry_row(e, moment) for e in entries]


def _store(conn: Connection, who: Reader, composed: Sequence[_Composed], signer: NodeKey) -> None:
    signing.register(conn, signer, who.actor, composed[0].sent.sent_at)
    conn.execute(insert(messages), [c.message for c in composed])
    conn.execute(insert(message_keys), [c.key for c in composed])
    entities = [e for c in composed for e in c.entities]
    if entities:
        conn.execute(insert(message_entities), entities)
    conn.execute(insert(deliveries), [d for c in composed for d in c.deliveries])
    watched = [w for c in composed for w in c.watch]
    if watched:
        conn.execute(insert(watchlist), watched)
    files = [a for c in composed for a in c.attachments]
    if files:
        conn.execute(insert(message_attachments), files)
    reviews = [c.review for c in composed if c.review is not None]
    if reviews:
        conn.execute(insert(retention), reviews)
    for c in composed:
        if c.parent is not None:
            # answering a message is acting on it
            _receipt(conn, who, c.parent, "actioned", c.sent.sent_at, signer)


def send(
    db: Database,
    actor: Actor,
    message: Message,
    to: Sequence[str] = (),
    *,
    desk: str | None = None,
    purpose: str = "intelligence exchange",
    now: datetime | None = None,
    kek: Kek | None = None,
    attachments: Sequence[Attachment] = (),
    in_same_transaction: Callable[[Connection, Sent], None] | None = None,
    signer: NodeKey | None = None,
) -> Sent:
    """Send `message` from the actor's agency (or one of their desks) to `to` (agency or desk
    codes), with `attachments` (each sealed with its own key, at most
    REDLANE_ATTACHMENT_MAX_BYTES each); a mode notice goes to the services routed for its next
    place as well, a request gets its legal due time. One durable transaction; the sending is
    audited. `in_same_transaction(conn, sent)` is more work that stands or falls with the
    sending (the draft this message sends marked sent): when it raises, nothing is sent."""
    require(actor, Capability.SEND_MESSAGES)
    chosen = _kek(kek)
    key = _signer(signer)
    moment = now_or(now)
    files = _checked(attachments)
    with _durable(db) as conn:
        who = reader(conn, actor)
        composed = _compose(conn, who, message, to, desk, moment, chosen, key, files)
        _store(conn, who, [composed], key)
        sent = composed.sent
        if in_same_transaction is not None:
            in_same_transaction(conn, sent)
        details: dict[str, Any] = {"kind": message.kind.value, "to": sent.addressees}
        if files:
            details["attachments"] = [len(a.data) for a in files]
        audit.append(conn, actor, audit.Action.COLLECT, purpose, OBJECT_KIND, sent.id, details,
                     at=moment)  # fmt: skip
    return sent


def send_many(
    db: Database,
    actor: Actor,
    items: Iterable[tuple[Message, Sequence[str]]],
    *,
    purpose: str = "intelligence exchange",
    now: datetime | None = None,
    kek: Kek | None = None,
    signer: NodeKey | None = None,
) -> list[Sent]:
    """Send many messages in one durable transaction (an import, a federation catch-up):
    each as `send` would, with one audit entry naming the first and last message."""
    require(actor, Capability.SEND_MESSAGES)
    chosen = _kek(kek)
    key = _signer(signer)
    moment = now_or(now)
    with _durable(db) as conn:
        who = reader(conn, actor)
        composed = [_compose(conn, who, m, to, None, moment, chosen, key) for m, to in items]
        if composed:
            _store(conn, who, composed, key)
            audit.append(conn, actor, audit.Action.COLLECT, purpose, OBJECT_KIND,
                         composed[0].sent.id,
                         {"messages": len(composed), "last": composed[-1].sent.id},
                         at=moment)  # fmt: skip
    return [c.sent for c in composed]


def reply(
    db: Database,
    actor: Actor,
    message_id: str,
    message: Message,
    to: Sequence[str] = (),
    *,
    desk: str | None = None,
    now: datetime | None = None,
    kek: Kek | None = None,
    in_same_transaction: Callable[[Connection, Sent], None] | None = None,
    signer: NodeKey | None = None,
) -> Sent:
    """Answer a message in its thread: to the desk (or agency) that sent it, and to `to`.
    The answered message gets an `actioned` receipt of the replier. `in_same_transaction` as
    for `send`."""
    if message.in_reply_to not in (None, message_id):
        raise MailboxError(
            f"in_reply_to: the reply answers {message_id}, not {message.in_reply_to}"
        )
    with db.engine.connect() as conn:
        parent = visible_row(conn, reader(conn, actor), message_id)
        refuse_restricted(conn, message_id)
        names = _names(conn)
    back = (
        f"desk:{names.desk[parent.sender_desk_id][0]}"
        if parent.sender_desk_id
        else f"agency:{names.agency[parent.sender_agency_id]}"
    )
    try:
        answer = Message.model_validate({**message.model_dump(), "in_reply_to": message_id})
    except ValidationError as exc:
        raise MailboxError(f"message: {exc}") from exc
    return send(db, actor, answer, [back, *to], desk=desk, purpose="reply", now=now, kek=kek,
                in_same_transaction=in_same_transaction, signer=signer)  # fmt: skip


# --- reading -----------------------------------------------------------------------------


def _check_signature(conn: Connection, row: Any, body: bytes, names: _Names) -> None:
    """Tampered unless the stored message (envelope, addressees as sent, body) is what its
    node signed when it was sent."""
    sent_to = conn.execute(
        select(deliveries.c.address).where(
            deliveries.c.message_id == row.id, deliveries.c.forward_id.is_(None)
        )
    ).scalars()
    desk = None if row.sender_desk_id is None else names.desk[row.sender_desk_id][0]
    content = signing.message_content(
        row._mapping, names.agency[row.sender_agency_id], desk, [names.label(a) for a in sent_to],
        body,
    )  # fmt: skip
    why = signing.problem(conn, row.signature, row.signed_by, content)
    if why is not None:
        raise Tampered(row.id, why)


def read(
    db: Database,
    actor: Actor,
    message_id: str,
    purpose: str,
    *,
    now: datetime | None = None,
    kek: Kek | None = None,
    signer: NodeKey | None = None,
) -> Opened:
    """Open a message: decrypt it, check its signature, write the reader's signed `opened`
    receipt, audit the read with its purpose. NotFound when it does not exist or the actor
    may not see it; Tampered when it was changed in the store after it was sent."""
    why = checked_purpose(purpose)
    chosen = _kek(kek)
    key_of_node = _signer(signer)
    moment = now_or(now)
    with db.engine.begin() as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)
        key = _data_key(conn, chosen, message_id)
        body = open_sealed(key, row.body, part_data(message_id, "body"))
        names = _names(conn)
        _check_signature(conn, row, body, names)
        message = Message.model_validate_json(body)
        originator = row.sender_agency_id == who.agency_id
        if not originator:  # receipts tell the sender what its recipients did
            _receipt(conn, who, message_id, "opened", moment, key_of_node)
        query = select(deliveries.c.address).where(deliveries.c.message_id == message_id)
        if not originator:
            query = query.where(deliveries.c.address.in_(who.addresses))
        addressees = sorted(names.label(a) for (a,) in conn.execute(query))
        files = _attachment_infos(conn, chosen, message_id)
        audit.append(conn, actor, audit.Action.READ, why, OBJECT_KIND, message_id, at=moment)
    envelope = _envelope(row, names, message.subject, opened=True)
    return Opened(envelope, message, row.author if originator else None, addressees, files)


def inbox(
    db: Database,
    actor: Actor,
    *,
    box: Box = "received",
    kind: MessageKind | str | None = None,
    unread: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    sender: str | None = None,
    limit: int = 50,
    offset: int = 0,
    kek: Kek | None = None,
) -> list[Envelope]:
    """The actor's messages, newest first: `received` (delivered to their agency or desks),
    `sent` (by their agency) or `all`; filtered by kind, unread, time and sending agency."""
    if box not in ("received", "sent", "all"):
        raise MailboxError(f"box: {box!r} is not received, sent or all")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise MailboxError(f"limit: 1 to {MAX_LIMIT}; offset: 0 or more")
    chosen_kind = _kind(kind)
    chosen = _kek(kek)
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        if not who.can_read or who.agency_id is None:
            return []
        filters: list[ColumnElement[bool]] = []
        if chosen_kind is not None:
            filters.append(messages.c.kind == chosen_kind.value)
        if since is not None:
            filters.append(messages.c.sent_at >= utc(since))
        if until is not None:
            filters.append(messages.c.sent_at < utc(until))
        if sender is not None:
            (address,) = _resolve(conn, [sender], "sender")
            filters.append(messages.c.sender_agency_id == address.agency_id)
        if unread and who.user_id is not None:
            filters.append(
                ~exists().where(
                    receipts.c.message_id == messages.c.id,
                    receipts.c.user_id == who.user_id,
                    receipts.c.kind == "opened",
                )
            )
        # One ordered, limited scan of the (address, delivered_at) index per address, merged:
        # an OR over addresses would sort every message the reader ever received.
        depth = offset + limit
        parts = []
        if box in ("received", "all"):
            for mine in who.addresses:
                query = select(
                    deliveries.c.message_id.label("id"), deliveries.c.delivered_at.label("at")
                ).where(deliveries.c.address == mine, *unrestricted(who, deliveries.c.message_id))
                if filters:
                    query = query.join(messages, messages.c.id == deliveries.c.message_id).where(
                        *filters
                    )
                parts.append(query.order_by(deliveries.c.delivered_at.desc()).limit(depth))
        if box in ("sent", "all"):
            query = select(messages.c.id.label("id"), messages.c.sent_at.label("at")).where(
                messages.c.sender_agency_id == who.agency_id,
                *unrestricted(who, messages.c.id),
                *filters,
            )
            parts.append(query.order_by(messages.c.sent_at.desc()).limit(depth))
        merged = union_all(*[select(p.subquery()) for p in parts]).subquery()
        newest = func.max(merged.c.at).label("at")
        page = conn.execute(
            select(merged.c.id, newest)
            .group_by(merged.c.id)
            .order_by(newest.desc(), merged.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        sent_ids = set()
        if box != "received":
            sent_ids = set(
                conn.execute(
                    select(messages.c.id).where(
                        messages.c.id.in_([r.id for r in page]),
                        messages.c.sender_agency_id == who.agency_id,
                    )
                ).scalars()
            )
        delivered = {r.id: r.at for r in page if r.id not in sent_ids}
        listed = _envelopes(conn, who, [r.id for r in page], chosen, delivered)
    if listed:
        # the subjects shown may name people: a listing is a consultation too
        audit.record(db, actor, audit.Action.READ, INBOX_PURPOSE, OBJECT_KIND, listed[0].id,
                     {"listed": [e.id for e in listed], "box": box})  # fmt: skip
    return listed


def _kind(kind: MessageKind | str | None) -> MessageKind | None:
    if kind is None or isinstance(kind, MessageKind):
        return kind
    try:
        return MessageKind(kind.strip().lower())
    except ValueError:
        raise MailboxError(
            f"kind: {kind!r} is not one of {', '.join(k.value for k in MessageKind)}"
        ) from None


def search(
    db: Database,
    actor: Actor,
    purpose: str,
    *,
    entity: str | None = None,
    kind: MessageKind | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sender: str | None = None,
    limit: int = 100,
    kek: Kek | None = None,
) -> list[Envelope]:
    """Messages the actor may see, newest first, by subject entity (`vessel:9319466`,
    `person:Jan de Vries`), kind, time sent and sending agency. Audited with the purpose, the
    criteria (an entity as its indexed key) and the ids found."""
    why = checked_purpose(purpose)
    if not 1 <= limit <= MAX_LIMIT:
        raise MailboxError(f"limit: 1 to {MAX_LIMIT}")
    chosen_kind = _kind(kind)
    chosen = _kek(kek)
    criteria: dict[str, Any] = {}
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        query = select(messages.c.id).where(visible(who))
        if entity is not None:
            entity_kind, identifier = parse_entity(entity)
            key = entity_key(entity_kind, identifier, chosen)
            criteria["entity"] = f"{entity_kind.value}:{key}"
            query = query.where(
                exists().where(
                    message_entities.c.message_id == messages.c.id,
                    message_entities.c.kind == entity_kind.value,
                    message_entities.c.key == key,
                )
            )
        if chosen_kind is not None:
            criteria["kind"] = chosen_kind.value
            query = query.where(messages.c.kind == chosen_kind.value)
        if since is not None:
            criteria["since"] = utc(since).isoformat()
            query = query.where(messages.c.sent_at >= utc(since))
        if until is not None:
            criteria["until"] = utc(until).isoformat()
            query = query.where(messages.c.sent_at < utc(until))
        if sender is not None:
            (address,) = _resolve(conn, [sender], "sender")
            criteria["sender"] = address.label
            query = query.where(messages.c.sender_agency_id == address.agency_id)
        ids = list(
            conn.execute(
                query.order_by(messages.c.sent_at.desc(), messages.c.id.desc()).limit(limit)
            ).scalars()
        )
        found = _envelopes(conn, who, ids, chosen, {})
    audit.record(db, actor, audit.Action.SEARCH, why, OBJECT_KIND, "search",
                 {"criteria": criteria, "results": ids})  # fmt: skip
    return found


def thread(db: Database, actor: Actor, thread_id: str, *, kek: Kek | None = None) -> list[Envelope]:
    """The messages of a thread the actor may see, oldest first; NotFound when none."""
    if not MESSAGE_ID.match(thread_id):
        raise NotFound()
    chosen = _kek(kek)
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        ids = list(
            conn.execute(
                select(messages.c.id)
                .where(messages.c.thread_id == thread_id, visible(who))
                .order_by(messages.c.sent_at, messages.c.id)
            ).scalars()
        )
        if not ids:
            raise NotFound()
        return _envelopes(conn, who, ids, chosen, {})


def overdue(
    db: Database, actor: Actor, now: datetime | None = None, *, kek: Kek | None = None
) -> list[Envelope]:
    """Requests addressed to the actor's agency or desks, past their due time, that their
    agency has not answered; the most overdue first."""
    moment = now_or(now)
    chosen = _kek(kek)
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        if not who.can_read:
            return []
        answer = messages.alias("answer")
        query = (
            select(messages.c.id)
            .where(
                messages.c.kind == MessageKind.REQUEST.value,
                messages.c.due_at < moment,
                ~restricted(messages.c.id),
                exists().where(
                    deliveries.c.message_id == messages.c.id,
                    deliveries.c.address.in_(who.addresses),
                ),
                ~exists().where(
                    answer.c.in_reply_to == messages.c.id,
                    answer.c.sender_agency_id == who.agency_id,
                ),
            )
            .order_by(messages.c.due_at, messages.c.id)
        )
        ids = list(conn.execute(query).scalars())
        return _envelopes(conn, who, ids, chosen, {})


# --- forward, export, receipts -----------------------------------------------------------


def _holders(conn: Connection, row: Any) -> set[int]:
    held = conn.execute(
        select(deliveries.c.agency_id).where(deliveries.c.message_id == row.id)
    ).scalars()
    return {row.sender_agency_id, *held}


def forward(
    db: Database,
    actor: Actor,
    message_id: str,
    to: Sequence[str],
    purpose: str,
    *,
    now: datetime | None = None,
    kek: Kek | None = None,
) -> Forwarded:
    """Deliver a message the actor may see to more agencies or desks, within what the sender's
    handling allows (see `redlane.exchange.handling`). All or nothing: when any addressee is
    refused, none gets it, the refusal is recorded (forwards, audit) and `Refused` names the
    rule. NotFound when the actor may not see the message; Tampered when it no longer matches
    its signature (it is not passed on)."""
    why = checked_purpose(purpose)
    moment = now_or(now)
    with _durable(db) as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)
        require(actor, Capability.SEND_MESSAGES)
        refuse_restricted(conn, message_id)
        body = open_sealed(_data_key(conn, _kek(kek), message_id), row.body,
                           part_data(message_id, "body"))  # fmt: skip
        _check_signature(conn, row, body, _names(conn))
        assert who.agency_id is not None  # a visible message has a reader of an agency
        targets = _resolve(conn, to)
        if not targets:
            raise MailboxError("to: forward to at least one agency or desk")
        holders = _holders(conn, row)
        decisions = [
            forward_decision(
                Tlp(row.tlp),
                row.no_forward,
                originator=row.sender_agency_id == who.agency_id,
                forwarder_agency=who.agency_id,
                target_agency=t.agency_id,
                holders=holders,
            )
            for t in targets
        ]
        refused = [d for d in decisions if not d.allowed]
        delivered = set(
            conn.execute(
                select(deliveries.c.address).where(deliveries.c.message_id == message_id)
            ).scalars()
        )
        for target, decision in zip(targets, decisions, strict=True):
            if refused and decision.allowed:
                continue
            forward_id = conn.execute(
                insert(forwards)
                .values(
                    message_id=message_id, by_user=actor.username, by_agency_id=who.agency_id,
                    to_address=target.address, to_agency_id=target.agency_id, at=moment,
                    allowed=decision.allowed, rule=decision.rule, purpose=why,
                )
                .returning(forwards.c.id)
            ).scalar_one()  # fmt: skip
            if decision.allowed and target.address not in delivered:
                conn.execute(
                    insert(deliveries).values(
                        message_id=message_id, address=target.address,
                        agency_id=target.agency_id, desk_id=target.desk_id,
                        delivered_at=moment, forward_id=forward_id,
                    )
                )  # fmt: skip
        labels = [t.label for t in targets]
        details: dict[str, Any] = {"to": labels, "rules": [d.rule for d in decisions]}
        if refused:
            details["refused"] = refused[0].rule
        audit.append(conn, actor, audit.Action.FORWARD, why, OBJECT_KIND, message_id, details,
                     at=moment)  # fmt: skip
    if refused:
        raise Refused(refused[0])
    return Forwarded(labels, [d.rule for d in decisions])


def export(
    db: Database,
    actor: Actor,
    message_id: str,
    purpose: str,
    *,
    now: datetime | None = None,
    kek: Kek | None = None,
) -> dict[str, Any]:
    """The message as a self-contained JSON document (headers, grading, handling, content) to
    take out of redlane; refused by `no_export` or TLP:RED (see `redlane.exchange.handling`).
    Audited, refusals too."""
    why = checked_purpose(purpose)
    chosen = _kek(kek)
    moment = now_or(now)
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)
        require(actor, Capability.EXPORT_MESSAGES)
        refuse_restricted(conn, message_id)
        decision = export_decision(
            Tlp(row.tlp), row.no_export, originator=row.sender_agency_id == who.agency_id
        )
        if decision.allowed:
            key = _data_key(conn, chosen, message_id)
            body = open_sealed(key, row.body, part_data(message_id, "body"))
            names = _names(conn)
            _check_signature(conn, row, body, names)
            message = Message.model_validate_json(body)
    audit.record(db, actor, audit.Action.EXPORT, why, OBJECT_KIND, message_id,
                 {"rule": decision.rule, "allowed": decision.allowed}, at=moment)  # fmt: skip
    if not decision.allowed:
        raise Refused(decision)
    envelope = _envelope(row, names, message.subject)
    return {
        "format": "redlane-message/1",
        "exported_at": moment.isoformat(),
        "exported_by": actor.username,
        "marking": f"TLP:{envelope.handling.tlp.value.upper()}",
        **envelope.to_dict(),
        "message": message.model_dump(mode="json"),
    }


def receipts_of(db: Database, actor: Actor, message_id: str) -> list[Receipt]:
    """Deliveries and per-user receipts of a message: all of them for the sending agency, a
    recipient's own agency's for a recipient."""
    with db.engine.connect() as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)
        names = _names(conn)
        originator = row.sender_agency_id == who.agency_id
        query = select(deliveries).where(deliveries.c.message_id == message_id)
        people = (
            select(receipts, users.c.username, users.c.agency_id)
            .join(users, users.c.id == receipts.c.user_id)
            .where(receipts.c.message_id == message_id)
        )
        if not originator:
            query = query.where(deliveries.c.agency_id == who.agency_id)
            people = people.where(users.c.agency_id == who.agency_id)
        found = [
            Receipt(names.label(d.address), utc(d.delivered_at))
            for d in conn.execute(query.order_by(deliveries.c.delivered_at, deliveries.c.address))
        ]
        first = min((r.delivered_at for r in found), default=utc(row.sent_at))
        for r in conn.execute(people.order_by(receipts.c.at, users.c.username)):
            agency = names.agency[r.agency_id]
            content = signing.receipt_content(row.signature or "", r.username, agency, r.kind,
                                              r.at)  # fmt: skip
            holds = signing.problem(conn, r.signature, r.signed_by, content) is None
            found.append(Receipt(f"agency:{agency}", first, r.username, r.kind, utc(r.at), holds))
        return found


def mark_actioned(
    db: Database,
    actor: Actor,
    message_id: str,
    *,
    now: datetime | None = None,
    signer: NodeKey | None = None,
) -> None:
    """Record that the actor acted on a message (a reply does this by itself): a signed
    receipt."""
    key = _signer(signer)
    with db.engine.begin() as conn:
        who = reader(conn, actor)
        visible_row(conn, who, message_id)
        _receipt(conn, who, message_id, "actioned", now_or(now), key)


# --- attachments -------------------------------------------------------------------------


def max_attachment_bytes(value: str | None = None) -> int:
    """The largest attachment accepted: REDLANE_ATTACHMENT_MAX_BYTES (default 20 MiB)."""
    raw = (value if value is not None else os.environ.get(ATTACHMENT_SETTING, "")).strip()
    if not raw:
        return DEFAULT_ATTACHMENT_MAX_BYTES
    try:
        limit = int(raw.replace("_", ""))
    except ValueError:
        limit = 0
    if limit < 1:
        raise ConfigError(f"{ATTACHMENT_SETTING}={raw!r}: give the largest size in bytes (> 0)")
    return limit


def _checked(attachments: Sequence[Attachment]) -> list[Attachment]:
    """Attachments with a plain file name and a media type, each within the size limit."""
    if not attachments:
        return []
    limit = max_attachment_bytes()
    found = []
    for a in attachments:
        name = a.name.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name:
            raise MailboxError(f"attachment {a.name!r}: give it a file name")
        if len(a.data) > limit:
            raise MailboxError(
                f"attachment {name!r}: {len(a.data):,} bytes is over the limit of {limit:,} "
                f"bytes ({ATTACHMENT_SETTING})"
            )
        media_type = a.media_type.strip().lower()
        if not _MEDIA_TYPE.match(media_type) or len(media_type) > 128:
            raise MailboxError(
                f"attachment {name!r}: media type {a.media_type!r} is not TYPE/SUBTYPE "
                "(e.g. application/pdf)"
            )
        found.append(Attachment(name, media_type, a.data))
    return found


def _attachment_ref(message_id: str, n: int) -> str:
    return f"{message_id}/attachment/{n}"


def _attachment_rows(
    message_id: str,
    first: int,
    attachments: Sequence[Attachment],
    who: Reader,
    moment: datetime,
    kek: Kek,
) -> list[dict[str, Any]]:
    rows = []
    for n, a in enumerate(attachments, start=first):
        key = new_data_key()
        part = f"attachment/{n}"
        rows.append({
            "message_id": message_id, "n": n, "media_type": a.media_type, "size": len(a.data),
            "kek_id": kek.id, "wrapped_key": kek.wrap(key, _attachment_ref(message_id, n)),
            "name": seal(key, a.name.encode(), part_data(message_id, part + "/name")),
            "content": seal(key, a.data, part_data(message_id, part)),
            "added_at": moment, "added_by": who.actor.username,
        })  # fmt: skip
    return rows


def _attachment_key(kek: Kek, row: Any) -> bytes:
    ref = _attachment_ref(row.message_id, row.n)
    try:
        return kek.unwrap(row.wrapped_key, ref)
    except DecryptionError:
        if row.kek_id != kek.id:
            raise ConfigError(
                f"{KEK_SETTING}: attachment {ref} was sealed under key {row.kek_id}, not under "
                f"this key ({kek.id}); is it the node's key?"
            ) from None
        raise


def _attachment_infos(conn: Connection, kek: Kek, message_id: str) -> list[AttachmentInfo]:
    rows = conn.execute(
        select(message_attachments)
        .where(message_attachments.c.message_id == message_id)
        .order_by(message_attachments.c.n)
    )
    found = []
    for r in rows:
        key = _attachment_key(kek, r)
        name = open_sealed(key, r.name, part_data(message_id, f"attachment/{r.n}/name"))
        found.append(AttachmentInfo(r.n, name.decode(), r.media_type, r.size))
    return found


def attach(
    db: Database,
    actor: Actor,
    message_id: str,
    attachments: Sequence[Attachment],
    purpose: str = "intelligence exchange",
    *,
    now: datetime | None = None,
    kek: Kek | None = None,
) -> list[AttachmentInfo]:
    """Add attachments to a message the actor's agency sent (numbered after those it has):
    its recipients find them with the message. Audited."""
    why = checked_purpose(purpose)
    chosen = _kek(kek)
    moment = now_or(now)
    files = _checked(attachments)
    if not files:
        raise MailboxError("attachments: give at least one file")
    with _durable(db) as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)
        require(actor, Capability.SEND_MESSAGES)
        refuse_restricted(conn, message_id)
        if row.sender_agency_id != who.agency_id:
            raise Refused(Decision(False, "originator", "only the sending agency adds attachments"))
        _data_key(conn, chosen, message_id)  # an erased message takes nothing more
        last = conn.execute(
            select(func.max(message_attachments.c.n)).where(
                message_attachments.c.message_id == message_id
            )
        ).scalar()
        rows = _attachment_rows(message_id, (last or 0) + 1, files, who, moment, chosen)
        conn.execute(insert(message_attachments), rows)
        numbers = [r["n"] for r in rows]
        audit.append(conn, actor, audit.Action.COLLECT, why, "attachment", message_id,
                     {"attachments": numbers}, at=moment)  # fmt: skip
    return [AttachmentInfo(r["n"], a.name, a.media_type, r["size"])
            for r, a in zip(rows, files, strict=True)]  # fmt: skip


def attachment(
    db: Database,
    actor: Actor,
    message_id: str,
    n: int,
    purpose: str,
    *,
    now: datetime | None = None,
    kek: Kek | None = None,
) -> AttachmentContent:
    """Attachment `n` of a message, decrypted, for someone who may see the message (NotFound
    otherwise, or when it has no attachment `n`; Erased once retention destroyed its keys).
    Audited with the purpose."""
    why = checked_purpose(purpose)
    chosen = _kek(kek)
    moment = now_or(now)
    with db.engine.connect() as conn:
        visible_row(conn, reader(conn, actor), message_id)
        _data_key(conn, chosen, message_id)
        row = conn.execute(
            select(message_attachments).where(
                message_attachments.c.message_id == message_id, message_attachments.c.n == n
            )
        ).first()
        if row is None:
            raise NotFound()
        key = _attachment_key(chosen, row)
        part = f"attachment/{n}"
        name = open_sealed(key, row.name, part_data(message_id, part + "/name")).decode()
        data = open_sealed(key, row.content, part_data(message_id, part))
    audit.record(db, actor, audit.Action.READ, why, "attachment", f"{message_id}/{n}",
                 {"size": len(data)}, at=moment)  # fmt: skip
    return AttachmentContent(AttachmentInfo(n, name, row.media_type, row.size), data)


# --- integrity: every signature checked --------------------------------------------------


@dataclass(frozen=True)
class SignatureReport:
    messages: int
    """Messages whose signature was checked."""
    erased: int
    """Messages erased by retention: nothing left to check."""
    receipts: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_signatures(
    db: Database, actor: Actor, *, kek: Kek | None = None, batch: int = 500
) -> SignatureReport:
    """Check every stored message and receipt against its signature, and that every key
    they name was registered with an audit entry; name each one that fails. Needs
    manage_accounts (the operator of the node); audited. Run `redlane audit verify` with it:
    the key registrations are only as good as the audit chain."""
    require(actor, Capability.MANAGE_ACCOUNTS)
    chosen = _kek(kek)
    problems: list[str] = []
    checked = erased = signed_receipts = 0
    with db.engine.connect() as conn:
        names = _names(conn)
        registered = {e.object_id for e in audit.entries(db, object_kind=signing.KEY_OBJECT_KIND)}
        for (fingerprint,) in conn.execute(select(node_keys.c.fingerprint)):
            if fingerprint not in registered:
                problems.append(f"node key {fingerprint[:16]}…: no audit entry registers it")
        last = ""
        while True:
            rows = conn.execute(
                select(messages, message_keys.c.message_id.label("keyed"))
                .outerjoin(message_keys, message_keys.c.message_id == messages.c.id)
                .where(messages.c.id > last)
                .order_by(messages.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            for row in rows:
                if row.keyed is None:
                    erased += 1
                    continue
                try:
                    key = _data_key(conn, chosen, row.id)
                    body = open_sealed(key, row.body, part_data(row.id, "body"))
                    _check_signature(conn, row, body, names)
                except Tampered as exc:
                    problems.append(str(exc))
                except DecryptionError:
                    problems.append(f"message {row.id}: its body does not decrypt (changed)")
                checked += 1
        stored = conn.execute(
            select(receipts, users.c.username, users.c.agency_id, messages.c.signature.label("of"))
            .join(users, users.c.id == receipts.c.user_id)
            .join(messages, messages.c.id == receipts.c.message_id)
            .order_by(receipts.c.message_id, receipts.c.at)
        )
        for r in stored:
            content = signing.receipt_content(r.of or "", r.username, names.agency[r.agency_id],
                                              r.kind, r.at)  # fmt: skip
            why = signing.problem(conn, r.signature, r.signed_by, content)
            if why is not None:
                problems.append(f"receipt {r.kind} of {r.username} on message {r.message_id}: "
                                f"{why}")  # fmt: skip
            signed_receipts += 1
    report = SignatureReport(checked, erased, signed_receipts, problems)
    audit.record(db, actor, audit.Action.ADMIN, "mailbox signature check", OBJECT_KIND, "all",
                 {"messages": checked, "erased": erased, "receipts": signed_receipts,
                  "problems": len(problems)})  # fmt: skip
    return report


# --- keys: crypto-shredding and rotation of the key encryption key -----------------------


@contextmanager
def shredding(db: Database) -> Iterator[Connection]:
    """A transaction whose deletions and overwrites do not linger in the database files: on
    SQLite the freed space is zeroed (secure_delete) and the WAL, which still holds the old
    pages, is checkpointed and truncated after the commit; on PostgreSQL the tables that hold
    keys are vacuumed, so their dead rows are no longer kept. Backups and PostgreSQL's WAL
    archive still hold what they held: `rekey` makes those copies useless."""
    with _sqlite_pragma(db, "secure_delete", "ON", "OFF") as conn:
        yield conn
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM message_keys, message_attachments, message_entities")


@dataclass(frozen=True)
class Rekeyed:
    old: str
    new: str
    messages: int
    attachments: int
    entities: int

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "messages": self.messages,
                "attachments": self.attachments, "entities": self.entities}  # fmt: skip


def rekey(db: Database, actor: Actor, old: Kek, new: Kek) -> Rekeyed:
    """Re-wrap every live data key (messages and attachments) under the key encryption key
    `new`, and re-index the entities of people under the keyed hash `new` derives, in one
    transaction. Once the node runs on `new` and `old` is destroyed, the wrapped keys in old
    backups open with nothing: the messages erased since those backups were made are gone from
    them too. Keys already under `new` are left as they are (a rerun finishes an interrupted
    one). Needs manage_accounts (the operator of the node); audited."""
    require(actor, Capability.MANAGE_ACCOUNTS)
    if old.id == new.id:
        raise MailboxError(f"new: the new key is the current key ({old.id}); make one with "
                           "`redlane mailbox keygen PATH`")  # fmt: skip
    moved = files = indexed = 0
    with shredding(db) as conn:
        query = select(message_keys, messages.c.body).join(
            messages, messages.c.id == message_keys.c.message_id
        )
        for row in conn.execute(query).all():
            if row.kek_id == new.id:
                continue
            data_key = _data_key(conn, old, row.message_id)
            conn.execute(
                message_keys.update()
                .where(message_keys.c.message_id == row.message_id)
                .values(kek_id=new.id, wrapped_key=new.wrap(data_key, row.message_id))
            )
            body = open_sealed(data_key, row.body, part_data(row.message_id, "body"))
            message = Message.model_validate_json(body)
            blind = {(e.kind.value, entity_key(e.kind, e.identifier, new)) for e in message.entities
                     if e.kind not in CLEAR_KINDS}  # fmt: skip
            conn.execute(
                delete(message_entities).where(
                    message_entities.c.message_id == row.message_id,
                    message_entities.c.key.like("h:%"),
                )
            )
            if blind:
                conn.execute(insert(message_entities), [
                    {"message_id": row.message_id, "kind": k, "key": v} for k, v in sorted(blind)
                ])  # fmt: skip
            moved += 1
            indexed += len(blind)
        for row in conn.execute(select(message_attachments).where(
            message_attachments.c.kek_id != new.id
        )).all():  # fmt: skip
            key = _attachment_key(old, row)
            conn.execute(
                message_attachments.update()
                .where(
                    message_attachments.c.message_id == row.message_id,
                    message_attachments.c.n == row.n,
                )
                .values(kek_id=new.id,
                        wrapped_key=new.wrap(key, _attachment_ref(row.message_id, row.n)))
            )  # fmt: skip
            files += 1
    done = Rekeyed(old.id, new.id, moved, files, indexed)
    audit.record(db, actor, audit.Action.ADMIN, "key encryption key rotation", "kek", new.id,
                 done.to_dict())  # fmt: skip
    return done


__all__ = [
    "NOT_FOUND",
    "Address",
    "Attachment",
    "AttachmentContent",
    "AttachmentInfo",
    "Envelope",
    "Erased",
    "Forbidden",
    "Forwarded",
    "MailboxError",
    "NotFound",
    "Opened",
    "Receipt",
    "Refused",
    "Rekeyed",
    "Sent",
    "SignatureReport",
    "Tampered",
    "add_route",
    "attach",
    "attachment",
    "check_kek",
    "checked_purpose",
    "entity_key",
    "export",
    "forward",
    "inbox",
    "list_routes",
    "mark_actioned",
    "max_attachment_bytes",
    "normalise",
    "now_or",
    "overdue",
    "parse_entity",
    "read",
    "receipts_of",
    "rekey",
    "remove_route",
    "reply",
    "require_visible",
    "restricted",
    "search",
    "send",
    "send_many",
    "shredding",
    "thread",
    "verify_signatures",
]
