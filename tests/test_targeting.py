"""Targeting: facts from the store, one compiled pass, selection, back-test, the demo day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import (
    feature_table,
    make_consignment,
    make_container_event,
    make_control_result,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from redlane.demo import TRUTH_DIR, generate
from redlane.demo.controls import demo_recall, simulate_controls
from redlane.intake.pipeline import ingest, store_models
from redlane.model import ControlResult, Equipment, GoodsItem, RoledParty
from redlane.store.database import Database
from redlane.targeting import (
    DuckDBEngine,
    RiskProfile,
    SelectionSettings,
    Window,
    backtest,
    features_for,
    import_results,
    performance,
    select,
    starter_profiles,
    target,
)
from redlane.targeting.run import load_settings

DAY = date(2026, 11, 2)


def profile(pid: str, criteria: str, weight: int, lane: str = "green") -> RiskProfile:
    return RiskProfile.model_validate(
        {
            "id": pid, "title": pid, "rationale": f"why {pid} matters", "mode": "sea",
            "criteria": criteria, "weight": weight, "action": {"lane": lane},
            "valid_from": "2026-01-01", "owner": "test", "author": "analyst",
            "approved_by": "supervisor", "status": "active",
        }
    )  # fmt: skip


PROFILES = [
    profile("T-NEW", "consignee_prior_documents = 0 AND has_any(route_countries, ('EC'))", 40),
    profile("T-SEAL", "seal_mismatch", 70, "red"),
    profile("T-FRT", "freight_paid_by_third_party", 30, "yellow"),
]


def _store(db: Database, models: list[BaseModel]) -> None:
    store_models(db, models[0].record, models)  # type: ignore[attr-defined]


@pytest.fixture
def history(db: Database) -> Database:
    """Day 1: Fresh Import BV imports once. Day 2: it imports again (c1), a newcomer shares
    c1's container with another seal (c2), and an established T-shirt importer (c3)."""
    _store(db, [make_consignment(100, arrival_date=DAY - timedelta(days=1), movement_ref="OLD")])
    newcomer = RoledParty(role="consignee", name="Nova Fruit BV", address=None)
    c2 = make_consignment(
        2,
        parties=[p if p.role != "consignee" else newcomer for p in make_consignment().parties],
        equipment=[Equipment(number="CSQU3054383", reefer=True, seals=["EC999999"])],
        goods=[
            GoodsItem(
                hs_code="080390",
                description="Bananas",
                packages=10,
                gross_mass_kg=20000,
                value=6000,
            )
        ],
    )
    c3 = make_consignment(
        3,
        movement_ref="SEA-2",
        origin_country="CN",
        place_of_loading="CNSHA",
        transshipment_places=[],
        routing_countries=["CN", "NL"],
        freight=None,
        goods=[
            GoodsItem(
                hs_code="610910",
                description="T-shirts",
                packages=100,
                gross_mass_kg=1000,
                value=9000,
            )
        ],
        equipment=[Equipment(number="MSCU1234565", seals=["CN1"])],
    )
    _store(db, [make_consignment(1), c2, c3])
    return db


def test_facts_come_from_the_record_and_the_store_history(history: Database) -> None:
    rows = {
        r["target_ref"]: r
        for r in features_for(history, "consignment", Window(DAY, DAY + timedelta(1))).to_pylist()
    }
    assert sorted(rows) == ["MEDU00000001", "MEDU00000002", "MEDU00000003"]
    c1, c2, c3 = (rows[f"MEDU0000000{i}"] for i in (1, 2, 3))
    assert (c1["consignee_prior_documents"], c1["consignee_first_seen_days"]) == (1, 1)
    assert (c2["consignee_prior_documents"], c2["consignee_first_seen_days"]) == (0, 0)
    assert (c1["seal_mismatch"], c2["seal_mismatch"], c3["seal_mismatch"]) == (True, True, False)
    assert (c1["freight_paid_by_third_party"], c3["freight_paid_by_third_party"]) == (True, False)
    assert c1["route_countries"] == ["EC", "NL", "PA"] and c1["hs4"] == "0803"
    assert c1["container_check_digit_valid"] is True and c1["reefer"] is True
    assert c1["consignee_name"] == "fresh import bv" and c1["consignee_has_eori"] is True
    # value per kg over the stored median for bananas (three banana documents)
    banana = sorted([18000 / 21000.5, 6000 / 20000, 18000 / 21000.5])[1]
    assert c2["value_per_kg_ratio"] == pytest.approx((6000 / 20000) / banana)


def test_terminal_seals_are_compared_with_the_documents(history: Database) -> None:
    """The terminal reports c1's container with c1's seal (so c2, which declared that container
    with another seal, differs) and c3's container with a seal c3 never declared."""
    _store(
        history,
        [
            make_container_event("MSCU1234565").model_copy(update={"seals": ["CN999"]}),
            make_container_event("CSQU3054383").model_copy(update={"seals": ["EC123456"]}),
        ],
    )
    rows = {
        r["target_ref"]: r["terminal_seal_mismatch"]
        for r in features_for(history, "consignment", Window(DAY, DAY + timedelta(1))).to_pylist()
    }
    assert rows == {"MEDU00000001": False, "MEDU00000002": True, "MEDU00000003": True}


