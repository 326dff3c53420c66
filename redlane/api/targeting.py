"""Targeting over HTTP: control results in, worklist, performance and profiles out."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, status

from redlane.api import actor, allowed, database
from redlane.intake.canonical import Problem
from redlane.model import ControlResult
from redlane.security.accounts import Actor, Capability, Forbidden
from redlane.security.audit import AuditError
from redlane.store.database import Database
from redlane.targeting import (
    latest_profiles,
    performance,
    record_results,
    starter_profiles,
)
from redlane.targeting.feedback import read_results
from redlane.targeting.run import WORKLIST_PURPOSE, audited_worklist

router = APIRouter(tags=["targeting"])
Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]
Recorder = Depends(allowed(Capability.RECORD_RESULTS))


def _problem(p: Problem) -> dict[str, Any]:
    return {"locator": p.locator, "field": p.field, "reason": p.reason}


@router.post("/results", status_code=status.HTTP_201_CREATED, dependencies=[Recorder])
def add_result(result: ControlResult, db: Store) -> dict[str, Any]:
    """Record the outcome of one control; the same result sent twice is stored once."""
    summary = record_results(db, [result], source="api")
    return {"stored": summary.stored, "duplicate": summary.duplicates == 1}


@router.post("/results/csv", dependencies=[Recorder])
def import_results_csv(
    db: Store, text: Annotated[str, Body(media_type="text/csv")]
) -> dict[str, Any]:
    """Import a results CSV (the columns of `redlane result import`); bad rows are
    quarantined and listed with their line, field and reason, the rest is stored."""
    try:
        results, problems, read = read_results(io.StringIO(text), "request body")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    summary = record_results(db, results, source="api:csv", problems=problems, read=read)
    return {
        "read": summary.read,
        "stored": summary.stored,
        "duplicates": summary.duplicates,
        "quarantined": [_problem(p) for p in summary.problems],
    }


@router.get("/worklist")
def get_worklist(
    db: Store,
    who: Who,
    run_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    purpose: Annotated[
        str, Header(alias="X-Redlane-Purpose", description="Why you read it (audited).")
    ] = WORKLIST_PURPOSE,
) -> list[dict[str, Any]]:
    """Red selections to control, highest score first, with their reasons. Needs the
    read_worklist capability; the read is audited with the user and purpose."""
    try:
        rows = audited_worklist(db, who, purpose, run_id, limit)
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except AuditError as exc:
        raise HTTPException(422, str(exc)) from exc
    for row in rows:
        row["day"] = row["day"].isoformat() if isinstance(row["day"], date) else row["day"]
    return rows


@router.get("/performance")
def get_performance(
    db: Store, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """Selections, controls, hits, hit rate and lift over random, per method and profile."""
    profiles = latest_profiles(db) or starter_profiles()
    report = performance(db, profiles, since, until)
    return {
        "since": since,
        "until": until,
        "random_hit_rate": report.random_hit_rate,
        "methods": [{**asdict(r), "hit_rate": r.hit_rate} for r in report.methods],
        "profiles": [{**asdict(r), "hit_rate": r.hit_rate} for r in report.profiles],
    }


@router.get("/profiles")
def get_profiles(db: Store) -> list[dict[str, Any]]:
    """The newest version of each stored profile."""
    return [p.model_dump(mode="json") for p in latest_profiles(db)]
