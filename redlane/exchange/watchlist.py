"""Watchlist entries: what an active CIS alert or mode notice asks targeting to look out for.

Each subject entity of an alert or notice (a vessel, container, company, person or vehicle)
becomes an entry with the key it is compared by (`redlane.screening.normalise`), the validity
of the message and its suggested action. Targeting reads the `watchlist` table and never hears
of messages otherwise (DESIGN: exchange feeds targeting only through watchlist entries and
profiles); the mailbox calls `add_entries(db, entries_from(...))` when it stores an alert or a
notice.

    entries = entries_from("NL-2026-0042", "NL-FIOD", notice, sent_at)
    add_entries(db, entries)
    active_entries(db, on=date(2026, 11, 2))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy import and_, select, tuple_, update

from redlane.exchange.model import (
    Entity,
    EntityKind,
    Grading,
    Handling,
    Message,
    SuggestedAction,
)
from redlane.model.base import RedlaneModel
from redlane.model.codes import NonEmpty
from redlane.screening.normalise import identifier_key, name_key, person_key, vessel_key
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database, utc
from redlane.store.schema import watchlist

#: The subjects targeting can recognise in stored traffic; phones, addresses and aircraft of a
#: message stay in the mailbox (no stored target carries them as a field yet).
WATCHED_KINDS = frozenset(
    {EntityKind.VESSEL, EntityKind.CONTAINER, EntityKind.COMPANY, EntityKind.PERSON,
     EntityKind.VEHICLE}
)  # fmt: skip

#: What the mode column says for a CIS alert (a notice gives its own mode).
CIS = "CIS"

#: The purpose the audit log records for a watchlist read when the reader gives none.
WATCHLIST_PURPOSE = "watchlist review"


class WatchlistEntry(RedlaneModel):
    """One identifying key of one subject of an alert or notice, valid for some days."""

    id: int | None = None
    """Set once stored."""
    message_id: NonEmpty
    sender_agency: NonEmpty
    mode: NonEmpty
    """CIS for an alert; MAR, YACHT, AIR, CARGO or BALKAN for a mode notice."""
    entity: Entity
    scheme: NonEmpty
    """What the key is: imo, mmsi, call_sign or name (vessels), number (containers), plate
    (vehicles), name (companies, persons) or document (a person's travel document)."""
    key: NonEmpty
    suggested_action: SuggestedAction
    valid_from: date
    valid_until: date
    grading: Grading
    handling: Handling
    expired_at: AwareDatetime | None = None

    @property
    def entity_kind(self) -> EntityKind:
        return self.entity.kind

    @property
    def source_label(self) -> str:
        """'MAR-Info notice' or 'CIS alert', for reasons and replies."""
        return "CIS alert" if self.mode == CIS else f"{self.mode}-Info notice"


def _keys(entity: Entity) -> list[tuple[str, str]]:
    """The (scheme, key) pairs an entity is recognised by."""
    if entity.kind == EntityKind.VESSEL:
        return [vessel_key(entity.identifier)]
    if entity.kind == EntityKind.CONTAINER:
        return [("number", identifier_key(entity.identifier))]
    if entity.kind == EntityKind.VEHICLE:
        return [("plate", identifier_key(entity.identifier))]
    if entity.kind == EntityKind.COMPANY:
        return [("name", name_key(entity.identifier))]
    # A person is named by their name; an identifier with digits is a travel document number,
    # and then the name, if given, is a second way to recognise them.
    if any(c.isdigit() for c in entity.identifier):
        keys = [("document", identifier_key(entity.identifier))]
        return keys + ([("name", person_key(entity.name))] if entity.name else [])
    return [("name", person_key(entity.identifier))]


def entries_from(
    message_id: str, sender_agency: str, message: Message, sent_at: datetime
) -> list[WatchlistEntry]:
    """The watchlist entries of an alert or a mode notice: one per subject entity (two for a
    person known by document and name), valid from the day it was sent (UTC) until the
    message's `valid_until`. Other message kinds are refused with the reason."""
    where = f"message {message_id}"
    if sent_at.tzinfo is None:
        raise ValueError(f"{where}: sent_at needs a time zone")
    if message.alert is not None:
        mode, action, until = CIS, message.alert.suggested_action, message.alert.valid_until
    elif message.notice is not None:
        notice = message.notice
        mode, action, until = notice.mode.value, notice.suggested_action, notice.valid_until
    else:
        raise ValueError(
            f"{where}: a {message.kind.value} is no CIS alert or mode notice, so it makes no "
            "watchlist entry"
        )
    since = sent_at.astimezone(UTC).date()
    if until < since:
        raise ValueError(f"{where}: valid_until {until} is before the day it was sent ({since})")
    entries: dict[tuple[str, str, str], WatchlistEntry] = {}
    for entity in message.entities:
        if entity.kind not in WATCHED_KINDS:
            continue
        for scheme, key in _keys(entity):
            if not key:
                raise ValueError(
                    f"{where}: {entity.kind.value} {entity.identifier!r} has no letters or "
                    "digits to recognise it by"
                )
            entries.setdefault(
                (entity.kind.value, scheme, key),
                WatchlistEntry(
                    message_id=message_id, sender_agency=sender_agency, mode=mode,
                    entity=entity, scheme=scheme, key=key, suggested_action=action,
                    valid_from=since, valid_until=until, grading=message.grading,
                    handling=message.handling,
                ),
            )  # fmt: skip
    return list(entries.values())


def entry_row(entry: WatchlistEntry, now: datetime) -> dict[str, Any]:
    """The store row of an entry added at `now`."""
    return {
        "message_id": entry.message_id,
        "sender_agency": entry.sender_agency,
        "mode": entry.mode,
        "entity_kind": entry.entity.kind.value,
        "scheme": entry.scheme,
        "key": entry.key,
        "date_of_birth": entry.entity.date_of_birth,
        "entity": entry.entity.model_dump_json(exclude_none=True),
        "suggested_action": entry.suggested_action.value,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "grading": entry.grading.model_dump_json(exclude_none=True),
        "handling": entry.handling.model_dump_json(),
        "added_at": now,
    }


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def entry_from_row(row: Any) -> WatchlistEntry:
    m = row._mapping
    return WatchlistEntry(
        id=m["id"], message_id=m["message_id"], sender_agency=m["sender_agency"],
        mode=m["mode"], entity=Entity.model_validate_json(m["entity"]), scheme=m["scheme"],
        key=m["key"], suggested_action=SuggestedAction(m["suggested_action"]),
        valid_from=m["valid_from"], valid_until=m["valid_until"],
        grading=Grading.model_validate_json(m["grading"]),
        handling=Handling.model_validate_json(m["handling"]),
        expired_at=_aware(m["expired_at"]),
    )  # fmt: skip


def add_entries(db: Database, entries: Iterable[WatchlistEntry]) -> int:
    """Store entries; one already stored (same message, kind, scheme and key) is kept as it
    was, so storing a message twice adds nothing. Returns how many were added."""
    wanted = {(e.message_id, e.entity.kind.value, e.scheme, e.key): e for e in entries}
    if not wanted:
        return 0
    columns = (watchlist.c.message_id, watchlist.c.entity_kind, watchlist.c.scheme, watchlist.c.key)
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        messages = sorted({k[0] for k in wanted})
        stored = {
            tuple(r)
            for r in conn.execute(select(*columns).where(watchlist.c.message_id.in_(messages)))
        }
        rows = [entry_row(e, now) for k, e in wanted.items() if k not in stored]
        if rows:
            conn.execute(watchlist.insert(), rows)
    return len(rows)


def entries(db: Database, message_id: str | None = None) -> list[WatchlistEntry]:
    """Every stored entry (of one message), active or not, in the order they were added."""
    query = select(watchlist).order_by(watchlist.c.id)
    if message_id is not None:
        query = query.where(watchlist.c.message_id == message_id)
    with db.engine.connect() as conn:
        return [entry_from_row(r) for r in conn.execute(query)]


def active_entries(db: Database, on: date) -> list[WatchlistEntry]:
    """Entries in force on a day: sent on or before it and valid until it or later."""
    query = (
        select(watchlist)
        .where(watchlist.c.valid_from <= on, watchlist.c.valid_until >= on)
        .order_by(watchlist.c.id)
    )
    with db.engine.connect() as conn:
        return [entry_from_row(r) for r in conn.execute(query)]


def expire(
    db: Database,
    message_id: str,
    on: date,
    reason: str,
    entity_kind: EntityKind | None = None,
) -> list[WatchlistEntry]:
    """End a message's entries (or those of one entity kind) from `on`: they are last valid
    the day before. Earlier days keep them, so a back-test sees what officers saw then. An
    entry already over by then is left alone. Returns the entries ended."""
    if not reason.strip():
        raise ValueError("reason: say why the entries end (withdrawn, subject found, ...)")
    last = on - timedelta(days=1)
    condition = and_(watchlist.c.message_id == message_id, watchlist.c.valid_until > last)
    if entity_kind is not None:
        condition = and_(condition, watchlist.c.entity_kind == EntityKind(entity_kind).value)
    with db.engine.begin() as conn:
        ids = [r.id for r in conn.execute(select(watchlist.c.id).where(condition))]
        if ids:
            conn.execute(
                update(watchlist)
                .where(watchlist.c.id.in_(ids))
                .values(valid_until=last, expired_at=datetime.now(UTC), expired_reason=reason)
            )
        rows = conn.execute(select(watchlist).where(watchlist.c.id.in_(ids)).order_by("id"))
        return [entry_from_row(r) for r in rows]


def entries_by_keys(
    db: Database, keys: Sequence[tuple[str, str, str]], on: date
) -> list[WatchlistEntry]:
    """Entries in force on `on` with these (entity kind, scheme, key) triples."""
    if not keys:
        return []
    columns = tuple_(watchlist.c.entity_kind, watchlist.c.scheme, watchlist.c.key)
    query = select(watchlist).where(
        columns.in_(list(keys)), watchlist.c.valid_from <= on, watchlist.c.valid_until >= on
    )
    with db.engine.connect() as conn:
        return [entry_from_row(r) for r in conn.execute(query.order_by(watchlist.c.id))]


def audited_active_entries(
    db: Database, actor: Actor, on: date, purpose: str = WATCHLIST_PURPOSE
) -> list[WatchlistEntry]:
    """`active_entries` for someone: needs read_worklist (officers act on the entries) and the
    read is audited, since entries name persons."""
    require(actor, Capability.READ_WORKLIST)
    found = active_entries(db, on)
    details = {"on": on.isoformat(), "entries": [e.id for e in found]}
    audit.record(db, actor, audit.Action.READ, purpose, "watchlist", on.isoformat(), details)
    return found


def audited_expire(
    db: Database,
    actor: Actor,
    message_id: str,
    on: date,
    reason: str,
    entity_kind: EntityKind | None = None,
) -> list[WatchlistEntry]:
    """`expire` for someone who handles messages (send_messages), audited as an alteration."""
    require(actor, Capability.SEND_MESSAGES)
    ended = expire(db, message_id, on, reason, entity_kind)
    details = {"on": on.isoformat(), "entries": [e.id for e in ended], "reason": reason}
    audit.record(db, actor, audit.Action.ALTER, reason, "watchlist", message_id, details)
    return ended


def describe(entry: WatchlistEntry) -> str:
    """'vessel imo 9319466 (MSC EXAMPLE)': what an entry watches, for lists and replies."""
    named = f" ({entry.entity.name})" if entry.entity.name else ""
    return f"{entry.entity.kind.value} {entry.scheme} {entry.entity.identifier}{named}"
