"""Control results in, performance out: figures checked against values computed by hand."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from redlane.model import ControlResult, Seizure
from redlane.store.database import Database
from redlane.store.repository import quarantined
from redlane.store.schema import selections, targeting_runs
from redlane.targeting import RiskProfile, import_results, performance, record_results
from redlane.targeting.feedback import lift_interval

DAY = date(2026, 11, 2)
CSV = """transport_document,office,controlled_on,outcome,drug,quantity_kg,concealment
MEDU1,NL000396,2026-11-02,seizure,cocaine,120.5,in the reefer unit
MEDU2,NL000396,2026-11-02,no_finding,,,
MEDU3,NL000396,2026-13-02,no_finding,,,
MEDU4,NL000396,2026-11-02,seizure,,,
MEDU5,NL000396,2026-11-02,irregularity,,,
"""


def test_csv_import_stores_good_rows_quarantines_bad_ones_and_is_idempotent(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "results.csv"
    path.write_text(CSV, "utf-8")
    first = import_results(db, path)
    assert (first.read, first.stored) == (5, 3)
    problems = {p.locator: p for p in first.problems}
    assert set(problems) == {"line 4", "line 5"}
    assert problems["line 4"].field == "controlled_on"
    assert "month" in problems["line 4"].reason
    assert "seizure" in problems["line 5"].reason  # a seizure needs what was seized
    assert {row["locator"] for row in quarantined(db)} == {"line 4", "line 5"}
    again = import_results(db, path)
    assert (again.stored, again.duplicates) == (0, 3)
    assert len(quarantined(db)) == 2


def test_a_csv_without_the_columns_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("ref,result\nA,ok\n", "utf-8")
    with pytest.raises(ValueError, match="header must name the columns transport_document"):
        import_results(db, path)


def _selections(db: Database, rows: list[dict[str, object]]) -> None:
    """A targeting run with these selections (each row's run is filled in)."""
    with db.engine.begin() as conn:
        run = conn.execute(
            insert(targeting_runs).values(
                started_at=datetime.now(UTC),
                window="{}",
                profiles="[]",
                settings="{}",
                seed=1,
                targets=len(rows),
                selected=len(rows),
            )
        ).inserted_primary_key
        assert run is not None
        conn.execute(insert(selections), [{**row, "run_id": run[0]} for row in rows])


def _selection(ref: str, method: str, reasons: list[dict[str, object]]) -> dict[str, object]:
    return {
        "target_kind": "consignment", "target_id": 0, "target_ref": ref, "office": "NL1",
        "mode": "sea", "day": DAY, "lane": "red", "method": method, "status": "selected",
        "score": 100, "suggested_action": None, "reasons": json.dumps(reasons),
    }  # fmt: skip


def _history(db: Database) -> None:
    """Profile P1 selected 10 targets (8 controlled, 4 seizures of 10 kg); P2 selected 3 of
    them and 2 more (4 controlled, 1 seizure); random drew 20 (all controlled, 1 seizure)."""

    def row(ref: str, method: str, cited: list[str]) -> dict[str, object]:
        reasons = [{"profile": p, "version": 1} for p in cited] if cited else [{"method": method}]
        return _selection(ref, method, reasons)

    rows = [row(f"A{i}", "profiles", ["P1", "P2"] if i < 3 else ["P1"]) for i in range(10)]
    rows += [row(f"B{i}", "profiles", ["P2"]) for i in range(2)]
    rows += [row(f"R{i}", "random", []) for i in range(20)]
    _selections(db, rows)

    def result(ref: str, seized: bool) -> ControlResult:
        return ControlResult(
            target_ref=ref, office="NL1", controlled_on=DAY,
            outcome="seizure" if seized else "no_finding",
            seizures=[Seizure(drug="cocaine", quantity_kg=10)] if seized else [],
        )  # fmt: skip

    # P1: A0..A7 controlled, A0..A3 seized (A0..A2 are also P2's); P2: B0 controlled, clean.
    results = [result(f"A{i}", i < 4) for i in range(8)] + [result("B0", False)]
    results += [result(f"R{i}", i == 0) for i in range(20)]
    record_results(db, results)


def test_performance_matches_hand_computed_figures(db: Database) -> None:
    _history(db)
    p2 = RiskProfile.model_validate(
        {
            "id": "P2", "title": "old", "rationale": "an old profile under review",
            "mode": "sea", "criteria": "reefer", "weight": 10, "valid_from": "2025-01-01",
            "owner": "risk centre", "author": "analyst", "review_by": "2026-06-30",
        }
    )  # fmt: skip
    report = performance(db, [p2], today=date(2026, 11, 30))
    methods = {m.name: m for m in report.methods}
    assert (methods["random"].controlled, methods["random"].hits) == (20, 1)
    assert report.random_hit_rate == pytest.approx(0.05)
    prof = methods["profiles"]
    assert (prof.selections, prof.controlled, prof.hits, prof.seized_kg) == (12, 9, 4, 40.0)
    by = {p.name: p for p in report.profiles}
    p1 = by["P1"]
    assert (p1.selections, p1.controlled, p1.hits) == (10, 8, 4)
    # lift = (4/8) / (1/20) = 10; Katz: se = sqrt(1/4 - 1/8 + 1/1 - 1/20) = sqrt(1.075)
    assert p1.lift == pytest.approx(10.0)
    se = math.sqrt(1.075)
    assert p1.lift_low == pytest.approx(10 * math.exp(-1.96 * se))
    assert p1.lift_high == pytest.approx(10 * math.exp(1.96 * se))
    assert p1.review is None
    p2_rate = by["P2"]
    assert (p2_rate.selections, p2_rate.controlled, p2_rate.hits) == (5, 4, 3)
    assert p2_rate.review == "review was due on 2026-06-30"


def test_lift_without_random_hits_stays_finite() -> None:
    lift, low, high = lift_interval(5, 10, 0, 100)
    # Haldane correction: (5.5/10.5) / (0.5/100.5)
    assert lift == pytest.approx((5.5 / 10.5) / (0.5 / 100.5))
    assert low is not None and high is not None and 1 < low < lift < high
    assert lift_interval(1, 0, 0, 10) == (None, None, None)


def test_profile_not_better_than_random_is_flagged(db: Database) -> None:
    results = [
        ControlResult(target_ref=f"X{i}", office="NL1", controlled_on=DAY, outcome="no_finding")
        for i in range(30)
    ]
    cited = [{"profile": "DULL", "version": 1}]
    _selections(
        db, [_selection(f"X{i}", "profiles" if i < 30 else "random", cited) for i in range(60)]
    )
    results += [
        ControlResult(
            target_ref=f"X{i}",
            office="NL1",
            controlled_on=DAY,
            outcome="seizure",
            seizures=[Seizure(drug="cocaine", quantity_kg=1)],
        )
        for i in range(30, 33)
    ]
    results += [
        ControlResult(target_ref=f"X{i}", office="NL1", controlled_on=DAY, outcome="no_finding")
        for i in range(33, 60)
    ]
    record_results(db, results)
    (dull,) = performance(db).profiles
    assert dull.review == "hit rate 0.0% not above random (10.0%)"


def test_performance_chart_is_drawn_or_refused_when_empty(db: Database, tmp_path: Path) -> None:
    from redlane.targeting.charts import performance_chart

    with pytest.raises(ValueError, match="nothing to chart"):
        performance_chart(performance(db), tmp_path / "empty.png")
    _history(db)
    png = performance_chart(performance(db), tmp_path / "charts" / "performance.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = performance_chart(performance(db), tmp_path / "performance.svg").read_text()
    assert "P1" in svg and "P2" in svg and "random 5.0%" in svg
