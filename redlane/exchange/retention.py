"""Retention of messages: yearly review, notice to the owner, restriction, crypto-shredding.

Every CIS alert and every message naming a person (a `person` entity) has a review date, 12
months after it was sent (CIS practice: reviewed at least yearly). The timeline, run by
`run(db, actor, now)` (`redlane retention run`) with the clock given:

- at 11 months the owner (the sending agency, and its desk when a desk sent it) gets a notice,
  stored in `retention_notices` and listed by `notices`;
- the owner decides (`review`): keep (the next review falls 12 months after the decision;
  audited with the purpose) or erase now;
- at 12 months without a decision the message is restricted: the mailbox's query layer hides
  it from inbox, search, thread and read for everyone but supervisors (`review_restricted`),
  who check its accuracy and lawfulness and may keep or erase it; its watchlist entries end;
- at 24 months (restricted for a year) it is erased: its data key and its attachments' keys
  are destroyed (crypto-shredding: the sealed body in the database and in every backup no
  longer opens), its entity index rows and watchlist entries are deleted, and the erasure is
  audited. The message row keeps its headers (kind, sender, times, grading), so the audit log
  and the receipts still name something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, exists, insert, select, update

from redlane.exchange import access, mailbox
from redlane.exchange.handling import Decision
from redlane.exchange.model import EntityKind, MessageKind
from redlane.exchange.schedule import NOTICE_MONTHS, RESTRICTED_MONTHS, REVIEW_MONTHS, add_months
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database, utc
from redlane.store.schema import (
    message_attachments,
    message_entities,
    message_keys,
    messages,
    retention,
    retention_notices,
    watchlist,
)

#: Why the watchlist entries of a restricted message ended (a kept message gets them back).
RESTRICTED_REASON = "restricted by retention: review overdue"
OBJECT_KIND = "message"
Choice = Literal["keep", "erase"]


@dataclass(frozen=True)
class Report:
    """What a run did, each list the message ids."""

    now: datetime
    dated: list[str] = field(default_factory=list)
    """Messages stored before retention existed, given their review date."""
    noticed: list[str] = field(default_factory=list)
    restricted: list[str] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dated": self.dated,
            "noticed": self.noticed,
            "restricted": self.restricted,
            "erased": self.erased,
        }


@dataclass(frozen=True)
class Notice:
    id: int
    message_id: str
    kind: MessageKind
    sent_at: datetime
    review_due: datetime
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "message_id": self.message_id, "kind": self.kind.value,
                "sent_at": self.sent_at.isoformat(), "review_due": self.review_due.isoformat(),
                "at": self.at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class State:
    """Where a message stands: its review date and what has happened to it."""

    message_id: str
    review_due: datetime
    noticed_at: datetime | None
    restricted_at: datetime | None
    erased_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: str | None

    @property
    def erasure_due(self) -> datetime:
        return add_months(self.review_due, RESTRICTED_MONTHS)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def _state(row: Any) -> State:
    return State(row.message_id, utc(row.review_due), _utc(row.noticed_at),
                 _utc(row.restricted_at), _utc(row.erased_at), _utc(row.reviewed_at),
                 row.reviewed_by)  # fmt: skip


def state(db: Database, message_id: str) -> State | None:
    """The retention state of a message; None for one without a review date (no alert, no
    person named)."""
    with db.engine.connect() as conn:
        row = conn.execute(select(retention).where(retention.c.message_id == message_id)).first()
    return None if row is None else _state(row)


# --- the steps ---------------------------------------------------------------------------


def _date_unreviewed(conn: Connection) -> list[str]:
    """Give a review date to alerts and messages naming a person that have none (stored
    before retention existed): 12 months after they were sent."""
    names_person = exists().where(
        message_entities.c.message_id == messages.c.id,
        message_entities.c.kind == EntityKind.PERSON.value,
    )
    query = select(messages.c.id, messages.c.sent_at).where(
        (messages.c.kind == MessageKind.CIS_ALERT.value) | names_person,
        ~exists().where(retention.c.message_id == messages.c.id),
    )
    rows = [
        {"message_id": r.id, "review_due": add_months(utc(r.sent_at), REVIEW_MONTHS)}
        for r in conn.execute(query)
    ]
    if rows:
        conn.execute(insert(retention), rows)
    return sorted(r["message_id"] for r in rows)


def _open_rows(conn: Connection, *conditions: Any) -> list[Any]:
    query = (
        select(retention, messages.c.sender_agency_id, messages.c.sender_desk_id)
        .join(messages, messages.c.id == retention.c.message_id)
        .where(retention.c.erased_at.is_(None), *conditions)
        .order_by(retention.c.review_due, retention.c.message_id)
    )
    return list(conn.execute(query))


def _notify(conn: Connection, moment: datetime) -> list[str]:
    # a month is at most 31 days: the SQL bound is loose, the month arithmetic exact
    rows = _open_rows(
        conn,
        retention.c.noticed_at.is_(None),
        retention.c.restricted_at.is_(None),
        retention.c.review_due <= moment + timedelta(days=31),
    )
    due = [r for r in rows if add_months(utc(r.review_due), -NOTICE_MONTHS) <= moment]
    for r in due:
        conn.execute(
            insert(retention_notices).values(
                message_id=r.message_id, agency_id=r.sender_agency_id, desk_id=r.sender_desk_id,
                review_due=r.review_due, at=moment,
            )
        )  # fmt: skip
        conn.execute(
            update(retention)
            .where(retention.c.message_id == r.message_id)
            .values(noticed_at=moment)
        )
    return [r.message_id for r in due]


def _end_watch(conn: Connection, message_id: str, moment: datetime) -> int:
    """End the message's watchlist entries from today (earlier days keep them: a back-test
    still sees what officers saw)."""
    last = moment.date() - timedelta(days=1)
    ended = conn.execute(
        update(watchlist)
        .where(watchlist.c.message_id == message_id, watchlist.c.valid_until > last)
        .values(valid_until=last, expired_at=moment, expired_reason=RESTRICTED_REASON)
    )
    return ended.rowcount or 0


def _restrict(conn: Connection, moment: datetime) -> list[str]:
    rows = _open_rows(conn, retention.c.restricted_at.is_(None), retention.c.review_due <= moment)
    for r in rows:
        conn.execute(
            update(retention)
            .where(retention.c.message_id == r.message_id)
            .values(restricted_at=moment)
        )
        _end_watch(conn, r.message_id, moment)
    return [r.message_id for r in rows]


def _erase(conn: Connection, message_id: str, moment: datetime) -> dict[str, int]:
    """Destroy the message's keys and what indexes it; the counts of rows deleted."""
    where = {
        "keys": delete(message_keys).where(message_keys.c.message_id == message_id),
        "attachments": delete(message_attachments).where(
            message_attachments.c.message_id == message_id
        ),
        "entities": delete(message_entities).where(message_entities.c.message_id == message_id),
        "watchlist": delete(watchlist).where(watchlist.c.message_id == message_id),
    }
    counts = {name: conn.execute(statement).rowcount or 0 for name, statement in where.items()}
    # the ciphertexts open with nothing now; dropping them leaves less in the live file
    conn.execute(update(messages).where(messages.c.id == message_id).values(subject=b"", body=b""))
    conn.execute(
        update(retention).where(retention.c.message_id == message_id).values(erased_at=moment)
    )
    return counts