def test_batch_and_single_record_scores_agree(history: Database) -> None:
    features = features_for(history, "consignment", Window(DAY, DAY + timedelta(1)))
    engine = DuckDBEngine(PROFILES)
    batch = {r["target_ref"]: r for r in engine.score("consignment", features).to_pylist()}
    assert {ref: (r["score"], r["lane"]) for ref, r in batch.items()} == {
        "MEDU00000001": (100, "red"),
        "MEDU00000002": (140, "red"),
        "MEDU00000003": (0, "green"),
    }
    for record in features.to_pylist():
        one = engine.score_one("consignment", record, features.schema)
        assert (one.score, one.lane) == (
            batch[one.target_ref]["score"],
            batch[one.target_ref]["lane"],
        )
    one = engine.score_one("consignment", features.to_pylist()[1], features.schema)
    assert [(h.profile_id, h.version) for h in one.hits] == [
        ("T-SEAL", 1),
        ("T-FRT", 1),
        ("T-NEW", 1),
    ]


def test_the_plan_is_compiled_again_only_when_profiles_change() -> None:
    engine = DuckDBEngine(PROFILES)
    assert engine.update(list(PROFILES)) is False
    changed = [*PROFILES[:2], PROFILES[2].model_copy(update={"weight": 31})]
    assert engine.update(changed) is True
    assert "CASE WHEN" in engine.compiled.sql["consignment"]


def _scored(n_green: int, red_scores: list[int], office: str = "NL1") -> pa.Table:
    n = n_green + len(red_scores)
    return pa.table(
        {
            "target_kind": ["consignment"] * n,
            "target_id": np.arange(n, dtype=np.int64),
            "target_ref": [f"D{i}" for i in range(n)],
            "office": [office] * n,
            "day": [DAY] * n,
            "mode": ["sea"] * n,
            "hits": pa.array([[] for _ in range(n)], pa.list_(pa.int32())),
            "score": [0] * n_green + red_scores,
            "lane": ["green"] * n_green + ["red"] * len(red_scores),
        }
    )


