"""Sighting replies drafted from targeting hits on the watchlist.

When a targeting run selects a target because it matched an alert or a notice (its reasons cite
the message), the sender asked for a result: `draft_sightings_for_run` drafts one SIGHTING reply
per cited message and run, naming what was selected, when and where, and which of the message's
subjects it matched, typed as `Feedback(outcome=seen)` on the day and at the place of the
earliest selection. Drafts wait in `sighting_drafts` for an officer to check them; a target is
reported once per message, however many runs select it again. `send_draft` sends one through
the mailbox as a reply in the thread of the message it answers (to its sender) and marks it
sent; `discard_draft` drops one with a reason.

    run = target(db, profiles, window)
    drafts = draft_sightings_for_run(db, run.run_id)
    send_draft(db, officer, drafts[0].id)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select, update

from redlane.exchange import mailbox
from redlane.exchange.crypto import Kek
from redlane.exchange.model import Feedback, Message, MessageKind, Outcome
from redlane.exchange.watchlist import WatchlistEntry, describe, entries
from redlane.model.codes import LOCODE_PATTERN
from redlane.reference import place_label
from redlane.screening.subjects import stored_subject_keys
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database, utc
from redlane.store.schema import consignments, selections, sighting_drafts, sighting_targets

DRAFT = "draft"
#: Claimed by one `send_draft` while the mailbox sends it: no second call can send it too.
SENT = "sent"
DISCARDED = "discarded"
#: The audit log's object kind for one draft.
OBJECT_KIND = "sighting_draft"


class DraftError(mailbox.MailboxError):
    """A sighting draft that cannot be sent or discarded; the message names the draft."""


class UnknownDraft(DraftError):
    """No sighting draft with that id."""

    def __init__(self, draft_id: int) -> None:
        super().__init__(f"draft {draft_id}: no sighting draft with that id")
        self.draft_id = draft_id


class DraftNotWaiting(DraftError):
    """The draft was sent, discarded, or is being sent by someone else."""

    def __init__(self, draft_id: int, status: str) -> None:
        super().__init__(f"draft {draft_id}: not waiting to be sent, it is {status}")
        self.draft_id = draft_id
        self.status = status


@dataclass(frozen=True)
class Seen:
    """One selection and the entries of one message it matched."""

    selection: Mapping[str, Any]
    """A row of the selections table (target, office, day, lane, score, run)."""
    entries: tuple[WatchlistEntry, ...]
    place: str | None = None
    """Where it was selected (UN/LOCODE); None when the selection's office is one."""


