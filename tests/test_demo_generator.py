"""The synthetic traffic generator: valid records, deterministic bytes, truthful ground truth."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from redlane.demo import (
    PATTERNS,
    TRUTH_DIR,
    GenerationSummary,
    Rates,
    Volumes,
    generate,
    ids,
    lanes,
)
from redlane.demo.rng import IndexedRng, RecordRng
from redlane.intake import identifiers
from redlane.model import RECORD_ADAPTER

SCALE = 0.05
# Boosted rates and more yachts, so every pattern shows up in a small, fast run.
RATES = Rates(
    sea_cover_load=0.02,
    sea_rip_on_rip_off=0.02,
    sea_new_importer_fruit=0.02,
    sea_third_party_freight=0.02,
    sea_reseal=0.02,
    air_walk_in_perishables=0.03,
    air_private_consignee=0.03,
    air_walk_in_company=0.03,
    pax_courier=0.004,
    pax_late_card=0.004,
    pax_cash_normal_route=0.004,
    yacht_recent_purchase=0.2,
    yacht_long_owned_crew2=0.2,
    yacht_recent_purchase_med=0.2,
    truck_balkan_cover_load=0.02,
    truck_new_haulier=0.02,
    truck_low_value_load=0.02,
)
VOLUMES = Volumes(yacht_arrivals=400)
KINDS = ("consignments", "travellers", "movements")


def _run(out: Path, **kw: Any) -> GenerationSummary:
    args: dict[str, Any] = {"scale": SCALE, "rates": RATES, "volumes": VOLUMES, "seed": 11}
    return generate(out, **(args | kw))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, _run(out)


@pytest.fixture(scope="module")
def records(run: tuple[Path, GenerationSummary]) -> dict[str, list[dict[str, Any]]]:
    out, _ = run
    return {k: [json.loads(line) for line in (out / f"{k}.jsonl").open()] for k in KINDS}


@pytest.fixture(scope="module")
def truth(run: tuple[Path, GenerationSummary]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run[0] / TRUTH_DIR / "truth.jsonl").open()]


def _ref(kind: str, r: dict[str, Any]) -> str:
    if kind == "consignment":
        return str(r["document"]["number"])
    if kind == "traveller":
        return str(r["document"]["number"])
    return str(r["ref"])


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_summary_and_files(run: tuple[Path, GenerationSummary]) -> None:
    _out, summary = run
    names = sorted(str(p.relative_to(_out)) for p in summary.files)
    kinds = (*KINDS, f"{TRUTH_DIR}/truth")
    expected = sorted(f"{k}.{f}" for k in kinds for f in ("jsonl", "parquet"))
    assert names == expected
    assert summary.records == {
        "consignment": 600 + 300 + 100,
        "traveller": 2500,
        "movement": 15 + 12 + 2 + 250 + 20,
    }
    assert set(summary.contraband) == {p for p, (_, c) in PATTERNS.items() if c}
    assert set(summary.lookalikes) == {p for p, (_, c) in PATTERNS.items() if not c}


def test_every_record_validates_and_jsonl_equals_parquet(
    run: tuple[Path, GenerationSummary],
) -> None:
    out, summary = run
    for kind in KINDS:
        lines = (out / f"{kind}.jsonl").read_text().splitlines()
        table = pq.read_table(out / f"{kind}.parquet")
        assert len(lines) == table.num_rows == summary.records[kind[:-1]]
        for line, row in zip(lines, table.to_pylist(), strict=True):
            assert RECORD_ADAPTER.validate_json(line) == RECORD_ADAPTER.validate_python(row)
            assert "null" not in line.split('"seals":')[-1][:6]  # empty lists are [], not null


def test_traffic_never_carries_the_truth(run: tuple[Path, GenerationSummary]) -> None:
    out, _ = run
    for kind in KINDS:
        text = (out / f"{kind}.jsonl").read_text()
        assert "contraband" not in text
        assert not any(p in text for p in PATTERNS)


def test_deterministic_bytes(run: tuple[Path, GenerationSummary], tmp_path: Path) -> None:
    out, summary = run
    again = _run(tmp_path)
    for p in summary.files:
        assert (tmp_path / p.relative_to(out)).read_bytes() == p.read_bytes(), p.name
    generate(tmp_path / "seed", scale=SCALE, seed=12, formats=("jsonl",))
    assert (tmp_path / "seed" / "consignments.jsonl").read_bytes() != (
        out / "consignments.jsonl"
    ).read_bytes()
    assert again.records == summary.records


def test_chunk_size_does_not_change_records(
    run: tuple[Path, GenerationSummary], tmp_path: Path
) -> None:
    out, _ = run
    _run(tmp_path, chunk_size=64, formats=("jsonl", "parquet"))
    for name in (*KINDS, f"{TRUTH_DIR}/truth"):
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (out / f"{name}.jsonl").read_bytes()
    # A Parquet row group per chunk; the rows are the same.
    for name, n in (("travellers", 2500), ("movements", 15 + 12 + 2 + 250 + 20)):
        small = pq.ParquetFile(tmp_path / f"{name}.parquet")
        assert small.metadata.num_row_groups >= -(-n // 64)
        assert small.read().equals(pq.read_table(out / f"{name}.parquet"))
    # The truth leaves in row groups of a fixed size: its Parquet file does not change either.
    truth = f"{TRUTH_DIR}/truth.parquet"
    assert (tmp_path / truth).read_bytes() == (out / truth).read_bytes()


def test_kinds_generated_alone_are_the_same_records(
    run: tuple[Path, GenerationSummary], tmp_path: Path
) -> None:
    out, summary = run
    full_truth = pq.read_table(out / TRUTH_DIR / "truth.parquet").to_pylist()
    for kinds in (("consignment",), ("traveller", "movement")):
        sub = tmp_path / "-".join(kinds)
        s = _run(sub, kinds=kinds, chunk_size=256)
        assert s.records == {k: summary.records[k] for k in kinds}
        names = sorted(str(p.relative_to(sub)) for p in s.files)
        expected = [f"{k}s.{f}" for k in kinds for f in ("jsonl", "parquet")]
        assert names == sorted(
            [*expected, f"{TRUTH_DIR}/truth.jsonl", f"{TRUTH_DIR}/truth.parquet"]
        )
        for k in kinds:
            # Byte for byte: consignments alone still point at the same movements.
            assert (sub / f"{k}s.jsonl").read_bytes() == (out / f"{k}s.jsonl").read_bytes()
        truth = pq.read_table(sub / TRUTH_DIR / "truth.parquet").to_pylist()
        assert truth == [t for t in full_truth if t["target_kind"] in kinds]
        assert set(s.contraband) | set(s.lookalikes) == {
            p for p, (kind, _) in PATTERNS.items() if kind in kinds
        }
    for bad in ((), ("ship",), "consignment", ("consignment", "vessel")):
        with pytest.raises(ValueError):
            generate(tmp_path / "bad", scale=0.01, kinds=bad)


def test_movement_refs_point_at_movements(records: dict[str, list[dict[str, Any]]]) -> None:
    refs = {m["ref"] for m in records["movements"]}
    assert len(refs) == len(records["movements"])
    for kind in ("consignments", "travellers"):
        assert {r["movement_ref"] for r in records[kind]} <= refs
    kinds = {r["mode"]: r["movement_ref"].split("-")[0] for r in records["consignments"]}
    assert kinds == {"sea": "SEA", "air": "AIR", "road": "ROAD"}


def test_indexed_draws_replay_the_chunked_ones() -> None:
    chunk = RecordRng(5, "truck", 3, 4096, 1000)
    index = np.random.default_rng(0).integers(4096, 5096, 3000)
    again = IndexedRng(5, "truck", 3, index)
    for name in ("pattern", "origin", "haulier:new"):
        assert np.array_equal(again.u(name), chunk.u(name)[index - 4096])
    assert np.array_equal(again.normal("x"), chunk.normal("x")[index - 4096])
    assert np.array_equal(again.index, index)
    assert np.array_equal(chunk.index, np.arange(4096, 5096))


def test_truth_targets_exist_exactly_once(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    refs = {k[:-1]: Counter(_ref(k[:-1], r) for r in v) for k, v in records.items()}
    for t in truth:
        assert refs[t["target_kind"]][t["target_ref"]] == 1, t
        assert PATTERNS[t["pattern"]] == (t["target_kind"], t["contraband"])
        if t["contraband"]:
            assert t["drug"] and t["quantity_kg"] > 0 and t["concealment"]
        else:
            assert t["drug"] is None and t["quantity_kg"] is None and t["concealment"] is None


def _targets(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]], pattern: str
) -> list[dict[str, Any]]:
    kind = PATTERNS[pattern][0]
    by_ref = {_ref(kind, r): r for r in records[f"{kind}s"]}
    found = [by_ref[t["target_ref"]] for t in truth if t["pattern"] == pattern]
    assert found, f"no {pattern} planted"
    return found


def _party(r: dict[str, Any], role: str) -> dict[str, Any] | None:
    return next((p for p in r["parties"] if p["role"] == role), None)


def test_sea_cover_load_facts(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    cons = records["consignments"]
    eori_seen = Counter(e for r in cons for e in {p["eori"] for p in r["parties"] if p["eori"]})
    perishable = set(lanes.PERISHABLE_COVER)
    for pattern in ("sea_cover_load", "sea_new_importer_fruit"):
        targets = _targets(records, truth, pattern)
        for r in targets:
            assert r["mode"] == "sea"
            assert r["goods"][0]["hs_code"] in perishable
            assert all(e["reefer"] for e in r["equipment"])
            assert r["origin_country"] in lanes.SOURCE_COUNTRIES
            assert r["transshipment_places"] and r["transshipment_places"][0] in lanes.HUB_FEEDERS
        # New consignee: its registration appears on no other document of the run.
        new = [eori_seen[_party(r, "consignee")["eori"]] == 1 for r in targets]  # type: ignore[index]
        assert sum(new) >= 0.8 * len(targets)
    cover = _targets(records, truth, "sea_cover_load")
    fruit = _targets(records, truth, "sea_new_importer_fruit")
    # Freight paid by an unrelated party marks most cover loads, but not the look-alike.
    assert sum(_party(r, "freight_payer") is not None for r in cover) >= 0.5 * len(cover)
    for r in cover:
        if _party(r, "freight_payer") is not None:
            assert r["freight"]["payer_role"] == "freight_payer"
    assert sum(_party(r, "freight_payer") is not None for r in fruit) <= 0.2 * len(fruit)


def test_rip_on_rip_off_shares_the_container_with_other_seals(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    by_container: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for r in records["consignments"]:
        for e in r["equipment"]:
            by_container.setdefault(e["number"], []).append(
                (r["document"]["number"], tuple(e["seals"]))
            )
    for pattern in ("sea_rip_on_rip_off", "sea_reseal"):
        for r in _targets(records, truth, pattern):
            docs = by_container[r["equipment"][0]["number"]]
            assert len(docs) == 2 and docs[0][1] != docs[1][1], docs
    for r in _targets(records, truth, "sea_rip_on_rip_off"):
        assert r["origin_country"] in lanes.SOURCE_COUNTRIES


def test_air_walk_in_facts(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    for r in _targets(records, truth, "air_walk_in_perishables"):
        assert r["document"]["kind"] == "air_waybill"
        assert r["place_of_loading"] in lanes.AIR_SOURCE_ORIGINS
        assert _party(r, "consignor")["kind"] == "person"  # type: ignore[index]
        assert _party(r, "consignee")["kind"] == "person"  # type: ignore[index]
        assert r["goods"][0]["hs_code"] in {"060311", "060319", "080440"}
        assert r["goods"][0]["gross_mass_kg"] >= 100
    for r in _targets(records, truth, "air_walk_in_company"):
        assert _party(r, "consignee")["kind"] == "organisation"  # type: ignore[index]


def test_passenger_courier_facts(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    for r in _targets(records, truth, "pax_courier"):
        legs, booking = r["itinerary"], r["booking"]
        assert legs[0]["origin"] in lanes.COURIER_ORIGINS
        assert booking["payment_form"] == "cash"
        assert _ts(legs[0]["departs_at"]) - _ts(booking["booked_at"]) <= timedelta(hours=36)
        assert booking["checked_bags"] in (1, 2)
        if not booking["one_way"]:
            assert _ts(legs[-1]["departs_at"]) - _ts(legs[-2]["departs_at"]) <= timedelta(days=6)
    for r in _targets(records, truth, "pax_late_card"):
        assert r["booking"]["payment_form"] == "card"
    for r in _targets(records, truth, "pax_cash_normal_route"):
        assert r["booking"]["payment_form"] == "cash"
        assert r["itinerary"][0]["origin"] not in lanes.COURIER_ORIGINS
    # Nationality is not the signal: couriers' nationalities are a mix, like everybody's.
    nat = Counter(r["nationality"] for r in _targets(records, truth, "pax_courier"))
    assert len(nat) >= 2


def test_yacht_facts(records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]) -> None:
    def owned_days(m: dict[str, Any]) -> int:
        departed = _ts(m["itinerary"][0]["departure"]).date()
        return (departed - date.fromisoformat(m["conveyance"]["acquired_on"])).days

    far = set(lanes.YACHT_CARIBBEAN) | set(lanes.YACHT_ATLANTIC)
    for m in _targets(records, truth, "yacht_recent_purchase"):
        assert m["conveyance"]["kind"] == "yacht"
        assert owned_days(m) <= 200 and m["persons_on_board"] <= 3
        assert m["itinerary"][0]["place"] in far
    for m in _targets(records, truth, "yacht_long_owned_crew2"):
        assert owned_days(m) >= 3 * 365 and m["persons_on_board"] == 2
    for m in _targets(records, truth, "yacht_recent_purchase_med"):
        assert owned_days(m) <= 200 and m["itinerary"][0]["place"] in lanes.YACHT_MED


def test_truck_facts(records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]) -> None:
    cmrs: dict[str, list[dict[str, Any]]] = {}
    for r in records["consignments"]:
        cmrs.setdefault(r["movement_ref"], []).append(r)
    operators = Counter(
        m["conveyance"]["operator"]["name"]
        for m in records["movements"]
        if m["conveyance"]["kind"] == "truck"
    )
    for m in _targets(records, truth, "truck_balkan_cover_load"):
        assert m["itinerary"][0]["place"][:2] in {"TR", "BG", "RS", "MK", "AL", "GR"}
        acquired = date.fromisoformat(m["conveyance"]["acquired_on"])
        assert (_ts(m["itinerary"][-1]["arrival"]).date() - acquired).days <= 150
        goods = [g for c in cmrs[m["ref"]] for g in c["goods"]]
        assert goods and goods[0]["hs_code"] in {"845011", "080410"}
        assert operators[m["conveyance"]["operator"]["name"]] <= 2  # a haulier new to us


def test_rates_near_requested(
    records: dict[str, list[dict[str, Any]]], truth: list[dict[str, Any]]
) -> None:
    found = Counter(t["pattern"] for t in truth)
    population = {
        "sea_": 600,
        "air_": 300 * 0.65,  # express parcels carry no air cargo pattern
        "pax_": 2500 * 0.95,  # crew neither
        "yacht_": 20,
        "truck_": 250,
    }
    for prefix, n in population.items():
        for pattern, rate in RATES.of(prefix):
            expected = rate * n * (0.75 if pattern in ("sea_rip_on_rip_off", "sea_reseal") else 1)
            tolerance = 4 * np.sqrt(expected) + 2
            assert abs(found[pattern] - expected) <= tolerance, (pattern, found[pattern], expected)


def test_default_rates_plant_a_few_per_mille(tmp_path: Path) -> None:
    s = generate(tmp_path, scale=0.1, formats=("parquet",))
    planted = sum(c for p, c in s.contraband.items() if PATTERNS[p][0] == "consignment")
    assert 0.002 <= planted / s.records["consignment"] <= 0.007


def test_identifiers_valid_at_intended_rates(records: dict[str, list[dict[str, Any]]]) -> None:
    cons = records["consignments"]
    containers = np.array([e["number"] for r in cons for e in r["equipment"]])
    ok = identifiers.valid_containers(containers)
    assert len(containers) > 500 and ok.mean() >= 0.97  # the cover loads have ~3 % bad ones
    awbs = np.array(
        [r["document"]["number"] for r in cons if r["document"]["kind"] == "air_waybill"]
    )
    assert identifiers.valid_awbs(awbs).all()
    masters = [r["document"]["master_number"] for r in cons if r["mode"] == "air"]
    assert identifiers.valid_awbs(np.array([m for m in masters if m])).all()
    movs = records["movements"]
    imos = np.array([m["conveyance"]["imo"] for m in movs if m["conveyance"]["imo"]])
    assert len(imos) and identifiers.valid_imos(imos).all()
    mmsis = np.array([m["conveyance"]["mmsi"] for m in movs if m["conveyance"]["mmsi"]])
    assert len(mmsis) and identifiers.valid_mmsis(mmsis).all()
    mrz = [t["document"]["mrz"] for t in records["travellers"] if t["document"]["mrz"]]
    valid = np.mean([identifiers.is_valid_mrz(m) for m in mrz])
    assert (len(mrz) > 1000 and 0.97 <= valid < 1.0) or valid == 1.0
    flights = [m for m in movs if m["conveyance"]["kind"] == "aircraft"]
    assert all(m["flight_number"] for m in flights)


def test_vectorised_builders_match_scalar_checks() -> None:
    rng = np.random.default_rng(3)
    owners = np.array(["MSCU", "HLXU", "TGHU", "CMAU"] * 50)
    serials = rng.integers(0, 1_000_000, 200)
    good = ids.container_numbers(owners, serials, np.zeros(200, bool))
    bad = ids.container_numbers(owners, serials, np.ones(200, bool))
    for g, b in zip(good, bad, strict=True):
        assert g[-1] == identifiers.container_check_digit(str(g)[:10])
        assert not identifiers.is_valid_container(str(b))
    first6 = rng.integers(900_000, 999_999, 100)
    for n in ids.imo_numbers(first6):
        assert n[-1] == identifiers.imo_check_digit(str(n)[:6])
    for a in ids.awb_numbers(np.array(["057"] * 100), rng.integers(0, 10**7, 100)):
        assert identifiers.is_valid_awb(str(a)) and a[-1] == identifiers.awb_check_digit(a[4:11])
    m = ids.codes(np.array(["L898902C3", "AB1234567"]), 9)
    assert [str(d) for d in ids.mrz_check(m)] == [
        identifiers.mrz_check_digit("L898902C3"),
        identifiers.mrz_check_digit("AB1234567"),
    ]
    assert len(set(ids.scramble(np.arange(10_000), 10**7, 5))) == 10_000


def test_formats_and_bad_arguments(tmp_path: Path) -> None:
    s = generate(tmp_path, scale=0.01, formats=("parquet",))
    assert not list(tmp_path.glob("consignments.jsonl"))
    assert (tmp_path / "consignments.parquet").exists()
    assert s.records["consignment"] == 120 + 60 + 20
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0.01, formats=("csv",))
    assert replace(RATES, pax_courier=0.0).pax_courier == 0.0
