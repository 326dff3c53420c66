"""Need-to-know hit/no-hit queries (Prüm-style) across the node's mailbox.

Automatic correlation (MISP-style) would show the asker other services' records. For personal
data in law enforcement a match instead raises a *hit notification to the data owner*: the
asker learns hit or no-hit and which agencies hold something, never which messages, how many
or what they say; the holding agency decides, by a human, whether to release them (the
messages are then forwarded to the asking agency through `mailbox.forward`) or to decline.

Rules of a query on an entity (`container:MSCU1234567`, `person:Jan de Vries`), looked up by
its indexed key (`mailbox.entity_key`: clear for conveyances, containers and companies, a keyed
hash for people, so the query never stores a person's name):

- only messages the asker may not see already count (those `mailbox.search` finds are theirs);
- not a message restricted by retention, nor one erased (its key destroyed);
- not a message marked TLP:RED (named recipients only) or TLP:AMBER+STRICT (the recipients'
  own organisation only): their very existence is not for another agency (`UNREVEALED`);
- the holder is the message's sending agency: one hit per holding agency and query.

A hit is decided once: released or declined, by a user of the holding agency who may send
messages. Asking, listing pending hits, releasing and declining are audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, exists, insert, select, update

from redlane.exchange import mailbox
from redlane.exchange.access import Reader, reader, restricted, visible
from redlane.exchange.crypto import Kek, load_kek
from redlane.exchange.model import EntityKind, Tlp
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, Forbidden, require
from redlane.store.database import Database, utc
from redlane.store.schema import (
    agencies,
    hit_messages,
    hit_queries,
    hits,
    message_entities,
    message_keys,
    messages,
)

QUERY_KIND = "hit_query"
HIT_KIND = "hit"
PENDING_PURPOSE = "hit notifications"
NO_SUCH_HIT = "no such hit"
#: Markings whose messages are not revealed to another agency, not even as a hit.
UNREVEALED = frozenset({Tlp.RED.value, Tlp.AMBER_STRICT.value})
State = Literal["pending", "released", "declined"]


class HitNotFound(LookupError):
    """No such hit, or one not addressed to the caller's agency: never told apart."""

    def __init__(self) -> None:
        super().__init__(NO_SUCH_HIT)


class AlreadyDecided(RuntimeError):
    """The hit was released or declined already: a hit is decided once."""

    def __init__(self, hit_id: str, state: str) -> None:
        super().__init__(f"hit {hit_id} is already {state}; a hit is decided once")
        self.hit_id = hit_id
        self.state = state