@dataclass(frozen=True)
class SightingDraft:
    id: int
    message_id: str
    """The alert or notice it answers."""
    addressee: str
    """The agency that sent the alert or notice."""
    run_id: int
    status: str
    created_at: datetime
    message: Message
    sent_message_id: str | None = None
    """The mailbox's id of the reply, once sent."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "addressee": self.addressee,
            "run_id": self.run_id,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "sent_message_id": self.sent_message_id,
            "message": self.message.model_dump(mode="json"),
        }


def _line(seen: Seen) -> str:
    s = seen.selection
    matched = "; ".join(describe(e) for e in seen.entries)
    return (
        f"- {s['day']}, at {place_label(s['office'])}: {s['target_kind']} {s['target_ref']} "
        f"({s['mode']}) selected for control, {s['lane']} lane, score {s['score']} "
        f"(targeting run {s['run_id']}); it matched {matched}."
    )


def _feedback(seen: Sequence[Seen]) -> Feedback:
    """Seen, on the day and at the place of the earliest selection, naming the targets."""
    first = min(seen, key=lambda s: s.selection["day"])
    place = first.place or first.selection["office"]
    if not re.match(LOCODE_PATTERN, place or ""):
        raise ValueError(
            f"seen: selection {first.selection.get('id')} was made at office {place!r}, no "
            "UN/LOCODE: give the place it was selected at"
        )
    refs = dict.fromkeys(str(s.selection["target_ref"]) for s in seen)
    return Feedback(
        outcome=Outcome.SEEN, at=first.selection["day"], place=place, control_ref=", ".join(refs)
    )


def draft_sighting(seen: Sequence[Seen]) -> Message:
    """The SIGHTING reply to one alert or notice for the selections that matched it: in reply
    to the message, with the matched subjects as entities, the original's grading and
    handling, and the feedback `seen` on the earliest selection's day and place with the
    targets' references. Every `Seen` must be of the same message; ValueError when the
    earliest has no place given and its office is no UN/LOCODE."""
    if not seen or not all(s.entries for s in seen):
        raise ValueError("seen: a sighting needs at least one selection with its matched entries")
    first = seen[0].entries[0]
    others = {e.message_id for s in seen for e in s.entries} - {first.message_id}
    if others:
        raise ValueError(
            f"seen: a sighting answers one message, not {first.message_id} and {sorted(others)}"
        )
    subjects: dict[tuple[str, str], Any] = {}
    for s in seen:
        for e in s.entries:
            subjects.setdefault((e.entity.kind.value, e.entity.identifier), e.entity)
    named = ", ".join(f"{kind} {identifier}" for kind, identifier in subjects)
    action = first.suggested_action.value.replace("_", " ")
    facts = "\n".join(
        [
            f"Seen here on the subjects of {first.source_label} {first.message_id}:",
            *(_line(s) for s in seen),
            f"The {first.source_label} asked for: {action}.",
        ]
    )
    return Message(
        kind=MessageKind.SIGHTING,
        subject=f"Sighting: {named} ({first.source_label} {first.message_id})",
        facts=facts,
        entities=list(subjects.values()),
        grading=first.grading,
        handling=first.handling,
        feedback=_feedback(seen),
        in_reply_to=first.message_id,
    )


def _cited(reasons: str) -> list[str]:
    """Message ids the reasons of a selection cite."""
    found: list[str] = []
    for reason in json.loads(reasons):
        cites = reason.get("cites") if isinstance(reason, dict) else None
        if cites:
            found.extend(m for m in cites.get("messages") or [cites["message"]] if m not in found)
    return found


def _matched(
    entries_of: Sequence[WatchlistEntry], keys: set[tuple[str, str, str, Any]], day: Any
) -> tuple[WatchlistEntry, ...]:
    """The entries in force on `day` whose key one of the target's subjects has (a subject
    known with a date of birth matches only an entry with the same date)."""
    return tuple(
        e
        for e in entries_of
        if e.valid_from <= day <= e.valid_until
        and any(
            (k, s, v) == (e.entity.kind.value, e.scheme, e.key)
            and (born is None or born == e.entity.date_of_birth)
            for k, s, v, born in keys
        )
    )


def _places(db: Database, rows: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Where each selection was made, by selection id, as a UN/LOCODE: its office when that is
    one (a traveller's or conveyance's place of arrival), else the place of discharge of a
    consignment declared at a customs office (NL000396)."""
    found = {r["id"]: r["office"] for r in rows if re.match(LOCODE_PATTERN, r["office"] or "")}
    declared = {
        r["id"]: r["target_id"]
        for r in rows
        if r["id"] not in found and r["target_kind"] == "consignment"
    }
    if not declared:
        return found
    query = select(consignments.c.id, consignments.c.place_of_discharge).where(
        consignments.c.id.in_(sorted(set(declared.values())))
    )
    with db.engine.connect() as conn:
        discharged = {i: place for i, place in conn.execute(query)}
    for selection_id, consignment_id in declared.items():
        if consignment_id in discharged:
            found[selection_id] = discharged[consignment_id]
    return found


def draft_sightings_for_run(db: Database, run_id: int) -> list[SightingDraft]:
    """Draft and store a sighting reply per message that the run's selections cite, for the
    targets no earlier draft reported to that message. Returns the new drafts."""
    with db.engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(selections)
                .where(selections.c.run_id == run_id, selections.c.reasons.contains('"cites"'))
                .order_by(selections.c.id)
            )
        ]
        reported = {
            tuple(r)
            for r in conn.execute(
                select(
                    sighting_targets.c.message_id,
                    sighting_targets.c.target_kind,
                    sighting_targets.c.target_id,
                )
            )
        }
    keys: dict[tuple[str, int], set[tuple[str, str, str, Any]]] = {}
    for kind in {r["target_kind"] for r in rows}:
        ids = [r["target_id"] for r in rows if r["target_kind"] == kind]
        for k in stored_subject_keys(db, kind, ids).to_pylist():
            keys.setdefault((kind, k["target_id"]), set()).add(
                (k["entity_kind"], k["scheme"], k["key"], k["date_of_birth"])
            )
    places = _places(db, rows)
    by_message: dict[str, list[Seen]] = {}
    known: dict[str, list[WatchlistEntry]] = {}
    for row in rows:
        for message_id in _cited(row["reasons"]):
            if (message_id, row["target_kind"], row["target_id"]) in reported:
                continue
            if message_id not in known:
                known[message_id] = entries(db, message_id)
            target_keys = keys.get((row["target_kind"], row["target_id"]), set())
            matched = _matched(known[message_id], target_keys, row["day"])
            if matched:
                seen = Seen(row, matched, places.get(row["id"]))
                by_message.setdefault(message_id, []).append(seen)
    return [_store(db, run_id, seen) for seen in by_message.values()]


