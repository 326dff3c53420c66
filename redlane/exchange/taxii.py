"""A read-only TAXII 2.1 collection over the mailbox: what a caller may see and export, as the
STIX 2.1 objects of `redlane.exchange.stix`, for the CTI tools (MISP, OpenCTI) of partner
services. The HTTP side is `redlane.api.taxii`; this module decides what a page holds.

One collection, `mailbox`, per caller: every message the caller may see (need-to-know, the
condition `redlane.exchange.access.visible` that the inbox and search use) whose sender's
handling lets it leave redlane as a bundle. Need-to-know already decides what each caller
sees, so kinds as collections would only split one feed into seven cursors, and a request, its
reply and their sightings would come through different feeds; the kind is each report's
`report_types`. The query is this module's, on that same condition, not `mailbox.inbox`: the
inbox lists newest first by offset and filters on the sending time, while a pull pages oldest
first by arrival (a forward arrives long after its sending) from a position that new messages
do not move, and the inbox would decrypt and audit a listing of every envelope on the way.

- A message whose handling keeps it inside redlane (`no_export`, TLP:RED) is left out by the
  query, before anything of it is read: not exported, not audited, and nothing in a page says
  it exists. Restricted (retention) and erased messages are left out the same way.
- Each message in the collection is exported through `stix.export_stored`, so roles, handling
  and the audit log apply as for `GET /messages/{id}/stix`: one `export` entry per message a
  page reads, with the purpose given (`DEFAULT_PURPOSE` when the client sends none).
- An object's `date_added` is when its message reached the caller: its sending time for what
  the caller's agency sent, else the first delivery to the caller's agency or desks (a
  message forwarded to them today is added today, whenever it was sent). Objects come in that
  order, then by message id, then as the message's bundle lists them.
- The definitions every bundle carries (the redlane identity and extension definitions, the
  TLP marking definitions) are served once, at the start of the collection (added 1970-01-01,
  before any message); every other object belongs to one message.
- An object's version is its `modified` (or `created`): the message's sending time. Every
  object of a message is its own (its id scoped to the message's report), so each id has one
  version and `match[version]=first`, `last` and `all` serve the same objects.
- Pages hold at most `limit` objects; `next` is the position of a page's last object, so
  paging is stable while new messages arrive (they are added at the end).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, exists, func, or_, select, true

from redlane.exchange import access, mailbox, stix
from redlane.exchange.crypto import Kek
from redlane.exchange.model import Tlp
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database, utc
from redlane.store.schema import deliveries, message_keys, messages

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
#: The purpose audited for a pull whose client sends no X-Redlane-Purpose header (CTI tools
#: send only their credentials).
DEFAULT_PURPOSE = "TAXII collection pull"
#: The path segment of the one API root under the discovery URL.
API_ROOT = "redlane"
MAILBOX_ID = "ac0a08a3-5ba3-460a-ae9f-3281136cc24a"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Messages read per query while a page fills (a message gives some ten objects).
_BATCH = 50

#: The definitions every bundle carries (the redlane identity and extension definitions, the TLP
#: markings a message in the collection can have): served once, at the start of the collection.
DEFINITIONS: tuple[dict[str, Any], ...] = (
    stix.REDLANE_IDENTITY,
    stix.REDLANE_EXTENSION,
    stix.ENTITY_EXTENSION,
    *(stix.tlp_marking(tlp) for tlp in Tlp if tlp != Tlp.RED),
)
_DEFINITION_IDS = frozenset(str(d["id"]) for d in DEFINITIONS) | set(stix.TLP_MARKING_IDS.values())
#: The definitions' date_added: they are in the collection from its start, before any message.
DEFINITIONS_ADDED = datetime(1970, 1, 1, tzinfo=UTC)
#: The definitions' place among the messages (before every message id).
_DEFINITIONS_PLACE = "0" * 32
#: The types of a message's own objects (its report, note, sender and subjects).
_CONTENT_TYPES = frozenset({"identity", "report", "note", "location", stix.ENTITY_TYPE})
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}$")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,249}}--{_UUID}$")


class TaxiiError(ValueError):
    """A request the server cannot answer as asked (a filter, limit or `next` it cannot read);
    the message names the parameter."""


class UnknownCollection(LookupError):
    """No collection of that id."""


class UnknownObject(LookupError):
    """No object of that id in the collection, for this caller."""


# --- the server's own documents ------------------------------------------------------------


def discovery(discovery_url: str) -> dict[str, Any]:
    """The discovery resource, served at `discovery_url` (which ends in /taxii2/)."""
    root = f"{discovery_url.rstrip('/')}/{API_ROOT}/"
    return {
        "title": "redlane",
        "description": "The messages of the redlane mailbox you may see and export, as STIX 2.1.",
        "default": root,
        "api_roots": [root],
    }


def api_root() -> dict[str, Any]:
    """The API root resource: read-only, so it accepts no request body (max_content_length 0)."""
    return {
        "title": "redlane mailbox",
        "description": "One collection: the mailbox messages your agency and desks received or "
        "sent, that their senders let leave redlane (no TLP:RED, no no_export).",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": 0,
    }


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    alias: str
    media_types: tuple[str, ...]
    can_read: bool = True
    can_write: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "alias": self.alias,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": list(self.media_types),
        }


MAILBOX = Collection(
    id=MAILBOX_ID,
    title="mailbox",
    description="Each message you may see whose handling allows export, as a STIX 2.1 report "
    "with its note, sender, subjects and TLP 2.0 marking; added when it reached you.",
    alias="mailbox",
    media_types=(STIX_MEDIA_TYPE,),
)


def may_pull(actor: Actor) -> bool:
    """Whether the actor's roles let them pull: read messages and export them."""
    return actor.can(Capability.READ_MESSAGES) and actor.can(Capability.EXPORT_MESSAGES)