def _erase_due(db: Database, actor: Actor, moment: datetime) -> list[str]:
    with db.engine.connect() as conn:
        rows = _open_rows(conn, retention.c.restricted_at.is_not(None))
    due = [r for r in rows if add_months(utc(r.review_due), RESTRICTED_MONTHS) <= moment]
    if not due:
        return []
    erased = {}
    with mailbox.shredding(db) as conn:
        for r in due:
            erased[r.message_id] = _erase(conn, r.message_id, moment)
    for r in due:
        details = {"reason": "retention: restricted a year without a decision",
                   "review_due": utc(r.review_due).isoformat(),
                   **erased[r.message_id]}  # fmt: skip
        audit.record(db, actor, audit.Action.ERASE, "retention", OBJECT_KIND, r.message_id,
                     details, at=moment)  # fmt: skip
    return [r.message_id for r in due]


def run(db: Database, actor: Actor, now: datetime | None = None) -> Report:
    """Apply every retention step due at `now` (default: the current time): date messages
    stored without a review date, send the notices due, restrict the messages past their
    review date, erase those restricted for a year. A late run catches up: a message two years
    old gets its notice, its restriction and its erasure in one run. Needs manage_accounts
    (the node's operator); restrictions and erasures are audited."""
    require(actor, Capability.MANAGE_ACCOUNTS)
    moment = mailbox.now_or(now)
    with db.engine.begin() as conn:
        dated = _date_unreviewed(conn)
        noticed = _notify(conn, moment)
        restricted = _restrict(conn, moment)
    if noticed or restricted:
        audit.record(db, actor, audit.Action.ALTER, "retention", OBJECT_KIND, "retention",
                     {"noticed": noticed, "restricted": restricted}, at=moment)  # fmt: skip
    erased = _erase_due(db, actor, moment)
    return Report(moment, dated, noticed, restricted, erased)


# --- the owner's side --------------------------------------------------------------------