def _store(db: Database, run_id: int, seen: list[Seen]) -> SightingDraft:
    message = draft_sighting(seen)
    first = seen[0].entries[0]
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        result = conn.execute(
            sighting_drafts.insert().values(
                message_id=first.message_id,
                addressee=first.sender_agency,
                run_id=run_id,
                body=message.model_dump_json(exclude_none=True),
                status=DRAFT,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        draft_id = int(key[0])
        conn.execute(
            sighting_targets.insert(),
            [
                {
                    "message_id": first.message_id,
                    "target_kind": s.selection["target_kind"],
                    "target_id": s.selection["target_id"],
                    "draft_id": draft_id,
                    "selection_id": s.selection["id"],
                }
                for s in seen
            ],
        )
    return SightingDraft(
        draft_id, first.message_id, first.sender_agency, run_id, DRAFT, now, message
    )


def _draft(row: Any) -> SightingDraft:
    m = row._mapping
    created = m["created_at"]
    return SightingDraft(
        m["id"],
        m["message_id"],
        m["addressee"],
        m["run_id"],
        m["status"],
        utc(created),
        Message.model_validate_json(m["body"]),
        m["sent_message_id"],
    )


def pending_drafts(db: Database) -> list[SightingDraft]:
    """Drafts waiting for an officer to send them, oldest first."""
    query = select(sighting_drafts).where(sighting_drafts.c.status == DRAFT)
    with db.engine.connect() as conn:
        return [_draft(r) for r in conn.execute(query.order_by(sighting_drafts.c.id))]


def find_draft(db: Database, draft_id: int) -> SightingDraft:
    """One draft, whatever its status (UnknownDraft when there is none)."""
    with db.engine.connect() as conn:
        row = conn.execute(select(sighting_drafts).where(sighting_drafts.c.id == draft_id)).first()
    if row is None:
        raise UnknownDraft(draft_id)
    return _draft(row)


def _mark_sent(conn: Connection, draft_id: int, sent_message_id: str, at: datetime) -> None:
    done = conn.execute(
        update(sighting_drafts)
        .where(sighting_drafts.c.id == draft_id, sighting_drafts.c.status == DRAFT)
        .values(status=SENT, sent_at=at, sent_message_id=sent_message_id)
    )
    if done.rowcount != 1:
        status = conn.execute(
            select(sighting_drafts.c.status).where(sighting_drafts.c.id == draft_id)
        ).scalar()
        raise UnknownDraft(draft_id) if status is None else DraftNotWaiting(draft_id, status)


def mark_sent(db: Database, draft_id: int, sent_message_id: str) -> None:
    """Record that a waiting draft went out as message `sent_message_id` by other means than
    `send_draft` (UnknownDraft, DraftNotWaiting otherwise)."""
    with db.engine.begin() as conn:
        _mark_sent(conn, draft_id, sent_message_id, datetime.now(UTC))


def _may_act_on(db: Database, actor: Actor, draft: SightingDraft) -> bool:
    """Whether the actor may see the message the draft answers: a draft repeats its subjects.
    The node's own services (the command line, the node token) belong to no agency and act
    for the node, so they see every draft, but the mailbox sends for none of them."""
    if actor.agency is None:
        return True
    try:
        mailbox.require_visible(db, actor, draft.message_id)
    except mailbox.NotFound:
        return False
    return True


def _move(db: Database, draft_id: int, before: str, after: str) -> bool:
    """Change the draft's status from `before` to `after` in one statement, so of two calls at
    once only one finds it still `before`. Whether this call moved it."""
    with db.engine.begin() as conn:
        done = conn.execute(
            update(sighting_drafts)
            .where(sighting_drafts.c.id == draft_id, sighting_drafts.c.status == before)
            .values(status=after)
        )
    return done.rowcount == 1


def _waiting(db: Database, actor: Actor, draft_id: int) -> SightingDraft:
    """The draft, if the actor may act on it (else NotFound, as the mailbox answers for a
    message they may not see) and it is still waiting (else DraftNotWaiting)."""
    draft = find_draft(db, draft_id)
    if not _may_act_on(db, actor, draft):
        raise mailbox.NotFound()
    if draft.status != DRAFT:
        raise DraftNotWaiting(draft_id, draft.status)
    return draft


def send_draft(
    db: Database,
    actor: Actor,
    draft_id: int,
    *,
    facts: str | None = None,
    kek: Kek | None = None,
) -> mailbox.Sent:
    """Send a draft through the mailbox as a reply in the thread of the alert or notice it
    answers (to its sender), with the officer's `facts` in place of the drafted ones if given,
    and mark it sent, in the sending's one transaction: the draft is sent once, or not at all.
    Needs send_messages; NotFound when the actor may not see the message it answers;
    UnknownDraft, or DraftNotWaiting when it was sent or discarded (also by a call at the same
    moment). Audited as an alteration of the draft; the mailbox audits the sending."""
    require(actor, Capability.SEND_MESSAGES)
    draft = _waiting(db, actor, draft_id)
    message = draft.message
    if facts is not None:
        try:
            message = Message.model_validate({**message.model_dump(), "facts": facts})
        except ValidationError as exc:
            raise mailbox.MailboxError(f"facts: {exc.errors()[0]['msg']}") from exc
    edited = message.facts != draft.message.facts

    def mark_sent_with_it(conn: Connection, sent: mailbox.Sent) -> None:
        # In the sending's transaction: of two calls at once, the second finds the draft sent
        # (PostgreSQL waits for the first's row lock; SQLite for its write lock) and its
        # message is rolled back with it.
        _mark_sent(conn, draft_id, sent.id, sent.sent_at)
        details = {"status": SENT, "message": draft.message_id, "sent_message": sent.id,
                   "edited": edited}  # fmt: skip
        audit.append(conn, actor, audit.Action.ALTER, "sighting reply sent", OBJECT_KIND,
                     draft_id, details, at=sent.sent_at)  # fmt: skip

    return mailbox.reply(db, actor, draft.message_id, message, kek=kek,
                         in_same_transaction=mark_sent_with_it)  # fmt: skip


def discard_draft(db: Database, actor: Actor, draft_id: int, reason: str) -> SightingDraft:
    """Drop a waiting draft, saying why (the subject was no longer of interest, a false match,
    ...); its targets stay reported, so later runs do not draft them again for that message.
    Needs send_messages; audited as an alteration with the reason, which the audit log keeps."""
    require(actor, Capability.SEND_MESSAGES)
    if not reason.strip():
        raise DraftError("reason: say why the draft is discarded (false match, ...)")
    draft = _waiting(db, actor, draft_id)
    if not _move(db, draft_id, DRAFT, DISCARDED):
        raise DraftNotWaiting(draft_id, find_draft(db, draft_id).status)
    details = {"status": DISCARDED, "message": draft.message_id, "reason": reason.strip()}
    audit.record(db, actor, audit.Action.ALTER, reason, OBJECT_KIND, draft_id, details)
    return find_draft(db, draft_id)


def audited_pending_drafts(
    db: Database, actor: Actor, purpose: str = "sighting replies to send"
) -> list[SightingDraft]:
    """`pending_drafts` for someone who sends messages: those answering a message they may
    see (all of them for the node's own services); audited, since drafts name subjects."""
    require(actor, Capability.SEND_MESSAGES)
    found = [d for d in pending_drafts(db) if _may_act_on(db, actor, d)]
    details = {"drafts": [d.id for d in found]}
    audit.record(db, actor, audit.Action.READ, purpose, "sighting_drafts", "pending", details)
    return found
