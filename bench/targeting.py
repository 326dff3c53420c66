"""Targeting benchmark: generated consignment features scored against generated risk profiles.

    python bench/targeting.py                    # 1,000,000 consignments, 500 profiles
    python bench/targeting.py --targets 200000 --profiles 300 --baseline-sample 1000

One run generates the feature table of the consignments (the exact schema of
`redlane.targeting.features` for consignments, built column-wise with numpy) and the risk
profiles (from templates over the field catalogue, each validated), scores the whole table with
redlane's engine (`DuckDBEngine.score`, every profile compiled into one vectorised query), and
scores a sample of the same records one by one with a classic rule engine (each record a Python
dict, each profile's validated criteria tree interpreted node by node with SQL NULL semantics)
as the baseline. It checks that both give every sampled record the same score, measures the
latency of `score_one` (one record through the same compiled profiles, run as closures, on
--score-one records, after checking that they agree with the batch) and
prints records per second and per minute for each path and the ratio to the baseline.
Targets on a 2-core machine: 1,000,000 consignments per minute through the engine, at least
50 times the baseline, and a p99 `score_one` latency of 20 ms.
"""

from __future__ import annotations

import argparse
import math
import operator
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from redlane.targeting.catalogue import CATALOGUE
from redlane.targeting.criteria import ReferenceLists
from redlane.targeting.engine import DuckDBEngine
from redlane.targeting.features import feature_columns
from redlane.targeting.profiles import Action, Lane, RiskProfile, Status, default_lists

TARGET_PER_MINUTE = 1_000_000
TARGET_RATIO = 50
TARGET_P99_MS = 20.0

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Pool = Sequence[tuple[str, float]]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int32(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "list": pa.list_(pa.string()),
}

# --- the feature table ------------------------------------------------------------------------

MODES = ("sea", "air", "road")
LOADING: tuple[Pool, Pool, Pool] = (
    (
        ("COBUN", 6), ("COCTG", 5), ("COSMR", 2), ("ECGYE", 7), ("ECPSJ", 1), ("PECLL", 4),
        ("PEPAI", 2), ("BRSSZ", 5), ("BRRIG", 1), ("CNSHA", 12), ("CNNGB", 8), ("CNYTN", 6),
        ("USNYC", 5), ("USSAV", 4), ("NLRTM", 2), ("PAMIT", 2), ("CRLIO", 3), ("DOCAU", 1),
        ("MXZLO", 2), ("INNSA", 4), ("TRMER", 3), ("ZADUR", 2), ("VNSGN", 4),
    ),
    (
        ("COBOG", 5), ("ECUIO", 3), ("PELIM", 3), ("BRGRU", 4), ("CNPVG", 10), ("CNCAN", 5),
        ("USJFK", 8), ("USMIA", 4), ("NLAMS", 1), ("INBOM", 4), ("TRIST", 3), ("ZAJNB", 2),
        ("DOSDQ", 1), ("MXMEX", 2),
    ),
    (
        ("NLRTM", 3), ("DEDUI", 5), ("PLWAW", 4), ("TRIST", 3), ("ESALG", 2), ("BEANR", 3),
        ("CZPRG", 2),
    ),
)  # fmt: skip
DISCHARGE: tuple[Pool, Pool, Pool] = (
    (("NLRTM", 10), ("BEANR", 8), ("DEHAM", 6), ("ESALG", 3), ("ESVLC", 3), ("FRLEH", 3)),
    (("NLAMS", 5), ("BEBRU", 3), ("BELGG", 2), ("DEFRA", 5), ("ESMAD", 2)),
    (("NLVEN", 2), ("DEAAH", 2), ("BEZEE", 1)),
)
TRANSSHIPMENT: tuple[Pool, Pool, Pool] = (
    (
        ("PAMIT", 4), ("PABLB", 2), ("JMKIN", 2), ("DOCAU", 1), ("MAPTM", 3), ("ESALG", 4),
        ("BSFPO", 1), ("SGSIN", 5), ("AEJEA", 3), ("CNSHA", 2), ("USNYC", 2), ("GRPIR", 2),
        ("PTSIE", 1), ("ESVLC", 2), ("TTPOS", 1), ("CWWIL", 1),
    ),
    (
        ("ETADD", 2), ("NLAMS", 3), ("DEFRA", 3), ("PTLIS", 2), ("MACAS", 1), ("USMIA", 3),
        ("AEDXB", 4), ("TRIST", 3),
    ),
    (("DEDUI", 2), ("BEANR", 1)),
)  # fmt: skip
TRANSSHIPMENT_LENGTHS = ((0.45, 0.30, 0.17, 0.08), (0.60, 0.30, 0.10, 0.0), (0.95, 0.05, 0, 0))
ORIGIN_MIX: Pool = (
    ("CO", 5), ("EC", 5), ("PE", 3), ("BR", 4), ("CN", 12), ("US", 6), ("NL", 3), ("DE", 3),
    ("IN", 3), ("VN", 3), ("TR", 2), ("MX", 2), ("CR", 2), ("ZA", 1),
)  # fmt: skip
CONSIGNEE_COUNTRIES: Pool = (("NL", 40), ("BE", 20), ("DE", 20), ("ES", 10), ("FR", 5), ("GB", 5))
DELIVERY: Pool = (
    ("NLTIL", 3),
    ("NLVEN", 2),
    ("DEDUI", 2),
    ("BEGNE", 1),
    ("NLAMS", 1),
    ("FRPAR", 1),
)
#: HS code, weight, typical value per kg, descriptions.
GOODS: tuple[tuple[str, float, float, tuple[str, str, str]], ...] = (
    ("08039010", 8, 0.9, ("fresh bananas", "bananas cavendish", "green bananas")),
    ("080390", 3, 0.9, ("bananas", "organic bananas", "fresh bananas")),
    ("08044000", 5, 2.5, ("fresh avocados", "avocados hass", "avocado")),
    ("080450", 2, 2.0, ("mangoes", "fresh mangoes", "mango and guavas")),
    ("08051000", 3, 1.0, ("oranges", "fresh oranges", "citrus fruit")),
    ("06031100", 2, 8.0, ("fresh cut roses", "roses", "cut flowers")),
    ("07020000", 2, 1.2, ("tomatoes", "fresh tomatoes", "cherry tomatoes")),
    ("845011", 3, 6.0, ("washing machines", "automatic washing machines", "laundry machines")),
    ("841810", 2, 5.0, ("refrigerators", "fridge freezers", "refrigerator-freezers")),
    ("61091000", 6, 20.0, ("t-shirts cotton", "cotton t-shirts", "knitted shirts")),
    ("09011100", 4, 4.0, ("green coffee beans", "coffee not roasted", "coffee")),
    ("847130", 4, 300.0, ("laptops", "portable computers", "notebook computers")),
    ("940360", 4, 5.0, ("wooden furniture", "furniture", "tables and chairs")),
    ("870323", 2, 15.0, ("passenger cars", "used cars", "motor vehicles")),
    ("39269097", 5, 4.0, ("plastic articles", "plastic parts", "household plastics")),
    ("851713", 3, 400.0, ("smartphones", "mobile phones", "telephones")),
    ("64039900", 3, 30.0, ("leather shoes", "footwear", "shoes")),
    ("03061792", 2, 9.0, ("frozen shrimp", "shrimps", "frozen prawns")),
    ("200819", 2, 2.0, ("nuts preserved", "roasted nuts", "mixed nuts")),
    ("22042109", 3, 5.0, ("wine", "red wine", "white wine")),
    ("08134095", 1, 6.0, ("dried fruit", "dates", "dried dates")),
)
VAGUE = ("general merchandise", "general cargo", "parts", "goods", "fak", "sundries", "samples")
CONSIGNEES = (
    "fresh fruit imports bv", "global trading ltd", "agro import export sl", "de vries holding",
    "j. jansen", "m. el amrani", "rotterdam fruit company", "euro foods gmbh", "nordic traders ab",
    "tropical produce nv", "p. van dijk", "atlantic logistics bv", "hamburg handel gmbh",
    "iberia frutas sa", "bright home appliances", "textile world bv", "coffee roasters nl",
    "car export center", "tech distributors eu", "shoe palace bv", "sea harvest bv",
    "unknown consignee", "import export 2000", "green leaf trading", "city furniture",
    "fast cargo services", "k. ahmed", "s. rossi", "l. petrov", "new star trading",
)  # fmt: skip


