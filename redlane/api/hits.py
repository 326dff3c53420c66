"""Hit/no-hit queries over HTTP (`redlane.exchange.hits`): ask whether another agency holds
something on an entity, list and decide the hits against your agency, follow your agency's
queries. A role that may not answers 403; a hit not addressed to the caller's agency answers
404 with the same body as one that does not exist; a hit decided already answers 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from redlane.api import actor, database
from redlane.api.messages import Key, Purpose, answers
from redlane.exchange import hits
from redlane.security.accounts import Actor
from redlane.store.database import Database

router = APIRouter(prefix="/hits", tags=["hits"])
Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]


class Question(BaseModel):
    entity: str = Field(min_length=3, description="KIND:IDENTIFIER, e.g. container:MSCU1234567.")


class Declining(BaseModel):
    reason: str = Field(min_length=1, description="Why the hit is declined (audited).")


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        with answers():
            return function(*args, **kwargs)
    except hits.HitNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, hits.NO_SUCH_HIT) from exc
    except hits.AlreadyDecided as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.post("", status_code=status.HTTP_201_CREATED)
def ask_hits(body: Question, purpose: Purpose, db: Store, who: Who, kek: Key) -> dict[str, Any]:
    """Does another agency hold something on the entity? Hit/no-hit and the holding agencies,
    nothing more; each holder gets a hit to release or decline (audited)."""
    asked: hits.HitQuery = _call(hits.ask, db, who, body.entity, purpose, kek=kek)
    return asked.to_dict()


@router.get("/pending")
def pending_hits(db: Store, who: Who) -> list[dict[str, Any]]:
    """Hits against your agency waiting for a decision, with your matching messages."""
    return [h.to_dict() for h in _call(hits.pending_hits, db, who)]


@router.post("/{hit_id}/release")
def release_hit(hit_id: str, purpose: Purpose, db: Store, who: Who, kek: Key) -> dict[str, Any]:
    """Forward the hit's messages to the asking agency (the sender's handling applies)."""
    decided: hits.Decided = _call(hits.release, db, who, hit_id, purpose, kek=kek)
    return decided.to_dict()


@router.post("/{hit_id}/decline")
def decline_hit(hit_id: str, body: Declining, db: Store, who: Who) -> dict[str, Any]:
    """Decline the hit: nothing is forwarded, the asker sees it declined (audited)."""
    decided: hits.Decided = _call(hits.decline, db, who, hit_id, body.reason)
    return decided.to_dict()


@router.get("/mine")
def my_hit_queries(db: Store, who: Who) -> list[dict[str, Any]]:
    """Your agency's queries, each with its holders' states (pending, released, declined)."""
    return [q.to_dict() for q in _call(hits.my_queries, db, who)]