@dataclass(frozen=True)
class HitQuery:
    """What the asker learns: hit or no-hit, and the agencies that hold something."""

    id: str
    hit: bool
    holders: list[str]
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hit": self.hit, "holders": self.holders,
                "at": self.at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class PendingHit:
    """A hit against the holder's agency, waiting for its decision."""

    id: str
    asked_by: str
    asker_agency: str
    purpose: str
    entity_kind: EntityKind
    asked_at: datetime
    message_ids: list[str]
    """The holder's own messages that matched (their agency sent them)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "asked_by": self.asked_by,
            "asker_agency": self.asker_agency,
            "purpose": self.purpose,
            "entity_kind": self.entity_kind.value,
            "asked_at": self.asked_at.isoformat(),
            "message_ids": self.message_ids,
        }


@dataclass(frozen=True)
class Decided:
    """A hit's decision; at release, what became of each message (forwarded, or refused)."""

    id: str
    state: State
    to: str
    at: datetime
    forwarded: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """Message id -> the rule that refused its forward (e.g. `restricted`, `erased`)."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "to": self.to, "at": self.at.isoformat(),
                "forwarded": self.forwarded, "refused": self.refused}  # fmt: skip


@dataclass(frozen=True)
class AskedQuery:
    """One of the asking agency's queries, with each holder's state and nothing more."""

    id: str
    asked_by: str
    asked_at: datetime
    entity_kind: EntityKind
    purpose: str
    holders: dict[str, State]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "asked_by": self.asked_by, "asked_at": self.asked_at.isoformat(),
                "entity_kind": self.entity_kind.value, "purpose": self.purpose,
                "holders": self.holders}  # fmt: skip


def _agency_reader(conn: Connection, actor: Actor) -> Reader:
    who = reader(conn, actor)
    if who.agency_id is None:
        raise Forbidden(f"{actor.username}: hits are asked and decided by users of an agency")
    return who


def _codes(conn: Connection) -> dict[int, str]:
    return {i: c for i, c in conn.execute(select(agencies.c.id, agencies.c.code))}


def ask(
    db: Database,
    actor: Actor,
    entity: str,
    purpose: str,
    *,
    kek: Kek | None = None,
    now: datetime | None = None,
) -> HitQuery:
    """Does any other agency hold something on `entity` that the actor may not see? Stores
    the query (the entity as its indexed key) and one pending hit per holding agency; answers
    hit/no-hit and the holders' codes. Needs read_messages; audited (search) in the same
    transaction."""
    why = mailbox.checked_purpose(purpose)
    require(actor, Capability.READ_MESSAGES)
    kind, identifier = mailbox.parse_entity(entity)
    key = mailbox.entity_key(kind, identifier, kek if kek is not None else load_kek())
    moment = mailbox.now_or(now)
    query_id = mailbox.new_id(moment)
    with db.engine.begin() as conn:
        who = _agency_reader(conn, actor)
        found = conn.execute(
            select(messages.c.id, messages.c.sender_agency_id)
            .where(
                exists().where(
                    message_entities.c.message_id == messages.c.id,
                    message_entities.c.kind == kind.value,
                    message_entities.c.key == key,
                ),
                ~visible(who),
                ~restricted(messages.c.id),
                exists().where(message_keys.c.message_id == messages.c.id),
                messages.c.tlp.not_in(sorted(UNREVEALED)),
            )
            .order_by(messages.c.id)
        ).all()
        held: dict[int, list[str]] = defaultdict(list)
        for message_id, agency_id in found:
            held[agency_id].append(message_id)
        codes = _codes(conn)
        conn.execute(
            insert(hit_queries).values(
                id=query_id, asked_at=moment, asked_by=actor.username, agency_id=who.agency_id,
                entity_kind=kind.value, entity_key=key, purpose=why,
            )
        )  # fmt: skip
        hit_ids = {}
        for agency_id in sorted(held, key=codes.__getitem__):
            hit_id = hit_ids[codes[agency_id]] = mailbox.new_id(moment)
            conn.execute(
                insert(hits).values(
                    id=hit_id, query_id=query_id, holder_agency_id=agency_id, state="pending"
                )
            )
            conn.execute(
                insert(hit_messages), [{"hit_id": hit_id, "message_id": m} for m in held[agency_id]]
            )
        audit.append(conn, actor, audit.Action.SEARCH, why, QUERY_KIND, query_id,
                     {"entity": f"{kind.value}:{key}", "hits": hit_ids}, at=moment)  # fmt: skip
    return HitQuery(query_id, bool(hit_ids), list(hit_ids), moment)


def pending_hits(db: Database, holder_actor: Actor) -> list[PendingHit]:
    """Hits against the actor's agency waiting for a decision, oldest first: who asked, why,
    on what kind of entity, when, and the agency's matching messages (those the actor may
    still see). Needs read_messages; audited."""
    require(holder_actor, Capability.READ_MESSAGES)
    with db.engine.connect() as conn:
        who = _agency_reader(conn, holder_actor)
        codes = _codes(conn)
        rows = conn.execute(
            select(hits.c.id, hit_queries)
            .join(hit_queries, hit_queries.c.id == hits.c.query_id)
            .where(hits.c.holder_agency_id == who.agency_id, hits.c.state == "pending")
            .order_by(hit_queries.c.asked_at, hits.c.id)
        ).all()
        ids = [r[0] for r in rows]
        behind: dict[str, list[str]] = defaultdict(list)
        if ids:
            for hit_id, message_id in conn.execute(
                select(hit_messages.c.hit_id, hit_messages.c.message_id)
                .join(messages, messages.c.id == hit_messages.c.message_id)
                .where(
                    hit_messages.c.hit_id.in_(ids),
                    visible(who),
                    exists().where(message_keys.c.message_id == messages.c.id),
                )
                .order_by(hit_messages.c.message_id)
            ):
                behind[hit_id].append(message_id)
    found = [
        PendingHit(r[0], r.asked_by, codes[r.agency_id], r.purpose, EntityKind(r.entity_kind),
                   utc(r.asked_at), behind[r[0]])
        for r in rows
    ]  # fmt: skip
    audit.record(db, holder_actor, audit.Action.READ, PENDING_PURPOSE, HIT_KIND, "pending",
                 {"hits": ids})  # fmt: skip
    return found


def _claim(
    conn: Connection, who: Reader, hit_id: str, state: State, by: str, note: str, at: datetime
) -> tuple[str, list[str]]:
    """Decide a pending hit addressed to the reader's agency; the asking agency's code and
    the hit's message ids. HitNotFound or AlreadyDecided otherwise."""
    row = conn.execute(
        select(hits.c.state, hit_queries.c.agency_id)
        .join(hit_queries, hit_queries.c.id == hits.c.query_id)
        .where(hits.c.id == hit_id, hits.c.holder_agency_id == who.agency_id)
    ).first()
    if row is None:
        raise HitNotFound()
    # only a pending hit changes: of two decisions at once, one wins and the other is told
    changed = conn.execute(
        update(hits)
        .where(hits.c.id == hit_id, hits.c.state == "pending")
        .values(state=state, decided_at=at, decided_by=by, note=note)
    ).rowcount
    if changed != 1:
        now_state = conn.execute(select(hits.c.state).where(hits.c.id == hit_id)).scalar_one()
        raise AlreadyDecided(hit_id, now_state)
    ids = list(
        conn.execute(
            select(hit_messages.c.message_id)
            .where(hit_messages.c.hit_id == hit_id)
            .order_by(hit_messages.c.message_id)
        ).scalars()
    )
    return _codes(conn)[row.agency_id], ids