def test_random_share_comes_from_the_not_selected_and_capacity_keeps_the_highest() -> None:
    scored = _scored(190, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    engine = DuckDBEngine([])
    settings = SelectionSettings(random_rate=0.05, capacity=15)
    chosen = select(scored, engine, settings, seed=7).to_pylist()
    randoms = [r for r in chosen if r["method"] == "random"]
    ruled = [r for r in chosen if r["method"] == "profiles"]
    assert len(randoms) == 10 and all(r["score"] == 0 for r in randoms)  # 5% of 200, all green
    assert len(ruled) == 10  # none dropped
    kept = sorted(r["score"] for r in ruled if r["status"] == "selected")
    over = sorted(r["score"] for r in ruled if r["status"] == "over_capacity")
    assert (kept, over) == ([60, 70, 80, 90, 100], [10, 20, 30, 40, 50])
    again = select(scored, engine, settings, seed=7).to_pylist()
    other = select(scored, engine, settings, seed=8).to_pylist()
    draw = {r["target_ref"] for r in randoms}
    assert draw == {r["target_ref"] for r in again if r["method"] == "random"}
    assert draw != {r["target_ref"] for r in other if r["method"] == "random"}


def test_a_run_stores_selections_citing_profile_versions(history: Database) -> None:
    run = target(history, PROFILES, Window(DAY, DAY + timedelta(1)), seed=3)
    rows = {r["target_ref"]: r for r in run.selections.to_pylist()}
    assert rows["MEDU00000002"]["lane"] == "red" and rows["MEDU00000002"]["score"] == 140
    assert '"profile": "T-SEAL", "version": 1' in rows["MEDU00000002"]["reasons"]
    assert run.targets == {"consignment": 3}


def test_backtest_reports_what_a_draft_would_have_found(history: Database) -> None:
    _store(history, [make_control_result("MEDU00000002"),
                     ControlResult(target_ref="MEDU00000001", office="NL000396",
                                   controlled_on=DAY, outcome="no_finding")])  # fmt: skip
    draft = PROFILES[0].model_copy(update={"status": "draft", "approved_by": None})
    result = backtest(history, draft, DAY, DAY + timedelta(days=1))
    assert (result.targets, result.selected, result.controlled, result.hits) == (3, 1, 1, 1)
    assert result.examples == ["MEDU00000002"]


@pytest.mark.timeout(300)
def test_starter_profiles_find_most_planted_contraband_on_a_demo_day(
    sqlite_db: Database, tmp_path: Path
) -> None:
    traffic = tmp_path / "traffic"
    generate(traffic, days=3, scale=0.25, seed=5, formats=("parquet",))
    ingest(sqlite_db, traffic)
    con = duckdb.connect()
    ((day,),) = con.sql(
        f"SELECT max(arrival_date) FROM '{traffic}/consignments.parquet'"
    ).fetchall()
    run = target(sqlite_db, starter_profiles(), Window(day, day + timedelta(days=1)), seed=1)
    results = tmp_path / "results.csv"
    simulate_controls(sqlite_db, traffic, results, run.run_id)
    summary = import_results(sqlite_db, results)
    assert summary.stored == summary.read > 0 and not summary.problems
    report = performance(sqlite_db, starter_profiles())
    methods = {m.name: m for m in report.methods}
    found = methods["profiles"].hits + methods["random"].hits
    window = Window(day, day + timedelta(days=1))
    refs = [
        ref
        for kind in ("consignment", "traveller", "movement")
        for ref in features_for(sqlite_db, kind, window).column("target_ref").to_pylist()  # type: ignore[arg-type]
    ]
    ((planted,),) = con.sql(
        f"SELECT count(*) FROM '{traffic / TRUTH_DIR}/truth.parquet' "
        "WHERE contraband AND list_contains(?, target_ref)",
        params=[refs],
    ).fetchall()
    assert planted >= 10
    assert found >= 0.6 * planted
    assert demo_recall(sqlite_db, traffic) == (found, planted)
    profiles = methods["profiles"]
    assert profiles.hit_rate is not None and profiles.hit_rate > 0.3
    assert profiles.lift is not None and profiles.lift_low is not None and profiles.lift_low > 1


def test_selection_settings_file_fails_loudly_on_a_wrong_key(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("random_rates: {air-passenger: 0.002}\ncapacities: {NL000396: 120}\n")
    settings, thresholds = load_settings(good)
    assert settings.random_rates == {"air-passenger": 0.002}
    assert settings.capacities == {"NL000396": 120} and settings.capacity == 80
    assert (thresholds.red, thresholds.yellow) == (100, 60)
    bad = tmp_path / "bad.yaml"
    bad.write_text("capacity: 40\nrandom_rat: 0.01\n")
    with pytest.raises(ValueError, match="random_rat: Extra inputs are not permitted"):
        load_settings(bad)
    bad.write_text("random_rate: 2\n")
    with pytest.raises(ValueError, match="random_rate: Input should be less than or equal to 1"):
        load_settings(bad)


TRICKY = [
    profile("X-DIV", "total_value / total_gross_mass_kg < 0.5 OR total_packages % 0 = 1", 11),
    profile("X-DEC", "container_count * 0.1 > 0.3 AND freight_to_value >= 0.25", 12),
    profile("X-BIG", "consignee_prior_documents * 1000000 > 5 AND -total_value < -10.5", 13),
    profile("X-IN", "origin_country NOT IN ('EC', NULL) OR hs4 IN ('0803', NULL)", 14),
    profile("X-LIKE", "goods_description LIKE 'ba_ana%' OR consignee_name ILIKE '%BV'", 15),
    profile("X-NULL", "reefer IS TRUE AND NOT (seal_mismatch) AND value_per_kg_ratio IS NULL", 16),
    profile(
        "X-BETWEEN", "total_packages BETWEEN 10 AND NULL OR abs(total_value) BETWEEN 1 AND 9", 17
    ),
    profile("X-LIST", "any_like(hs_codes, '08%') AND NOT has(route_countries, 'NL')", 18, "red"),
    profile("X-DATE", "day > DATE '2026-11-02' AND coalesce(freight_terms, 'x') = 'prepaid'", 19),
    profile("X-LEN", "length(goods_description) > 6 AND length(hs_codes) = 1", 20, "yellow"),
]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_single_record_closures_agree_with_the_batch_query(data: st.DataObject) -> None:
    words = st.sampled_from(["EC", "NL", "0803", "080390", "bananas", "Nova BV", "prepaid", ""])
    maybe = lambda s: st.none() | s  # noqa: E731
    value = {
        "string": maybe(words),
        "integer": maybe(st.integers(-5, 40)),
        "number": maybe(st.sampled_from([0.0, 0.1, 0.25, 0.3, 1.0, 10.5, -3.0, 1e6])),
        "boolean": maybe(st.booleans()),
        "date": maybe(st.dates(date(2026, 10, 30), date(2026, 11, 5))),
        "list": maybe(st.lists(maybe(words), max_size=3)),
    }
    from redlane.targeting import CATALOGUE

    fields = CATALOGUE["consignment"]
    rows = data.draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "mode": st.sampled_from(["sea", "air"]),
                    **{name: value[f.type] for name, f in fields.items() if name != "mode"},
                }
            ),
            min_size=1,
            max_size=8,
        )
    )
    for i, row in enumerate(rows):
        row.update(target_kind="consignment", target_id=i, target_ref=f"R{i}")
    table = feature_table(rows)
    engine = DuckDBEngine([*starter_profiles(), *TRICKY])
    batch = engine.score("consignment", table).to_pylist()
    for row, scored in zip(table.to_pylist(), batch, strict=True):
        one = engine.score_one("consignment", row)
        assert sorted(h.profile_id for h in one.hits) == sorted(
            engine.compiled.profiles[i].id for i in scored["hits"]
        ), row
        assert (one.score, one.lane) == (scored["score"], scored["lane"])