def collections(actor: Actor) -> list[Collection]:
    """The collections the actor may read: the mailbox, or none for a role that may not read
    and export messages (an administrator, an officer)."""
    return [MAILBOX] if may_pull(actor) else []


def collection(actor: Actor, collection_id: str) -> Collection:
    """The collection `collection_id`: UnknownCollection when there is none, Forbidden when
    the actor's roles may not read it."""
    if collection_id != MAILBOX_ID:
        raise UnknownCollection(f"no collection {collection_id!r}")
    require(actor, Capability.READ_MESSAGES)
    require(actor, Capability.EXPORT_MESSAGES)
    return MAILBOX


# --- filters, positions, pages -------------------------------------------------------------


def timestamp(text: str, what: str) -> datetime:
    """A TAXII timestamp (RFC 3339, e.g. 2026-11-03T09:30:00.000Z) as an aware UTC time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TaxiiError(f"{what}: {text!r} is not a timestamp like 2026-11-03T09:30:00Z") from None
    if moment.tzinfo is None:
        raise TaxiiError(f"{what}: {text!r} has no time zone (end it in Z)")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _listed(text: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (text or "").split(",") if v.strip())


def _checked(values: frozenset[str], pattern: re.Pattern[str], what: str) -> frozenset[str]:
    for value in values:
        if not pattern.match(value):
            raise TaxiiError(f"match[{what}]: {value!r} is not a STIX {what}")
    return values


def limit_from(text: str | None) -> int:
    """The page size a client asked for (`limit`), at most MAX_LIMIT; DEFAULT_LIMIT if none."""
    if text is None or not text.strip():
        return DEFAULT_LIMIT
    try:
        asked = int(text)
    except ValueError:
        raise TaxiiError(f"limit: {text!r} is not a whole number") from None
    if asked < 1:
        raise TaxiiError(f"limit: {asked} is not a positive number")
    return min(asked, MAX_LIMIT)


@dataclass(frozen=True)
class Filters:
    """What a client asks for: objects added after a time, of some types, ids, versions (all
    when empty) and STIX versions."""

    added_after: datetime | None = None
    types: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    versions: frozenset[datetime] = frozenset()
    spec_versions: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls,
        added_after: str | None = None,
        types: str | None = None,
        ids: str | None = None,
        versions: str | None = None,
        spec_versions: str | None = None,
    ) -> Filters:
        """From the URL parameters `added_after`, `match[type]`, `match[id]`, `match[version]`
        and `match[spec_version]` (comma-separated lists)."""
        chosen: set[datetime] = set()
        for value in _listed(versions):
            if value not in ("first", "last", "all"):  # one version per object: all three agree
                chosen.add(timestamp(value, "match[version]"))
        return cls(
            added_after=timestamp(added_after, "added_after") if added_after else None,
            types=_checked(_listed(types), _TYPE, "type"),
            ids=_checked(_listed(ids), _ID, "id"),
            versions=frozenset(chosen),
            spec_versions=_listed(spec_versions),
        )

    def matches(self, obj: Mapping[str, Any]) -> bool:
        if self.types and obj["type"] not in self.types:
            return False
        if self.ids and obj["id"] not in self.ids:
            return False
        if self.versions and timestamp(_version(obj), "version") not in self.versions:
            return False
        return not self.spec_versions or obj.get("spec_version", "2.1") in self.spec_versions


def _version(obj: Mapping[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


@dataclass(frozen=True)
class Position:
    """Where an object stands in the collection: its message's time added and id, and its
    place in the message's bundle."""

    added: datetime
    message_id: str
    index: int

    def token(self) -> str:
        text = f"{_iso(self.added)}|{self.message_id}|{self.index}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Position:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            added, message_id, index = text.split("|")
            position = cls(timestamp(added, "next"), message_id, int(index))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise TaxiiError(f"next: {token!r} is not a token this server gave") from None
        if not access.MESSAGE_ID.match(position.message_id) or position.index < 0:
            raise TaxiiError(f"next: {token!r} is not a token this server gave")
        return position


