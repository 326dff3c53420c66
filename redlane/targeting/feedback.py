"""Control results and what they say about each targeting method.

Results come from the CLI, the API or a CSV file (`transport_document, office, controlled_on,
outcome, drug, quantity_kg, concealment`; `target_kind` and `target_ref` may replace the
transport document for travellers and movements). They are stored like any record (content
hash, provenance, quarantine for bad rows). Performance joins selections with results: per
profile and per method (profiles, random), selections, controlled, hits (seizures), hit rate
and lift over the random control group with a 95% confidence interval.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import duckdb
from pydantic import ValidationError
from sqlalchemy import select

from redlane.intake.canonical import Problem
from redlane.intake.pipeline import store_models
from redlane.model import ControlResult
from redlane.store.database import Database
from redlane.store.repository import fetch_arrow
from redlane.store.schema import control_results, selections
from redlane.targeting.profiles import RiskProfile, Status

RESULT_COLUMNS = (
    "transport_document", "office", "controlled_on", "outcome", "drug", "quantity_kg",
    "concealment",
)  # fmt: skip

#: Controls a profile needs before its hit rate may be judged against random.
MIN_CONTROLS_FOR_REVIEW = 30


@dataclass
class ResultImport:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)


def result_from_row(row: dict[str, str]) -> dict[str, Any]:
    """The fields of a control result from a CSV row (blank cells are missing values)."""

    def blank(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    kind = blank("target_kind") or "consignment"
    ref = blank("target_ref") or blank("transport_document")
    outcome = blank("outcome")
    data: dict[str, Any] = {
        "target_kind": kind,
        "target_ref": ref,
        "office": blank("office"),
        "controlled_on": blank("controlled_on"),
        "outcome": outcome,
        "notes": blank("notes"),
    }
    drug = blank("drug")
    if drug or blank("quantity_kg"):
        data["seizures"] = [
            {"drug": drug, "quantity_kg": blank("quantity_kg"), "concealment": blank("concealment")}
        ]
    return data


def read_results(handle: TextIO, name: str) -> tuple[list[ControlResult], list[Problem], int]:
    """Parse results CSV text: the valid results, a problem per bad row (line, field, reason),
    and the rows read. A header without the needed columns raises ValueError."""
    results: list[ControlResult] = []
    problems: list[Problem] = []
    read = 0
    reader = csv.DictReader(handle)
    columns = set(reader.fieldnames or [])
    if {"office", "controlled_on", "outcome"} - columns or not {
        "transport_document", "target_ref"
    } & columns:  # fmt: skip
        raise ValueError(f"{name}: header must name the columns {', '.join(RESULT_COLUMNS)}")
    for row in reader:
        read += 1
        try:
            results.append(ControlResult.model_validate(result_from_row(row)))
        except ValidationError as exc:
            errors = [(".".join(str(p) for p in e["loc"]) or None, e["msg"]) for e in exc.errors()]
            problems.append(
                Problem.from_errors(
                    f"line {reader.line_num}", errors, json.dumps(row), "control_result"
                )
            )
    return results, problems, read


def read_results_csv(path: Path) -> tuple[list[ControlResult], list[Problem], int]:
    """`read_results` of a file."""
    with path.open(newline="", encoding="utf-8") as handle:
        return read_results(handle, str(path))


def record_results(
    db: Database,
    results: Sequence[ControlResult],
    *,
    source: str = "api",
    sender: str | None = None,
    problems: Sequence[Problem] = (),
    read: int | None = None,
) -> ResultImport:
    """Store control results (the same result twice is stored once); quarantine problems."""
    stored = store_models(db, "control_result", results, source, sender, problems, read)
    return ResultImport(
        read=len(results) + len(problems) if read is None else read,
        stored=stored,
        duplicates=len(results) - stored,
        problems=list(problems),
    )


def record_result_row(db: Database, row: dict[str, str], source: str = "cli") -> ResultImport:
    """Store one result given as the fields of a CSV row; raises ValueError naming the field."""
    try:
        result = ControlResult.model_validate(result_from_row(row))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"control result, field {where}: {first['msg']}") from exc
    return record_results(db, [result], source=source)


def import_results(db: Database, path: Path, sender: str | None = None) -> ResultImport:
    """Read a results CSV and store it; bad rows are quarantined, the rest goes in."""
    results, problems, read = read_results_csv(path)
    return record_results(
        db, results, source=str(path), sender=sender, problems=problems, read=read
    )


# --- performance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Selections, controls and hits of one method or profile, with lift over random."""

    name: str
    selections: int
    controlled: int
    hits: int
    seized_kg: float
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    review: str | None = None

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.controlled if self.controlled else None


@dataclass(frozen=True)
class Performance:
    since: date | None
    until: date | None
    methods: list[Rate]
    profiles: list[Rate]
    random_hit_rate: float | None