def release(
    db: Database,
    holder_actor: Actor,
    hit_id: str,
    purpose: str,
    *,
    kek: Kek | None = None,
    now: datetime | None = None,
) -> Decided:
    """Release a hit: its messages are forwarded to the asking agency with `mailbox.forward`
    (the sender's handling applies; a refused forward is named in `refused`, not hidden).
    Needs send_messages; audited (the decision, and each forward by the mailbox)."""
    why = mailbox.checked_purpose(purpose)
    require(holder_actor, Capability.SEND_MESSAGES)
    moment = mailbox.now_or(now)
    # decided first, in its own transaction: a concurrent decline cannot follow a forward
    with db.engine.begin() as conn:
        who = _agency_reader(conn, holder_actor)
        asker, ids = _claim(conn, who, hit_id, "released", holder_actor.username, why, moment)
        audit.append(conn, holder_actor, audit.Action.FORWARD, why, HIT_KIND, hit_id,
                     {"to": f"agency:{asker}", "messages": ids}, at=moment)  # fmt: skip
    outcomes: dict[str, str] = {}
    for message_id in ids:
        try:
            mailbox.forward(db, holder_actor, message_id, [f"agency:{asker}"], why, now=moment,
                            kek=kek)  # fmt: skip
            outcomes[message_id] = "forwarded"
        except mailbox.Refused as exc:
            outcomes[message_id] = exc.decision.rule
        except mailbox.Erased:
            outcomes[message_id] = "erased"
        except mailbox.NotFound:  # restricted since, or no longer the actor's to see
            outcomes[message_id] = "not_visible"
        except mailbox.Tampered:
            outcomes[message_id] = "tampered"
    with db.engine.begin() as conn:
        for message_id, outcome in outcomes.items():
            conn.execute(
                update(hit_messages)
                .where(hit_messages.c.hit_id == hit_id, hit_messages.c.message_id == message_id)
                .values(outcome=outcome)
            )
    forwarded = [m for m, o in outcomes.items() if o == "forwarded"]
    refused = {m: o for m, o in outcomes.items() if o != "forwarded"}
    return Decided(hit_id, "released", asker, moment, forwarded, refused)


def decline(
    db: Database,
    holder_actor: Actor,
    hit_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> Decided:
    """Decline a hit: nothing is forwarded; the asker sees `declined`. Needs send_messages
    (the same users who could release); audited with the reason."""
    if not reason or not reason.strip():
        raise mailbox.MailboxError("reason: say why the hit is declined; it is audited")
    require(holder_actor, Capability.SEND_MESSAGES)
    moment = mailbox.now_or(now)
    with db.engine.begin() as conn:
        who = _agency_reader(conn, holder_actor)
        asker, ids = _claim(conn, who, hit_id, "declined", holder_actor.username,
                            reason.strip(), moment)  # fmt: skip
        audit.append(conn, holder_actor, audit.Action.ALTER, reason.strip(), HIT_KIND, hit_id,
                     {"state": "declined", "asker": asker, "messages": ids}, at=moment)  # fmt: skip
    return Decided(hit_id, "declined", asker, moment)


def my_queries(db: Database, actor: Actor, *, limit: int = 100) -> list[AskedQuery]:
    """The queries of the actor's agency, newest first, each with its holders' states
    (pending, released, declined) and nothing about their messages. Needs read_messages."""
    require(actor, Capability.READ_MESSAGES)
    if not 1 <= limit <= mailbox.MAX_LIMIT:
        raise mailbox.MailboxError(f"limit: 1 to {mailbox.MAX_LIMIT}")
    with db.engine.connect() as conn:
        who = _agency_reader(conn, actor)
        codes = _codes(conn)
        rows = conn.execute(
            select(hit_queries)
            .where(hit_queries.c.agency_id == who.agency_id)
            .order_by(hit_queries.c.asked_at.desc(), hit_queries.c.id.desc())
            .limit(limit)
        ).all()
        states: dict[str, dict[str, State]] = defaultdict(dict)
        if rows:
            for query_id, agency_id, state in conn.execute(
                select(hits.c.query_id, hits.c.holder_agency_id, hits.c.state).where(
                    hits.c.query_id.in_([r.id for r in rows])
                )
            ):
                states[query_id][codes[agency_id]] = state
    return [
        AskedQuery(r.id, r.asked_by, utc(r.asked_at), EntityKind(r.entity_kind), r.purpose,
                   dict(sorted(states[r.id].items())))
        for r in rows
    ]  # fmt: skip


__all__ = [
    "UNREVEALED",
    "AlreadyDecided",
    "AskedQuery",
    "Decided",
    "HitNotFound",
    "HitQuery",
    "PendingHit",
    "ask",
    "decline",
    "my_queries",
    "pending_hits",
    "release",
]