def _pick(rng: np.random.Generator, pool: Pool, size: int) -> Ints:
    weights = np.array([w for _, w in pool], dtype=np.float64)
    return rng.choice(len(pool), size=size, p=weights / weights.sum()).astype(np.int64)


def _pick_by(
    rng: np.random.Generator, groups: Ints, pools: Sequence[Pool]
) -> tuple[list[str], Ints]:
    """One value per element from the pool of its group: (vocabulary, indices into it)."""
    vocab: list[str] = []
    idx = np.zeros(len(groups), dtype=np.int64)
    for g, pool in enumerate(pools):
        mask = groups == g
        idx[mask] = len(vocab) + _pick(rng, pool, int(mask.sum()))
        vocab.extend(v for v, _ in pool)
    return vocab, idx


def _strings(vocab: Sequence[str], idx: Ints, null: Bools | None = None) -> pa.Array:
    return pa.array(list(vocab), pa.string()).take(pa.array(idx, mask=null))


def _list(vocab: Sequence[str], lengths: Ints, flat: Ints, null: Bools | None = None) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    mask = pa.array(null) if null is not None else None
    return pa.ListArray.from_arrays(pa.array(offsets), _strings(vocab, flat), mask=mask)


def _items(lengths: Ints) -> tuple[Ints, Ints]:
    """For the flattened items of lists of these lengths: each item's row and its position."""
    rows = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return rows, np.arange(len(rows)) - starts[rows]


def _numbers(values: npt.NDArray[Any], kind: pa.DataType, null: Bools | None = None) -> pa.Array:
    return pa.array(values, type=kind, mask=null)


