"""Feedback on alerts and notices over HTTP: what their sightings and replies say came of them,
and the sender's decision to end their watchlist entries on it. These are a message's own
routes: every refusal answers 404, as in `redlane.api.messages`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from redlane.api import actor, database
from redlane.api.messages import Key, on_message
from redlane.exchange.feedback import FEEDBACK_PURPOSE, close_on_feedback, feedback_on
from redlane.exchange.model import EntityKind, Outcome
from redlane.security.accounts import Actor
from redlane.store.database import Database

router = APIRouter(prefix="/messages", tags=["feedback"])
Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]


class Closing(BaseModel):
    outcome: Outcome = Field(description="seized or false_match.")
    on: date = Field(
        description="The first day without the entries (they last until the day before)."
    )
    reason: str = Field(
        min_length=1, description="What was seized, or why the match was false (audited)."
    )
    entity_kind: EntityKind | None = Field(
        default=None, description="Only the entries on this kind of subject."
    )


@router.get("/{message_id}/feedback")
def message_feedback(
    message_id: str,
    db: Store,
    who: Who,
    kek: Key,
    purpose: Annotated[
        str, Header(alias="X-Redlane-Purpose", description="Why you read it (audited).")
    ] = FEEDBACK_PURPOSE,
) -> dict[str, Any]:
    """The feedback on a CIS alert or mode notice that you may see: counts per outcome and the
    answers (agency, outcome, day, place, reply id). Opens each answer (audited with the
    purpose, your `opened` receipt)."""
    summary = on_message(feedback_on, db, who, message_id, purpose=purpose, kek=kek)
    return dict(summary.to_dict())


@router.post("/{message_id}/close")
def close_message(message_id: str, body: Closing, db: Store, who: Who) -> dict[str, Any]:
    """The sending agency's decision on feedback: the subject was seized, or the alert or
    notice was a false match; its watchlist entries end from `on`. Audited."""
    ended = on_message(close_on_feedback, db, who, message_id, body.outcome, body.on,
                        body.reason, entity_kind=body.entity_kind)  # fmt: skip
    return {
        "message_id": message_id,
        "outcome": body.outcome.value,
        "on": body.on.isoformat(),
        "ended": [e.model_dump(mode="json") for e in ended],
    }
