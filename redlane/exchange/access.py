"""Need-to-know, in the query layer: who asks, and the conditions every query that returns a
message carries in its WHERE clause.

A user sees a message only when their agency sent it, their agency or a desk they are a member
of is an addressee, or it was delivered to one of those by a permitted forward; only while their
roles hold `read_messages` (administrators do not read operational data); and, once retention
has restricted it, only as a supervisor checking it. A message the user may not see cannot come
back from such a query: it answers `NotFound`, exactly as one that does not exist.

    with db.engine.connect() as conn:
        who = reader(conn, actor)
        row = visible_row(conn, who, message_id)     # NotFound unless they may see it
        mine = conn.execute(select(messages.c.id).where(visible(who)))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, or_, select

from redlane.exchange.handling import Decision
from redlane.security.accounts import Actor, Capability, User
from redlane.store.database import Database
from redlane.store.schema import agencies, deliveries, desk_members, messages, retention, users

NOT_FOUND = "no such message"
#: A message id: 48 bits of milliseconds then 80 random bits, in hex.
MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")


class NotFound(LookupError):
    """No such message, or none the user may see: the two are never told apart."""

    def __init__(self) -> None:
        super().__init__(NOT_FOUND)


class Refused(PermissionError):
    """The sender's handling does not allow it; `decision` names the rule."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"refused by the sender's handling ({decision.rule}): {decision.reason}")
        self.decision = decision


class Erased(LookupError):
    """The message's key was destroyed (retention): its content is gone for good."""


@dataclass(frozen=True)
class Reader:
    """Who asks, as the query layer needs it: their agency and the addresses they read."""

    actor: Actor
    user_id: int | None
    agency_id: int | None
    addresses: tuple[str, ...]
    can_read: bool
    sees_restricted: bool = False
    """A supervisor checking the accuracy and lawfulness of messages restricted by retention."""


def reader(conn: Connection, actor: Actor) -> Reader:
    """The actor's agency and the addresses they read (their agency's and their desks'),
    read from the store now, so that a desk left a minute ago no longer counts."""
    if actor.agency is None:
        return Reader(actor, None, None, (), False)
    agency_id = conn.execute(select(agencies.c.id).where(agencies.c.code == actor.agency)).scalar()
    if agency_id is None:
        return Reader(actor, None, None, (), False)
    addresses = [f"a{agency_id}"]
    user_id = None
    if isinstance(actor, User):
        user_id = conn.execute(
            select(users.c.id).where(
                users.c.username == actor.username, users.c.agency_id == agency_id
            )
        ).scalar()
        if user_id is None:
            return Reader(actor, None, None, (), False)
        addresses += [
            f"d{d}"
            for (d,) in conn.execute(
                select(desk_members.c.desk_id).where(desk_members.c.user_id == user_id)
            )
        ]
    can_read = actor.can(Capability.READ_MESSAGES)
    return Reader(actor, user_id, int(agency_id), tuple(addresses), can_read,
                can_read and actor.can(Capability.REVIEW_RESTRICTED))  # fmt: skip


def restricted(message_id: Any) -> ColumnElement[bool]:
    """The message `message_id` (a column) is restricted by retention."""
    return exists().where(
        retention.c.message_id == message_id, retention.c.restricted_at.is_not(None)
    )


def unrestricted(who: Reader, message_id: Any) -> list[ColumnElement[bool]]:
    """The retention condition of the query layer: a restricted message is hidden from
    everyone but supervisors (who check it before it is kept or erased)."""
    return [] if who.sees_restricted else [~restricted(message_id)]


def visible(who: Reader) -> ColumnElement[bool]:
    """The need-to-know condition on `messages`, for every query that returns messages."""
    if not who.can_read or who.agency_id is None:
        return false()
    return and_(
        or_(
            messages.c.sender_agency_id == who.agency_id,
            exists().where(
                deliveries.c.message_id == messages.c.id,
                deliveries.c.address.in_(who.addresses),
            ),
        ),
        *unrestricted(who, messages.c.id),
    )


def visible_row(conn: Connection, who: Reader, message_id: str) -> Any:
    if not MESSAGE_ID.match(message_id):
        raise NotFound()
    row = conn.execute(select(messages).where(messages.c.id == message_id, visible(who))).first()
    if row is None:
        raise NotFound()
    return row


def require_visible(db: Database, actor: Actor, message_id: str) -> None:
    """NotFound unless `actor` may see the message: for what is stored apart from the message
    (a sighting draft answering it, say), which must answer as the message does."""
    with db.engine.connect() as conn:
        visible_row(conn, reader(conn, actor), message_id)


def refuse_restricted(conn: Connection, message_id: str) -> None:
    """A restricted message is only checked, never passed on (a supervisor sees it)."""
    if conn.execute(select(restricted(message_id))).scalar():
        raise Refused(
            Decision(False, "restricted", "the message is restricted by retention (review "
                     "overdue): it may be checked, kept or erased, not passed on")
        )  # fmt: skip
