"""Targeting over HTTP: control results in, worklist, performance and profiles out."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status

from redlane.api import database
from redlane.intake.canonical import Problem
from redlane.model import ControlResult
from redlane.store.database import Database
from redlane.targeting import (
    latest_profiles,
    performance,
    record_results,
    starter_profiles,
    worklist,
)
from redlane.targeting.feedback import read_results

router = APIRouter(tags=["targeting"])
Store = Annotated[Database, Depends(database)]


def _problem(p: Problem) -> dict[str, Any]:
    return {"locator": p.locator, "field": p.field, "reason": p.reason}


@router.post("/results", status_code=status.HTTP_201_CREATED)
def add_result(result: ControlResult, db: Store) -> dict[str, Any]:
    """Record the outcome of one control; the same result sent twice is stored once."""
    summary = record_results(db, [result], source="api")
    return {"stored": summary.stored, "duplicate": summary.duplicates == 1}


@router.post("/results/csv")
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
    run_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """Red selections to control, highest score first, with their reasons."""
    rows = worklist(db, run_id, limit)
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