def build_features(n: int, seed: int) -> pa.Table:
    """`n` consignment feature rows, the schema of `features_for(db, "consignment", ...)`."""
    rng = np.random.default_rng(seed)

    def chance(p: float, size: int = n) -> Bools:
        return rng.random(size) < p

    mode = _pick(rng, (("sea", 55), ("air", 30), ("road", 15)), n)
    sea, air = mode == 0, mode == 1

    # Places and countries, all as indices into small vocabularies.
    loading_vocab, loading = _pick_by(rng, mode, LOADING)
    discharge_vocab, discharge = _pick_by(rng, mode, DISCHARGE)
    ts_len = np.zeros(n, dtype=np.int64)
    for g, probs in enumerate(TRANSSHIPMENT_LENGTHS):
        mask = mode == g
        ts_len[mask] = rng.choice(4, size=int(mask.sum()), p=probs)
    list_null = chance(0.003)
    ts_len[list_null] = 0
    ts_rows, _ = _items(ts_len)
    ts_vocab, ts_flat = _pick_by(rng, mode[ts_rows], TRANSSHIPMENT)
    all_places = [*loading_vocab, *discharge_vocab, *ts_vocab, *(v for v, _ in DELIVERY)]
    countries = sorted(
        {p[:2] for p in all_places}
        | {c for c, _ in ORIGIN_MIX}
        | {c for c, _ in CONSIGNEE_COUNTRIES}
    )
    country_of = {c: i for i, c in enumerate(countries)}
    loading_country = np.array([country_of[p[:2]] for p in loading_vocab])[loading]
    ts_country = np.array([country_of[p[:2]] for p in ts_vocab])[ts_flat]
    origin_mix = np.array([country_of[c] for c, _ in ORIGIN_MIX])[_pick(rng, ORIGIN_MIX, n)]
    origin = np.where(chance(0.75), loading_country, origin_mix)
    destination = np.array([country_of[p[:2]] for p in discharge_vocab])[discharge]
    consignee_country = np.array([country_of[c] for c, _ in CONSIGNEE_COUNTRIES])[
        _pick(rng, CONSIGNEE_COUNTRIES, n)
    ]
    consignor_country = np.where(chance(0.8), origin, origin_mix[rng.permutation(n)])

    # Route: the loading country, then the countries of the transshipment places.
    route_len = np.minimum(1 + ts_len, 3)
    route_len[chance(0.015) | list_null] = 0
    route_rows, route_pos = _items(route_len)
    ts_starts = np.concatenate([[0], np.cumsum(ts_len)[:-1]]).astype(np.int64)
    route_flat = np.where(
        route_pos == 0,
        loading_country[route_rows],
        ts_country[np.maximum(ts_starts[route_rows] + route_pos - 1, 0)],
    )

    # Goods: 0-3 HS codes; the first one gives hs6, hs4 and the description.
    goods_count = rng.choice(4, size=n, p=(0.01, 0.6, 0.27, 0.12)).astype(np.int64)
    no_goods = goods_count == 0
    hs_vocab = [g[0] for g in GOODS]
    first = _pick(rng, [(g[0], g[1]) for g in GOODS], n)
    hs_rows, hs_pos = _items(goods_count)
    hs_flat = np.where(
        hs_pos == 0, first[hs_rows], _pick(rng, [(g[0], g[1]) for g in GOODS], len(hs_rows))
    )
    descriptions = [d for g in GOODS for d in g[3]] + list(VAGUE)
    description = first * 3 + rng.integers(0, 3, n)
    vague = chance(0.06)
    description[vague] = 3 * len(GOODS) + rng.integers(0, len(VAGUE), int(vague.sum()))
    perishable = np.isin(first, [i for i, g in enumerate(GOODS) if g[0][:2] in ("06", "07", "08")])

    # Quantities and values.
    log_mass = np.where(sea, np.log(12_000), np.where(air, np.log(150), np.log(6_000)))
    mass = np.round(np.exp(rng.normal(log_mass, np.where(air, 1.2, 0.9))), 1)
    mass[chance(0.002)] = 0.0
    typical = np.array([g[2] for g in GOODS])[first]
    value = np.round(mass * typical * np.exp(rng.normal(0, 0.5, n)), 2)
    value_null = chance(0.01) | no_goods
    with np.errstate(divide="ignore", invalid="ignore"):
        per_kg = value / mass
    per_kg_null = value_null | (mass == 0)
    ratio = np.round(np.exp(rng.normal(0, 0.5, n)), 4)
    ratio_null = per_kg_null | chance(0.05)
    packages = np.maximum(1, np.round(np.exp(rng.normal(np.log(mass + 1) - 1.5, 0.7)))).astype(
        np.int64
    )
    freight_null = chance(0.25) | value_null
    freight = np.round(value * rng.uniform(0.01, 0.3, n), 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        freight_to_value = freight / value
    freight_to_value_null = freight_null | (value == 0)

    # Equipment.
    containers = np.where(
        sea,
        rng.choice([1, 2, 3, 4], size=n, p=(0.5, 0.3, 0.15, 0.05)),
        np.where(mode == 2, (rng.random(n) < 0.3).astype(np.int64), 0),
    )
    has_containers = containers > 0
    reefer = has_containers & np.where(sea & perishable, chance(0.65), chance(0.04))

    # Parties.
    name_null = chance(0.02)
    consignee_prior = np.where(chance(0.12), 0, np.round(np.exp(rng.normal(3, 1.5, n)))).astype(
        np.int64
    )
    consignee_prior = np.minimum(consignee_prior, 50_000)
    consignor_prior = np.minimum(
        np.where(chance(0.2), 0, np.round(np.exp(rng.normal(2.5, 1.5, n)))), 50_000
    ).astype(np.int64)
    days_declared = np.where(
        sea, rng.integers(-1, 21, n), np.where(air, rng.integers(-1, 4, n), rng.integers(0, 3, n))
    )
    day = rng.integers(0, 731, n) + (date(2024, 1, 1) - date(1970, 1, 1)).days
    old = chance(0.01)
    day[old] = rng.integers(0, 214, int(old.sum())) + (date(2019, 6, 1) - date(1970, 1, 1)).days

    ids = pa.array(np.arange(1, n + 1, dtype=np.int64))
    columns: dict[str, pa.Array] = {
        "target_kind": _strings(["consignment"], np.zeros(n, dtype=np.int64)),
        "target_id": ids,
        "target_ref": pc.binary_join_element_wise(
            _strings(["MEDU", "057-", "CMR"], mode), pc.cast(ids, pa.string()), ""
        ),
        "office": _strings(discharge_vocab, discharge),
        "day": _numbers(day.astype(np.int32), pa.date32(), chance(0.001)),
        "mode": _strings(MODES, mode),
        "document_kind": _strings(
            ["bill_of_lading", "house_bill_of_lading", "air_waybill", "house_air_waybill", "cmr"],
            np.where(
                sea,
                chance(0.3).astype(np.int64),
                np.where(air, 2 + chance(0.4).astype(np.int64), 4),
            ),
        ),
        "awb_check_digit_valid": _numbers(~chance(0.03), pa.bool_(), ~air),
        "origin_country": _strings(countries, origin),
        "destination_country": _strings(countries, destination),
        "place_of_loading": _strings(loading_vocab, loading),
        "loading_country": _strings(countries, loading_country),
        "place_of_discharge": _strings(discharge_vocab, discharge),
        "place_of_delivery": _strings(
            [v for v, _ in DELIVERY], _pick(rng, DELIVERY, n), chance(0.5)
        ),
        "transshipment_places": _list(ts_vocab, ts_len, ts_flat, list_null),
        "transshipment_count": _numbers(ts_len.astype(np.int32), pa.int32(), list_null),
        "route_countries": _list(countries, route_len, route_flat, list_null),
        "hs_codes": _list(hs_vocab, goods_count, hs_flat),
        "hs6": _strings([c[:6] for c in hs_vocab], first, no_goods),
        "hs4": _strings([c[:4] for c in hs_vocab], first, no_goods),
        "goods_description": _strings(descriptions, description, no_goods),
        "goods_count": _numbers(goods_count.astype(np.int32), pa.int32()),
        "total_packages": _numbers(packages.astype(np.int32), pa.int32(), no_goods),
        "total_gross_mass_kg": _numbers(mass, pa.float64(), no_goods),
        "total_value": _numbers(value, pa.float64(), value_null),
        "value_per_kg": _numbers(per_kg, pa.float64(), per_kg_null),
        "value_per_kg_ratio": _numbers(ratio, pa.float64(), ratio_null),
        "container_count": _numbers(containers.astype(np.int32), pa.int32()),
        "reefer": _numbers(reefer, pa.bool_()),
        "container_check_digit_valid": _numbers(~chance(0.02), pa.bool_(), ~has_containers),
        "seal_mismatch": _numbers(has_containers & chance(0.008), pa.bool_()),
        "terminal_seal_mismatch": _numbers(has_containers & chance(0.004), pa.bool_()),
        "freight_terms": _strings(
            ["prepaid", "collect", "unknown"],
            _pick(rng, (("prepaid", 55), ("collect", 35), ("unknown", 10)), n),
        ),
        "freight_amount": _numbers(freight, pa.float64(), freight_null),
        "freight_to_value": _numbers(freight_to_value, pa.float64(), freight_to_value_null),
        "freight_paid_by_third_party": _numbers(chance(0.03), pa.bool_()),
        "consignee_name": _strings(CONSIGNEES, rng.integers(0, len(CONSIGNEES), n), name_null),
        "consignee_country": _strings(countries, consignee_country),
        "consignee_is_person": _numbers(chance(0.04), pa.bool_(), name_null),
        "consignee_has_eori": _numbers(~name_null & chance(0.85), pa.bool_()),
        "consignee_prior_documents": _numbers(consignee_prior.astype(np.int32), pa.int32()),
        "consignee_first_seen_days": _numbers(
            np.where(consignee_prior == 0, 0, rng.integers(1, 3651, n)).astype(np.int32),
            pa.int32(),
        ),
        "consignor_country": _strings(countries, consignor_country),
        "consignor_is_person": _numbers(chance(0.02), pa.bool_()),
        "consignor_prior_documents": _numbers(consignor_prior.astype(np.int32), pa.int32()),
        "days_declared_before_arrival": _numbers(
            days_declared.astype(np.int32), pa.int32(), chance(0.01)
        ),
    }
    # Watchlist fields: one target in five hundred matches an alert or notice.
    kind_on_alert = np.where(chance(0.002), rng.integers(0, 3, n), -1)
    on_alert = kind_on_alert >= 0
    alerts = [f"XX-MAR-{i:04d}" for i in range(50)]
    alert = rng.integers(0, len(alerts), n)
    actions = ["discreet_surveillance", "specific_check", "sighting_and_reporting"]
    columns |= {
        "vessel_on_alert": _numbers(on_alert & (kind_on_alert == 0) & sea, pa.bool_()),
        "container_on_alert": _numbers(on_alert & (kind_on_alert == 1), pa.bool_()),
        "party_on_alert": _numbers(on_alert & (kind_on_alert == 2), pa.bool_()),
        "vehicle_on_alert": _numbers(on_alert & (kind_on_alert == 0) & ~sea & ~air, pa.bool_()),
        "alert_action": _strings(actions, rng.integers(0, 3, n), ~on_alert),
        "alert_ref": _strings(alerts, alert, ~on_alert),
        "alert_refs": _list(alerts, on_alert.astype(np.int64), alert[on_alert]),
    }
    schema = pa.schema(
        [
            ("target_kind", pa.string()),
            ("target_id", pa.int64()),
            ("target_ref", pa.string()),
            *((f.name, _ARROW_TYPES[f.type]) for f in CATALOGUE["consignment"].values()),
        ]
    )
    names = list(feature_columns("consignment"))
    if schema.names != names or set(columns) != set(names):
        missing, extra = set(names) - set(columns), set(columns) - set(names)
        raise SystemExit(
            f"generated columns differ from the feature columns: missing {sorted(missing)}, "
            f"not in the catalogue {sorted(extra)}"
        )
    return pa.Table.from_arrays([columns[name] for name in names], schema=schema)


# --- the risk profiles ------------------------------------------------------------------------


def _some(rng: np.random.Generator, values: Sequence[str], low: int = 1, high: int = 3) -> str:
    """A literal list of 1..high distinct values: ('a', 'b')."""
    k = int(rng.integers(low, min(high, len(values)) + 1))
    chosen = rng.choice(len(values), size=k, replace=False)
    return "(" + ", ".join(f"'{values[i]}'" for i in sorted(chosen)) + ")"


def _one(rng: np.random.Generator, values: Sequence[Any]) -> Any:
    return values[int(rng.integers(0, len(values)))]


def _day(rng: np.random.Generator) -> str:
    return date.fromordinal(date(2024, 1, 1).toordinal() + int(rng.integers(0, 700))).isoformat()


def _int(g: np.random.Generator, low: int, high: int) -> int:
    """An integer in [low, high]."""
    return int(g.integers(low, high + 1))


def _num(g: np.random.Generator, low: float, high: float, digits: int = 2) -> float:
    return round(float(g.uniform(low, high)), digits)


SOURCES = ("CO", "EC", "PE", "BR", "PA", "CR", "MX", "DO")
HS4 = ("0803", "0804", "0805", "0603", "0702", "8450", "8418", "6109", "0901", "8471", "9403")
WORDS = ("fresh", "banana", "avocado", "machine", "shirt", "parts", "merchandise", "coffee")
HUBS = ("PAMIT", "JMKIN", "ESALG", "MAPTM", "SGSIN")
SOURCE_LIST = "LIST('cocaine_source_countries')"


def _criteria_templates() -> list[Callable[[np.random.Generator], str]]:
    """Templates over the catalogue; each draws its constants from the generator it is given."""
    return [
        lambda g: (
            f"origin_country IN {SOURCE_LIST} AND hs4 IN "
            f"LIST('{_one(g, ['perishable_cover_hs4', 'balkan_cover_hs4'])}') "
            f"AND consignee_prior_documents < {_int(g, 1, 8)}"
        ),
        lambda g: (
            f"has_any(route_countries, {_some(g, SOURCES)}) AND transshipment_count >= 1 "
            f"AND total_value / total_gross_mass_kg < {_num(g, 0.3, 1.5, 1)}"
        ),
        lambda g: (
            f"any_like(hs_codes, '{_one(g, ['0803', '0804', '0805', '0603', '08'])}%') AND reefer "
            f"AND consignee_prior_documents < {_int(g, 1, 40)}"
        ),
        lambda g: f"freight_paid_by_third_party AND value_per_kg_ratio < {_num(g, 0.3, 1.6)}",
        lambda g: (
            f"lower(goods_description) LIKE '%{_one(g, WORDS)}%' "
            f"AND consignee_first_seen_days < {_int(g, 30, 400)}"
        ),
        lambda g: (
            f"goods_description ILIKE '{_one(g, ['FRESH', 'Banana', 'Parts', 'T-Shirt'])}%' AND "
            f"container_count {_one(g, ['>=', '<', '='])} {_int(g, 0, 2)} AND "
            f"consignee_prior_documents <= {_int(g, 0, 10)}"
        ),
        lambda g: f"hs6 LIKE '{(h := _one(g, HS4))[:2]}_{h[3]}%' AND consignee_is_person",
        lambda g: (
            "(seal_mismatch OR NOT container_check_digit_valid) AND container_count >= "
            f"{_int(g, 1, 3)}"
        ),
        # redlane computes in doubles: 3 containers * 0.1 is 0.30000000000000004 > 0.3.
        lambda g: (
            f"reefer AND container_count * 0.1 > 0.{_int(g, 1, 3)} AND "
            f"consignee_prior_documents < {_int(g, 5, 30)}"
        ),
        lambda g: (
            f"total_gross_mass_kg BETWEEN {_int(g, 0, 5000)} AND {_int(g, 5000, 40000)} AND "
            f"hs4 IN {_some(g, HS4)} AND has_any(route_countries, {SOURCE_LIST})"
        ),
        lambda g: (
            f"day BETWEEN DATE '{_day(g)}' AND DATE '2025-12-31' AND origin_country IN "
            f"{_some(g, [*SOURCES, 'CN', 'US', 'NL'], 1, 4)} AND consignee_prior_documents = 0"
        ),
        lambda g: _one(
            g,
            [
                "place_of_delivery IS NULL AND consignee_is_person",
                f"consignee_name IS NULL AND has_any(route_countries, {SOURCE_LIST})",
                f"value_per_kg_ratio IS NULL AND total_value > {_int(g, 10_000, 100_000)} "
                f"AND origin_country IN {SOURCE_LIST}",
                "awb_check_digit_valid IS FALSE",
                "consignee_is_person IS NOT TRUE AND reefer IS TRUE AND hs4 = '0803' "
                "AND consignee_has_eori IS NOT TRUE",
            ],
        ),
        lambda g: f"loading_country IN {_some(g, SOURCES)} AND NOT consignee_has_eori",
        lambda g: (
            f"(has(transshipment_places, '{_one(g, HUBS)}') OR (transshipment_count >= "
            f"{_int(g, 1, 3)} AND has_any(transshipment_places, "
            "LIST('cocaine_transshipment_ports')))) AND hs4 IN LIST('perishable_cover_hs4') "
            f"AND consignee_first_seen_days < {_int(g, 30, 365)}"
        ),
        lambda g: (
            f"consignee_first_seen_days < {_int(g, 10, 400)} AND length(hs_codes) >= "
            f"{_int(g, 1, 3)} AND origin_country <> destination_country "
            "AND consignee_is_person IS NOT NULL AND NOT consignee_has_eori"
        ),
        lambda g: (
            f"abs(days_declared_before_arrival) > {_int(g, 5, 15)} AND "
            f"coalesce(freight_to_value, 0) > {_num(g, 0.2, 0.3)} "
            "AND hs4 IN LIST('perishable_cover_hs4')"
        ),
        lambda g: (
            f"freight_amount * {_int(g, 3, 6)} > total_value + {_int(g, 0, 2000)} "
            f"AND consignee_prior_documents < {_int(g, 1, 10)}"
        ),
        lambda g: (
            f"total_packages * {_one(g, ['0.1', '1.5', '2.5', '0.25'])} > "
            f"{_int(g, 100, 5000)} AND hs4 IN {_some(g, HS4)}"
        ),
        lambda g: (
            f"upper(consignee_country) = '{_one(g, ['NL', 'BE', 'DE', 'ES'])}' AND "
            f"consignor_is_person AND consignor_prior_documents <= {_int(g, 0, 20)}"
        ),
        lambda g: (
            "goods_description IN LIST('vague_goods_descriptions') AND "
            f"(total_value > {_int(g, 1000, 200_000)} OR transshipment_count > {_int(g, 0, 2)})"
        ),
        lambda g: (
            f"freight_terms = '{_one(g, ['prepaid', 'collect', 'unknown'])}' AND "
            f"freight_to_value > {_num(g, 0.2, 0.3)} AND NOT consignee_has_eori"
        ),
        lambda g: (
            "coalesce(place_of_delivery, place_of_discharge) LIKE "
            f"'{_one(g, ['NL', 'BE', 'DE', 'ES'])}%' AND consignor_country IN {SOURCE_LIST} "
            f"AND consignee_prior_documents < {_int(g, 1, 30)}"
        ),
        lambda g: (
            f"-value_per_kg_ratio > -{_num(g, 0.2, 1.0)} AND total_packages % {_int(g, 5, 11)} = 0"
        ),
        lambda g: (
            f"(value_per_kg < {_num(g, 0.2, 0.6, 1)} OR value_per_kg_ratio > "
            f"{_num(g, 2.5, 4.0, 1)}) AND has_any(route_countries, {SOURCE_LIST})"
        ),
        lambda g: (
            "NOT (origin_country = consignor_country) AND consignee_prior_documents BETWEEN "
            f"1 AND {_int(g, 3, 10)} AND consignor_is_person IS NOT TRUE "
            "AND hs4 IN LIST('perishable_cover_hs4')"
        ),
        lambda g: (
            f"office IN {_some(g, ['NLRTM', 'BEANR', 'DEHAM', 'NLAMS', 'DEFRA'])} AND day >= "
            f"DATE '{_day(g)}' AND total_value / total_packages > {_int(g, 50, 2000)}"
        ),
        lambda g: (
            f"total_value / total_gross_mass_kg > {_int(g, 100, 2000)} AND "
            "hs4 IN LIST('balkan_cover_hs4')"
        ),
        lambda g: (
            f"coalesce(value_per_kg_ratio, 1) < {_num(g, 0.3, 0.9)} AND "
            "transshipment_count IN (2, 3, NULL)"
        ),
        lambda g: (
            f"lower(consignee_name) LIKE '%{_one(g, ['trading', 'import', 'bv', 'fruit'])}%' "
            f"AND has_any(route_countries, {SOURCE_LIST}) AND "
            f"goods_count {_one(g, ['>', '<=', '<>'])} {_int(g, 1, 2)}"
        ),
        lambda g: (
            f"(reefer = TRUE OR hs4 = '{_one(g, HS4)}') AND loading_country NOT IN "
            f"{_some(g, ['CN', 'US', 'NL', 'DE', 'IN'])} AND days_declared_before_arrival < "
            f"{_int(g, 0, 4)}"
        ),
    ]


def build_profiles(count: int, seed: int, lists: ReferenceLists) -> list[RiskProfile]:
    """`count` active profiles from the templates, each validated with its criteria."""
    rng = np.random.default_rng(seed)
    templates = _criteria_templates()
    profiles = []
    for i in range(count):
        t = i % len(templates)
        lane = _one(rng, [Lane.GREEN] * 8 + [Lane.YELLOW] * 2 + [Lane.RED])
        profile = RiskProfile(
            id=f"BENCH-{i:04d}",
            title=f"Benchmark profile from template {t}",
            rationale=f"Generated for the targeting benchmark from criteria template {t}.",
            mode=_one(rng, ["sea", "sea", "sea", "air-cargo", "air-cargo", "any", "any"]),
            criteria=templates[t](rng),
            weight=int(rng.integers(5, 51)),
            action=Action(lane=lane),
            valid_from=date(2020, 1, 1),
            owner="bench",
            status=Status.ACTIVE,
            author="bench",
            approved_by="bench-review",
        )
        profile.compiled(lists)  # raises CriteriaError naming the profile
        profiles.append(profile)
    return profiles


# --- the baseline: a per-record rule engine ---------------------------------------------------

_MODE_VALUE = {"sea": "sea", "air-cargo": "air", "any": None}


def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE (no escape character, as in DuckDB) as an anchored regular expression."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _and(a: bool | None, b: Callable[[], bool | None]) -> bool | None:
    if a is False:
        return False
    right = b()
    if right is False:
        return False
    return None if a is None or right is None else True


def _compare(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        if a != a or b != b:
            # DuckDB orders NaN above every number and equal to itself.
            return op((a != a, 0.0 if a != a else a), (b != b, 0.0 if b != b else b))
    return op(a, b)


def _divide(a: float, b: float) -> float | None:
    """redlane's `/`: in doubles, and a zero divisor gives NULL (never an error)."""
    return None if b == 0.0 else a / b


def _modulo(a: float, b: float) -> float | None:
    """redlane's `%`: in doubles, the sign of the dividend (C fmod); zero divisor gives NULL."""
    return None if b == 0.0 else math.fmod(a, b)


_COMPARE_OPS: dict[type[exp.Expression], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}
_ARITHMETIC_OPS: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: _divide,
    exp.Mod: _modulo,
}


class RuleInterpreter:
    """Evaluates validated criteria trees on one record (a dict) with SQL's three-valued logic:
    None is unknown and propagates; a criterion hits only when it is True."""

    def __init__(self, lists: ReferenceLists) -> None:
        self.lists = lists
        self._cache: dict[int, Any] = {}  # per node: literal values, regexes, value sets
        handlers: dict[type[exp.Expression], Callable[[Any, Mapping[str, Any]], Any]] = {
            exp.Paren: lambda n, r: self.eval(n.this, r),
            exp.Column: self._column,
            exp.Literal: self._literal,
            exp.Boolean: lambda n, r: bool(n.this),
            exp.Null: lambda n, r: None,
            exp.Cast: self._date,
            exp.Neg: self._neg,
            exp.And: self._and,
            exp.Or: self._or,
            exp.Not: self._not,
            exp.Like: self._like,
            exp.ILike: self._like,
            exp.In: self._in,
            exp.Between: self._between,
            exp.Is: self._is,
            exp.Lower: lambda n, r: None if (v := self.eval(n.this, r)) is None else v.lower(),
            exp.Upper: lambda n, r: None if (v := self.eval(n.this, r)) is None else v.upper(),
            exp.Length: lambda n, r: None if (v := self.eval(n.this, r)) is None else len(v),
            exp.Abs: lambda n, r: None if (v := self.eval(n.this, r)) is None else abs(v),
            exp.Coalesce: self._coalesce,
            exp.Anonymous: self._list_function,
        }
        for kind, op in _COMPARE_OPS.items():
            handlers[kind] = self._comparison(op)
        for kind, op in _ARITHMETIC_OPS.items():
            handlers[kind] = self._arithmetic(op)
        self._handlers = handlers

    def eval(self, node: exp.Expression, record: Mapping[str, Any]) -> Any:
        handler = self._handlers.get(type(node))
        if handler is None:
            raise TypeError(f"the baseline cannot evaluate {node.key}")
        return handler(node, record)

    def _cached(self, node: exp.Expression, make: Callable[[], Any]) -> Any:
        key = id(node)
        value = self._cache.get(key, self)
        if value is self:
            value = self._cache[key] = make()
        return value

    def _column(self, node: exp.Column, record: Mapping[str, Any]) -> Any:
        return record[self._cached(node, lambda: node.name.lower())]

    def _literal(self, node: exp.Literal, record: Mapping[str, Any]) -> Any:
        def value() -> Any:
            text = str(node.this)
            if node.is_string:
                return text
            # redlane compiles non-integer literals to DOUBLE
            return float(text) if ("." in text or "e" in text.lower()) else int(text)

        return self._cached(node, value)

    def _date(self, node: exp.Cast, record: Mapping[str, Any]) -> Any:
        return self._cached(node, lambda: date.fromisoformat(node.this.this))

    def _neg(self, node: exp.Neg, record: Mapping[str, Any]) -> Any:
        v = self.eval(node.this, record)
        return None if v is None else -v

    def _and(self, node: exp.And, record: Mapping[str, Any]) -> bool | None:
        return _and(self.eval(node.this, record), lambda: self.eval(node.expression, record))

    def _or(self, node: exp.Or, record: Mapping[str, Any]) -> bool | None:
        left = self.eval(node.this, record)
        if left is True:
            return True
        right = self.eval(node.expression, record)
        if right is True:
            return True
        return None if left is None or right is None else False

    def _not(self, node: exp.Not, record: Mapping[str, Any]) -> bool | None:
        v = self.eval(node.this, record)
        return None if v is None else not v

    def _comparison(
        self, op: Callable[[Any, Any], bool]
    ) -> Callable[[Any, Mapping[str, Any]], bool | None]:
        def compare(node: exp.Expression, record: Mapping[str, Any]) -> bool | None:
            return _compare(op, self.eval(node.this, record), self.eval(node.expression, record))

        return compare

    def _arithmetic(self, op: Callable[[Any, Any], Any]) -> Callable[[Any, Mapping[str, Any]], Any]:
        def compute(node: exp.Expression, record: Mapping[str, Any]) -> Any:
            a = self.eval(node.this, record)
            if a is None:
                return None
            b = self.eval(node.expression, record)
            if b is None:
                return None
            return op(float(a), float(b))  # redlane computes arithmetic in doubles

        return compute

    def _like(self, node: exp.Like | exp.ILike, record: Mapping[str, Any]) -> bool | None:
        v = self.eval(node.this, record)
        if v is None:
            return None
        regex = self._cached(
            node, lambda: _like_regex(node.expression.this, isinstance(node, exp.ILike))
        )
        hit = regex.fullmatch(v) is not None
        return not hit if node.args.get("negate") else hit

    def _values(self, node: exp.Expression) -> frozenset[str]:
        """The strings of LIST('name'), ('a', 'b') or ('a')."""
        if isinstance(node, exp.List):
            return frozenset(self.lists[node.expressions[0].this])
        items = node.expressions if isinstance(node, exp.Tuple) else [node.this]
        return frozenset(i.this for i in items)

    def _in(self, node: exp.In, record: Mapping[str, Any]) -> bool | None:
        v = self.eval(node.this, record)
        field = node.args.get("field")
        if v is None:
            result: bool | None = None
        elif field is not None:
            result = v in self._cached(field, lambda: self._values(field))
        else:
            result = False
            for item in node.expressions:
                equal = _compare(operator.eq, v, self.eval(item, record))
                if equal:
                    result = True
                    break
                if equal is None:
                    result = None
        if node.args.get("negate") and result is not None:
            return not result
        return result

    def _between(self, node: exp.Between, record: Mapping[str, Any]) -> bool | None:
        v = self.eval(node.this, record)
        return _and(
            _compare(operator.ge, v, self.eval(node.args["low"], record)),
            lambda: _compare(operator.le, v, self.eval(node.args["high"], record)),
        )

    def _is(self, node: exp.Is, record: Mapping[str, Any]) -> bool:
        v = self.eval(node.this, record)
        target = node.expression
        if isinstance(target, exp.Null):
            return v is None
        return v is bool(target.this)

    def _coalesce(self, node: exp.Coalesce, record: Mapping[str, Any]) -> Any:
        for arg in [node.this, *node.expressions]:
            v = self.eval(arg, record)
            if v is not None:
                return v
        return None

    def _list_function(self, node: exp.Anonymous, record: Mapping[str, Any]) -> bool:
        name = self._cached(node, lambda: node.name.lower())
        field, second = node.expressions
        items = self.eval(field, record)
        if items is None:
            return False  # the engine wraps these in coalesce(..., FALSE)
        if name == "has":
            return second.this in items
        if name == "has_any":
            return not self._cached(second, lambda: self._values(second)).isdisjoint(items)
        regex = self._cached(second, lambda: _like_regex(second.this, False))
        return any(x is not None and regex.fullmatch(x) is not None for x in items)


class RuleEngine:
    """The baseline: every profile tested on every record, one record at a time."""

    def __init__(self, profiles: Sequence[RiskProfile], lists: ReferenceLists) -> None:
        self.interpreter = RuleInterpreter(lists)
        self.rules = [
            (
                i,
                _MODE_VALUE[p.mode],
                frozenset(p.scope.offices),
                p.valid_from,
                p.valid_to,
                p.compiled(lists).tree,
                p.weight,
            )
            for i, p in enumerate(profiles)
        ]

    def score(self, record: Mapping[str, Any]) -> tuple[int, list[int]]:
        score, hits = 0, []
        evaluate = self.interpreter.eval
        mode, office, day = record["mode"], record["office"], record["day"]
        for i, want_mode, offices, valid_from, valid_to, tree, weight in self.rules:
            if want_mode is not None and mode != want_mode:
                continue
            if offices and office not in offices:
                continue
            if day is None or day < valid_from or (valid_to is not None and day > valid_to):
                continue
            if evaluate(tree, record) is True:
                score += weight
                hits.append(i)
        return score, hits


# --- the run ----------------------------------------------------------------------------------


def _rate(records: int, seconds: float) -> float:
    return records / seconds if seconds > 0 else math.inf


def _mismatches(
    profiles: Sequence[RiskProfile],
    lists: ReferenceLists,
    records: Sequence[Mapping[str, Any]],
    engine_scores: Sequence[int],
    engine_hits: Sequence[Sequence[int]],
    baseline: Sequence[tuple[int, list[int]]],
) -> list[str]:
    """One entry per record whose score or hits differ: the profiles that differ and the
    values of the fields they read."""
    out = []
    for record, score, hits, (b_score, b_hits) in zip(
        records, engine_scores, engine_hits, baseline, strict=True
    ):
        if score == b_score and sorted(hits) == sorted(b_hits):
            continue
        only_engine = sorted(set(hits) - set(b_hits))
        only_baseline = sorted(set(b_hits) - set(hits))
        lines = [
            f"target {record['target_id']}: engine score {score}, baseline {b_score}",
            *(f"  only engine: {profiles[i].id}: {profiles[i].criteria}" for i in only_engine),
            *(f"  only baseline: {profiles[i].id}: {profiles[i].criteria}" for i in only_baseline),
        ]
        fields = {
            f for i in only_engine + only_baseline for f in profiles[i].compiled(lists).fields
        }
        lines.append("  fields: " + ", ".join(f"{f}={record[f]!r}" for f in sorted(fields)))
        out.append("\n".join(lines))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=500)
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument("--score-one", type=int, default=1_000, help="records timed one by one")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads of the engine")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    lists = default_lists()
    with console.status(f"generating {args.targets:,} consignment feature rows"):
        started = time.perf_counter()
        table = build_features(args.targets, args.seed)
        seconds = time.perf_counter() - started
    console.print(
        f"generated {table.num_rows:,} consignment feature rows ({table.num_columns} columns, "
        f"{table.nbytes / 2**20:,.0f} MB) in {seconds:.1f} s"
    )
    started = time.perf_counter()
    profiles = build_profiles(args.profiles, args.seed + 1, lists)
    seconds = time.perf_counter() - started
    console.print(f"generated and validated {len(profiles):,} risk profiles in {seconds:.1f} s")

    # ours: the whole table through the engine
    started = time.perf_counter()
    engine = DuckDBEngine(profiles, lists, threads=args.threads)
    compile_seconds = time.perf_counter() - started
    engine.score("consignment", table.slice(0, 10_000))  # warm-up
    with console.status(f"redlane engine: {table.num_rows:,} consignments"):
        started = time.perf_counter()
        scored = engine.score("consignment", table)
        engine_seconds = time.perf_counter() - started
    hit_share = float(np.mean(np.asarray(scored.column("score")) > 0))
    console.print(
        f"engine compiled {len(profiles)} profiles in {compile_seconds:.2f} s; scored "
        f"{scored.num_rows:,} in {engine_seconds:.1f} s; {hit_share:.1%} of targets hit at least "
        f"one profile, mean hits per target "
        f"{float(np.mean(pc.list_value_length(scored.column('hits')))):.2f}"
    )

    # baseline: a classic rule engine, record by record
    sample = min(args.baseline_sample, table.num_rows)
    records = table.slice(0, sample).to_pylist()
    rules = RuleEngine(profiles, lists)
    rules.score(records[0])  # warm-up (fills the per-node caches)
    with console.status(f"baseline: {sample:,} records one by one in Python"):
        started = time.perf_counter()
        baseline = [rules.score(r) for r in records]
        baseline_seconds = time.perf_counter() - started

    # agreement: the same records, the same scores (and the same profiles hit)
    head = scored.slice(0, sample)
    failures: list[str] = []
    if head.column("target_id").to_pylist() != [r["target_id"] for r in records]:
        failures.append("the engine's result is not in the order of the feature table")
    problems = _mismatches(
        profiles,
        lists,
        records,
        head.column("score").to_pylist(),
        head.column("hits").to_pylist(),
        baseline,
    )
    if problems:
        failures.append(
            f"scores or hits differ on {len(problems):,} of {sample:,} records; first ones:\n"
            + "\n".join(problems[:5])
        )
    else:
        hits = sum(1 for s, _ in baseline if s > 0)
        console.print(
            f"scores agree on {sample:,} records (and so do the profiles hit; "
            f"{hits:,} of them hit at least one profile)"
        )

    # score_one: one record at a time through the same compiled plan
    count = min(args.score_one, table.num_rows)
    rows = np.linspace(0, table.num_rows - 1, count).astype(np.int64)
    singles = [table.slice(int(i), 1).to_pylist()[0] for i in rows]
    for record in singles[:5]:
        engine.score_one("consignment", record, table.schema)
    latencies = []
    one_scores = []
    with console.status(f"score_one: {count:,} records"):
        for record in singles:
            started = time.perf_counter()
            result = engine.score_one("consignment", record, table.schema)
            latencies.append(time.perf_counter() - started)
            one_scores.append(result.score)
    batch_scores = np.asarray(scored.column("score"))[rows]
    differ = int(np.sum(np.array(one_scores) != batch_scores))
    if differ:
        failures.append(f"score_one and the batch give different scores on {differ:,} records")
    else:
        console.print(f"score_one agrees with the batch on {count:,} records")
    p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))
    one_seconds = float(sum(latencies))

    baseline_rate = _rate(sample, baseline_seconds)
    results = {
        "redlane DuckDBEngine.score (one batch)": (table.num_rows, engine_seconds),
        "redlane DuckDBEngine.score_one (one call per record)": (count, one_seconds),
        "Python rule engine, record by record (baseline)": (sample, baseline_seconds),
    }
    report = Table(
        title=f"Scoring {table.num_rows:,} generated consignments against "
        f"{len(profiles):,} risk profiles"
    )
    for column in ("path", "records", "seconds", "records/s", "records/min", "vs baseline"):
        report.add_column(column, justify="left" if column == "path" else "right")
    for label, (n, secs) in results.items():
        rate = _rate(n, secs)
        report.add_row(
            label,
            f"{n:,}",
            f"{secs:.2f}",
            f"{rate:,.0f}",
            f"{rate * 60:,.0f}",
            f"{rate / baseline_rate:,.1f}",
        )
    console.print(report)
    engine_rate = _rate(table.num_rows, engine_seconds)
    per_minute = engine_rate * 60
    ratio = engine_rate / baseline_rate
    console.print(
        f"engine ≥ {TARGET_PER_MINUTE:,}/min: "
        f"{'met' if per_minute >= TARGET_PER_MINUTE else 'NOT met'} ({per_minute:,.0f}/min, "
        f"{engine_rate:,.0f}/s)"
    )
    console.print(
        f"≥ {TARGET_RATIO}× baseline: {'met' if ratio >= TARGET_RATIO else 'NOT met'} "  # noqa: RUF001
        f"({ratio:,.1f}×; baseline {baseline_rate:,.0f}/s)"  # noqa: RUF001
    )
    console.print(
        f"score_one p99 ≤ {TARGET_P99_MS:g} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'} "
        f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms over {count:,} records)"
    )
    if failures:
        console.print("[bold red]DISAGREEMENT[/]")
        for failure in failures:
            console.print(failure, markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