def notices(db: Database, actor: Actor, *, pending: bool = True) -> list[Notice]:
    """Review notices to the actor's agency (and to their desks, for what a desk sent),
    newest first; `pending` keeps those still awaiting a decision."""
    with db.engine.connect() as conn:
        who = access.reader(conn, actor)
        if not who.can_read or who.agency_id is None:
            return []
        desks = [int(a[1:]) for a in who.addresses if a.startswith("d")]
        query = (
            select(retention_notices, messages.c.kind, messages.c.sent_at)
            .join(messages, messages.c.id == retention_notices.c.message_id)
            .join(retention, retention.c.message_id == retention_notices.c.message_id)
            .where(
                retention_notices.c.agency_id == who.agency_id,
                retention_notices.c.desk_id.is_(None) | retention_notices.c.desk_id.in_(desks),
            )
            .order_by(retention_notices.c.at.desc(), retention_notices.c.id.desc())
        )
        if pending:
            query = query.where(
                retention.c.erased_at.is_(None),
                retention.c.review_due == retention_notices.c.review_due,
            )
        return [
            Notice(
                r.id,
                r.message_id,
                MessageKind(r.kind),
                utc(r.sent_at),
                utc(r.review_due),
                utc(r.at),
            )
            for r in conn.execute(query)
        ]


@dataclass(frozen=True)
class Reviewed:
    message_id: str
    decision: Choice
    next_review: datetime | None
    """When a kept message is due for review again (None once erased)."""

    def to_dict(self) -> dict[str, Any]:
        following = self.next_review.isoformat() if self.next_review else None
        return {"message_id": self.message_id, "decision": self.decision,
                "next_review": following}  # fmt: skip


def review(
    db: Database,
    actor: Actor,
    message_id: str,
    decision: Choice,
    purpose: str,
    *,
    now: datetime | None = None,
) -> Reviewed:
    """The owner's review decision: `keep` (the next review falls 12 months from now, a
    restriction is lifted and the watchlist entries it ended come back) or `erase` (now).
    Made by a user of the sending agency who may send messages and may see the message (a
    restricted one: a supervisor). NotFound when they may not see it; audited with the
    purpose."""
    why = mailbox.checked_purpose(purpose)
    if decision not in ("keep", "erase"):
        raise mailbox.MailboxError(f"decision: {decision!r} is not keep or erase")
    moment = mailbox.now_or(now)
    with db.engine.connect() as conn:
        who = access.reader(conn, actor)
        row = access.visible_row(conn, who, message_id)
        require(actor, Capability.SEND_MESSAGES)
        if row.sender_agency_id != who.agency_id:
            raise mailbox.Refused(
                Decision(False, "owner", "only the sending agency reviews its message")
            )
        found = conn.execute(select(retention).where(retention.c.message_id == message_id)).first()
    if found is None:
        raise mailbox.MailboxError(
            f"message {message_id}: it has no review date (it is no CIS alert and names no person)"
        )
    if found.erased_at is not None:
        raise mailbox.Erased(f"message {message_id} was erased: its key is destroyed")
    if decision == "erase":
        with mailbox.shredding(db) as conn:
            counts = _erase(conn, message_id, moment)
            conn.execute(
                update(retention)
                .where(retention.c.message_id == message_id)
                .values(reviewed_at=moment, reviewed_by=actor.username)
            )
        audit.record(db, actor, audit.Action.ERASE, why, OBJECT_KIND, message_id,
                     {"decision": "erase", **counts}, at=moment)  # fmt: skip
        return Reviewed(message_id, "erase", None)
    following = add_months(moment, REVIEW_MONTHS)
    with db.engine.begin() as conn:
        conn.execute(
            update(retention)
            .where(retention.c.message_id == message_id)
            .values(review_due=following, noticed_at=None, restricted_at=None,
                    reviewed_at=moment, reviewed_by=actor.username)
        )  # fmt: skip
        if found.restricted_at is not None:
            conn.execute(
                update(watchlist)
                .where(
                    and_(
                        watchlist.c.message_id == message_id,
                        watchlist.c.expired_reason == RESTRICTED_REASON,
                    )
                )
                .values(valid_until=row.valid_until, expired_at=None, expired_reason=None)
            )
    audit.record(db, actor, audit.Action.ALTER, why, OBJECT_KIND, message_id,
                 {"decision": "keep", "next_review": following.isoformat(),
                  "was_restricted": found.restricted_at is not None}, at=moment)  # fmt: skip
    return Reviewed(message_id, "keep", following)


__all__ = [
    "RESTRICTED_REASON",
    "Notice",
    "Report",
    "Reviewed",
    "State",
    "notices",
    "review",
    "run",
    "state",
]