@dataclass(frozen=True)
class Record:
    """An object of the collection, when it was added, and where it stands."""

    stix_object: dict[str, Any]
    date_added: datetime
    position: Position

    @property
    def id(self) -> str:
        return str(self.stix_object["id"])

    @property
    def version(self) -> str:
        return _version(self.stix_object)

    def manifest_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date_added": _iso(self.date_added),
            "version": self.version,
            "media_type": STIX_MEDIA_TYPE,
        }


@dataclass(frozen=True)
class Page:
    """Up to `limit` objects in collection order; `more` when the collection holds more."""

    records: tuple[Record, ...]
    more: bool

    @property
    def next(self) -> str | None:
        """The token that asks for the page after this one."""
        return self.records[-1].position.token() if self.more and self.records else None

    def _paged(self, name: str, items: list[Any]) -> dict[str, Any]:
        # TAXII lists are never empty: with nothing to list, the property is left out
        answer: dict[str, Any] = {"more": self.more}
        if self.next is not None:
            answer["next"] = self.next
        if items:
            answer[name] = items
        return answer

    def envelope(self) -> dict[str, Any]:
        """The TAXII envelope: the objects themselves."""
        return self._paged("objects", [r.stix_object for r in self.records])

    def manifest(self) -> dict[str, Any]:
        """The manifest resource: id, date added, version and media type of each object."""
        return self._paged("objects", [r.manifest_record() for r in self.records])

    def versions(self) -> dict[str, Any]:
        """The versions resource of one object."""
        return self._paged("versions", [r.version for r in self.records])

    def headers(self) -> dict[str, str]:
        """X-TAXII-Date-Added-First and -Last: the first and last date added of the page."""
        if not self.records:
            return {}
        return {
            "X-TAXII-Date-Added-First": _iso(self.records[0].date_added),
            "X-TAXII-Date-Added-Last": _iso(self.records[-1].date_added),
        }


