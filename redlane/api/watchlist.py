"""The watchlist and sighting replies over HTTP: the entries in force, ending a message's entries,
the drafts waiting, and sending or discarding one. These routes are about no one message the
caller may see, so a role that may not answers 403; a draft answering a message the caller may
not see answers 404 exactly as a draft that does not exist; one already sent or discarded 409."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import BaseModel, Field

from redlane.api import actor, database
from redlane.api.messages import Key
from redlane.config import ConfigError
from redlane.exchange import mailbox
from redlane.exchange.model import EntityKind
from redlane.exchange.sightings import (
    DraftNotWaiting,
    UnknownDraft,
    audited_pending_drafts,
    discard_draft,
    send_draft,
)
from redlane.exchange.watchlist import (
    WATCHLIST_PURPOSE,
    WatchlistEntry,
    audited_active_entries,
    audited_expire,
)
from redlane.security.accounts import Actor, Forbidden
from redlane.security.audit import AuditError
from redlane.store.database import Database

router = APIRouter(tags=["watchlist"])
Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]
DRAFTS_PURPOSE = "sighting replies to send"


@contextmanager
def _answers(draft_id: int | None = None) -> Iterator[None]:
    """Library errors as HTTP answers."""
    try:
        yield
    except (UnknownDraft, mailbox.NotFound) as exc:
        # the same answer for a draft of a message the caller may not see as for none at all
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no sighting draft {draft_id}") from exc
    except DraftNotWaiting as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except (Forbidden, mailbox.Refused) as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except mailbox.Erased as exc:
        raise HTTPException(status.HTTP_410_GONE, str(exc)) from exc
    except ConfigError as exc:  # before ValueError, which it is
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except (ValueError, AuditError) as exc:  # MailboxError and the watchlist's are ValueErrors
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def _entry(entry: WatchlistEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


class Expiry(BaseModel):
    on: date = Field(description="The first day without them (they last until the day before).")
    reason: str = Field(min_length=1, description="Why they end (audited).")
    entity_kind: EntityKind | None = Field(
        default=None, description="Only the entries on this kind of subject."
    )


class Sending(BaseModel):
    facts: str | None = Field(
        default=None, min_length=1, description="Your facts, in place of the drafted ones."
    )


class Discarding(BaseModel):
    reason: str = Field(min_length=1, description="Why the draft is not sent (audited).")


@router.get("/watchlist")
def list_watchlist(
    db: Store,
    who: Who,
    on: Annotated[date | None, Query(description="The day (default today, UTC).")] = None,
    purpose: Annotated[
        str, Header(alias="X-Redlane-Purpose", description="Why you read it (audited).")
    ] = WATCHLIST_PURPOSE,
) -> list[dict[str, Any]]:
    """The watchlist entries in force on a day: subject, key, alert or notice, sender,
    suggested action, validity. Needs read_worklist; audited with the purpose."""
    day = on or datetime.now(UTC).date()
    with _answers():
        found = audited_active_entries(db, who, day, purpose)
    return [_entry(e) for e in found]


@router.post("/watchlist/{message_id}/expire")
def expire_watchlist(message_id: str, body: Expiry, db: Store, who: Who) -> dict[str, Any]:
    """End the entries of an alert or notice (or those on one kind of subject) from a day on;
    earlier days keep them for back-tests. Needs send_messages; audited with the reason."""
    with _answers():
        ended = audited_expire(db, who, message_id, body.on, body.reason, body.entity_kind)
    ended_entries = [_entry(e) for e in ended]
    return {"message_id": message_id, "on": body.on.isoformat(), "ended": ended_entries}


@router.get("/sightings")
def list_sightings(
    db: Store,
    who: Who,
    purpose: Annotated[
        str, Header(alias="X-Redlane-Purpose", description="Why you read them (audited).")
    ] = DRAFTS_PURPOSE,
) -> list[dict[str, Any]]:
    """Sighting replies drafted from targeting hits and waiting to be sent, oldest first: those
    answering a message you may see. Needs send_messages; audited."""
    with _answers():
        found = audited_pending_drafts(db, who, purpose)
    return [d.to_dict() for d in found]


@router.post("/sightings/{draft_id}/send", status_code=status.HTTP_201_CREATED)
def send_sighting(
    draft_id: int, db: Store, who: Who, kek: Key, body: Sending | None = None
) -> dict[str, Any]:
    """Send the draft as a reply in the thread of the alert or notice it answers, to its
    sender, with your `facts` in place of the drafted ones if given; the draft is marked sent.
    Needs send_messages and sight of the message answered (404 otherwise)."""
    facts = body.facts if body is not None else None
    with _answers(draft_id):
        sent = send_draft(db, who, draft_id, facts=facts, kek=kek)
    return {"draft_id": draft_id, **sent.to_dict()}


@router.post("/sightings/{draft_id}/discard")
def discard_sighting(draft_id: int, body: Discarding, db: Store, who: Who) -> dict[str, Any]:
    """Drop a waiting draft with the reason (audited); its targets are not drafted again."""
    with _answers(draft_id):
        dropped = discard_draft(db, who, draft_id, body.reason)
    return dropped.to_dict()