def lift_interval(
    hits: int, controlled: int, random_hits: int, random_controlled: int
) -> tuple[float | None, float | None, float | None]:
    """Risk ratio of two hit rates with its 95% interval (Katz log method).

    Zero cells get the usual 0.5 correction, so a method that found something against a
    random group that found nothing still has a finite (and wide) interval.
    """
    if not controlled or not random_controlled:
        return None, None, None
    a, n1, c, n2 = float(hits), float(controlled), float(random_hits), float(random_controlled)
    if a == 0 or c == 0:
        a, c, n1, n2 = a + 0.5, c + 0.5, n1 + 0.5, n2 + 0.5
    ratio = (a / n1) / (c / n2)
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    return ratio, ratio * math.exp(-1.96 * se), ratio * math.exp(1.96 * se)


_PERFORMANCE_SQL = """
WITH sel AS (
    SELECT DISTINCT ON (target_kind, target_ref, method) *
    FROM s ORDER BY target_kind, target_ref, method, score DESC
),
res AS (
    SELECT target_kind, target_ref,
        max(CASE WHEN outcome = 'seizure' THEN 1 ELSE 0 END) AS hit,
        sum(total_seized_kg) AS kg
    FROM r GROUP BY 1, 2
),
joined AS (
    SELECT sel.*, res.hit IS NOT NULL AS controlled, coalesce(res.hit, 0) AS hit,
        coalesce(res.kg, 0) AS kg
    FROM sel LEFT JOIN res USING (target_kind, target_ref)
)
"""


def performance(
    db: Database,
    profiles: Iterable[RiskProfile] = (),
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> Performance:
    """Hit rates per method and per profile over the selections of [since, until)."""
    query = select(
        selections.c.target_kind, selections.c.target_ref, selections.c.method,
        selections.c.score, selections.c.reasons, selections.c.day, selections.c.status,
    )  # fmt: skip
    if since is not None:
        query = query.where(selections.c.day >= since)
    if until is not None:
        query = query.where(selections.c.day < until)
    chosen = fetch_arrow(db, query)
    result_query = select(
        control_results.c.target_kind,
        control_results.c.target_ref,
        control_results.c.outcome,
        control_results.c.total_seized_kg,
    )
    if since is not None:
        # A control follows its selection: results older than the period cannot belong to it.
        result_query = result_query.where(control_results.c.controlled_on >= since)
    results = fetch_arrow(db, result_query)
    con = duckdb.connect()
    try:
        if not chosen.num_rows:
            return Performance(since, until, [], [], None)
        con.register("s", chosen)
        con.register("r", results)
        by_method = con.sql(
            _PERFORMANCE_SQL
            + """SELECT method AS name, count(*) AS selections, sum(controlled::INT) AS controlled,
                sum(hit) AS hits, sum(kg) AS kg FROM joined GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        by_profile = con.sql(
            _PERFORMANCE_SQL
            + """, cited AS (
                SELECT DISTINCT j.target_kind, j.target_ref, j.controlled, j.hit, j.kg,
                    json_extract_string(h.value, '$.profile') AS profile
                FROM joined j, json_each(j.reasons) h
                WHERE j.method = 'profiles'
            )
            SELECT profile AS name, count(*) AS selections, sum(controlled::INT) AS controlled,
                sum(hit) AS hits, sum(kg) AS kg FROM cited GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    finally:
        con.close()
    random_row = next((r for r in by_method if r[0] == "random"), None)
    random_hits = int(random_row[3]) if random_row else 0
    random_controlled = int(random_row[2]) if random_row else 0
    random_rate = random_hits / random_controlled if random_controlled else None
    known = {p.id: p for p in profiles}
    on = today or date.today()

    def rate(row: tuple[Any, ...], review: str | None = None) -> Rate:
        name, n, controlled, hits, kg = row
        lift: tuple[float | None, float | None, float | None] = (None, None, None)
        if name != "random":
            lift = lift_interval(int(hits), int(controlled), random_hits, random_controlled)
        return Rate(str(name), int(n), int(controlled), int(hits), float(kg), *lift, review=review)

    profile_rates = []
    for row in by_profile:
        r = rate(row)
        reason = review_reason(known.get(r.name), r, random_rate, on)
        profile_rates.append(rate(row, reason))
    return Performance(since, until, [rate(r) for r in by_method], profile_rates, random_rate)


def review_reason(
    profile: RiskProfile | None, rate: Rate, random_rate: float | None, on: date
) -> str | None:
    """Why a profile should be reviewed now, or None."""
    if profile is not None:
        if profile.status == Status.EXPIRED or (profile.valid_to and profile.valid_to < on):
            return "expired"
        if profile.review_by is not None and profile.review_by < on:
            return f"review was due on {profile.review_by.isoformat()}"
    if rate.controlled >= MIN_CONTROLS_FOR_REVIEW and random_rate is not None:
        hit_rate = rate.hit_rate or 0.0
        if hit_rate <= random_rate:
            return f"hit rate {hit_rate:.1%} not above random ({random_rate:.1%})"
    return None