# --- what a caller may pull ----------------------------------------------------------------


def _exportable(who: access.Reader, since: datetime | None) -> Subquery:
    """The caller's messages that may leave redlane as a bundle, each with the time it reached
    them (`added`); with `since`, only those that reached them at or after it."""
    first_delivery = (
        select(func.min(deliveries.c.delivered_at))
        .where(deliveries.c.message_id == messages.c.id, deliveries.c.address.in_(who.addresses))
        .scalar_subquery()
    )
    added = case(
        (messages.c.sender_agency_id == who.agency_id, messages.c.sent_at), else_=first_delivery
    )
    query = select(messages.c.id, added.label("added")).where(
        access.visible(who),
        # a supervisor sees restricted messages to check them, never to pass them on
        ~access.restricted(messages.c.id),
        exists().where(message_keys.c.message_id == messages.c.id),  # not erased
        messages.c.no_export.is_(False),
        messages.c.tlp != Tlp.RED.value,
    )
    if since is not None:
        # More than needed (a message that reached one desk before `since` and another after),
        # but through the indexes on deliveries and on sender and time: a pull reads what
        # arrived since, not every message the caller ever had. `added` decides exactly.
        arrived = select(deliveries.c.message_id).where(
            deliveries.c.address.in_(who.addresses), deliveries.c.delivered_at >= since
        )
        query = query.where(
            or_(
                messages.c.id.in_(arrived),
                and_(messages.c.sender_agency_id == who.agency_id, messages.c.sent_at >= since),
            )
        )
    return query.subquery("exportable")


def _after(table: Subquery, position: Position | None, *, inclusive: bool) -> ColumnElement[bool]:
    if position is None:
        return true()
    at = position.added
    same = table.c.id >= position.message_id if inclusive else table.c.id > position.message_id
    return or_(table.c.added > at, and_(table.c.added == at, same))


@dataclass(frozen=True)
class _Pull:
    db: Database
    actor: Actor
    purpose: str
    filters: Filters
    kek: Kek | None
    who: access.Reader

    def _messages_after(self, position: Position | None, *, inclusive: bool) -> Select[Any]:
        times = [self.filters.added_after] if self.filters.added_after else []
        if position is not None:
            times.append(position.added)
        table = _exportable(self.who, max(times, default=None))
        query = select(table).where(_after(table, position, inclusive=inclusive))
        if self.filters.added_after is not None:
            query = query.where(table.c.added > self.filters.added_after)
        return query.order_by(table.c.added, table.c.id)

    def rows(self, after: Position | None, *, inclusive: bool) -> list[Any]:
        query = self._messages_after(after, inclusive=inclusive).limit(_BATCH)
        # read and let go before exporting: on SQLite an open read would hold off the audit
        with self.db.engine.connect() as conn:
            return list(conn.execute(query))

    def any_after(self, position: Position) -> bool:
        query = self._messages_after(position, inclusive=False).limit(1)
        with self.db.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def definitions(self, skip_through: int) -> list[Record]:
        if self.filters.added_after is not None and self.filters.added_after >= DEFINITIONS_ADDED:
            return []
        return [
            Record(d, DEFINITIONS_ADDED, Position(DEFINITIONS_ADDED, _DEFINITIONS_PLACE, index))
            for index, d in enumerate(DEFINITIONS)
            if index > skip_through and self.filters.matches(d)
        ]

    def _may_match(self, message_id: str) -> bool:
        """Whether any object of the message can pass the filters, told without its content:
        a message none of whose objects can match is not exported (nor audited)."""
        if self.filters.types and not self.filters.types & _CONTENT_TYPES:
            return False
        wanted = self.filters.ids
        # a report's id follows from its message's; other objects' ids from their content
        if wanted and all(i.startswith("report--") or i in _DEFINITION_IDS for i in wanted):
            return stix.report_id(message_id) in wanted
        return True

    def records_of(self, row: Any, skip_through: int) -> list[Record]:
        """The objects of the message of `row` that the filters pass, after `skip_through`."""
        if not self._may_match(row.id):
            return []
        try:
            bundle = stix.export_stored(self.db, self.actor, row.id, self.purpose, kek=self.kek)
        except (mailbox.NotFound, mailbox.Refused, mailbox.Erased):
            # hidden, restricted or erased since the query: skipped, as if it had not been there
            return []
        added = utc(row.added)
        return [
            Record(obj, added, Position(added, row.id, index))
            for index, obj in enumerate(bundle["objects"])
            if index > skip_through
            and obj["id"] not in _DEFINITION_IDS
            and self.filters.matches(obj)
        ]

    def records(self, start: Position | None) -> Iterator[list[Record]]:
        """The definitions, then the records of each message, from `start` on, in collection
        order, read lazily: a message is exported only when the page has room for it."""

        def skip_through(place: str) -> int:
            return start.index if start is not None and start.message_id == place else -1

        if start is None or start.message_id == _DEFINITIONS_PLACE:
            yield self.definitions(skip_through(_DEFINITIONS_PLACE))
        after, inclusive = start, True
        while rows := self.rows(after, inclusive=inclusive):
            for row in rows:
                yield self.records_of(row, skip_through(row.id))
            last = rows[-1]
            after, inclusive = Position(utc(last.added), last.id, 0), False


def collection_objects(
    db: Database,
    actor: Actor,
    purpose: str,
    *,
    collection_id: str = MAILBOX_ID,
    filters: Filters | None = None,
    limit: int = DEFAULT_LIMIT,
    next: str | None = None,
    kek: Kek | None = None,
) -> Page:
    """A page of the collection's objects that pass `filters`, from the start or from the
    `next` token of the page before: at most `limit`, in the order they were added. Each
    message read is exported (and audited, with `purpose`) once; `more` says the collection
    may hold more (it can be followed by an empty page when the filters pass nothing more).
    UnknownCollection, Forbidden (roles), TaxiiError (limit, next), MailboxError (purpose)."""
    collection(actor, collection_id)
    why = mailbox.checked_purpose(purpose)
    if not 1 <= limit <= MAX_LIMIT:
        raise TaxiiError(f"limit: 1 to {MAX_LIMIT}")
    start = Position.from_token(next) if next else None
    with db.engine.connect() as conn:
        who = access.reader(conn, actor)
    if not who.can_read or who.agency_id is None:
        return Page((), more=False)
    pull = _Pull(db, actor, why, filters or Filters(), kek, who)
    records: list[Record] = []
    for found in pull.records(start):
        room = limit - len(records)
        records.extend(found[:room])
        if len(found) > room:
            return Page(tuple(records), more=True)
        if len(records) == limit:
            return Page(tuple(records), more=pull.any_after(records[-1].position))
    return Page(tuple(records), more=False)


def object_versions(
    db: Database,
    actor: Actor,
    purpose: str,
    object_id: str,
    *,
    collection_id: str = MAILBOX_ID,
    filters: Filters | None = None,
    limit: int = DEFAULT_LIMIT,
    next: str | None = None,
    kek: Kek | None = None,
) -> Page:
    """The versions of one object (TAXII's Get An Object and Get Object Versions), as
    `collection_objects` pages; UnknownObject when the collection has none for the actor."""
    if not _ID.match(object_id):
        raise UnknownObject(f"no object {object_id!r}")
    only = replace(filters or Filters(), ids=frozenset({object_id}))
    page = collection_objects(
        db,
        actor,
        purpose,
        collection_id=collection_id,
        filters=only,
        limit=limit,
        next=next,
        kek=kek,
    )
    if not page.records and next is None:
        raise UnknownObject(f"no object {object_id!r}")
    return page
