"""Truck crossings on the Balkan route and their CMR consignments (§7.2 E)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import Trucks, _itinerary, _km, refs
from redlane.demo.patterns import Rates, Truth
from redlane.demo.rng import RecordRng, day_rng
from redlane.model.arrow import arrow_schema

ROAD_CDF = lanes.goods_cdf("road")
COVER = np.array([lanes.goods_index(h) for h in ("845011", "080410")])


def trucks(
    seed: int, day: int, day_us: int, n: int, pools: common.PartyPools, rates: Rates, truth: Truth
) -> Trucks:
    """The day's crossings; planted trucks are marked in `Trucks.pattern` for their CMRs."""
    rng = day_rng(seed, "truck", day)
    schema = arrow_schema("movement")
    pairs = rates.of("truck_")
    u = rng.random(n)
    pattern = np.zeros(n, dtype=np.int64)
    low = 0.0
    for i, (_, rate) in enumerate(pairs):
        pattern[(u >= low) & (u < low + rate)] = i + 1
        low += rate
    cover, new_haulier, low_value = (pattern == i + 1 for i in range(3))
    origins = [o for o, _ in lanes.ROAD_ORIGINS]
    origin = np.array(origins)[
        rng.choice(len(origins), n, p=cdf_p([w for _, w in lanes.ROAD_ORIGINS]))
    ]
    origin_c = origin.astype("<U2")
    border = np.empty(n, dtype="<U5")
    for b_i, c in enumerate(np.unique(origin_c)):
        allowed = [b for b, frm in lanes.ROAD_BORDERS if c in frm] or [lanes.ROAD_BORDERS[-1][0]]
        rows = origin_c == c
        border[rows] = np.array(allowed)[rng.integers(0, len(allowed), int(rows.sum()))]
        del b_i
    arrival = day_us + rng.integers(0, col.US_PER_DAY, n)
    hours = np.array([_km(str(o), str(b)) / 65 + 2 for o, b in zip(origin, border, strict=True)])
    # Hauliers are registered where the trip starts, mostly; newcomers have no history.
    new = cover | new_haulier | (rng.random(n) < 0.01)
    haulier = pools.companies.pick(origin_c, rng.random(n), skew=2.5)
    newco = common.newcomers(RecordRng(seed, "truck-newco", day, 0, n), "haulier", origin_c,
                             day * 10**8 + 50_000_000 + np.arange(n))  # fmt: skip
    pool = pa.concat_tables([pools.base, newco])
    haulier = np.where(new, pools.base.num_rows + np.arange(n), haulier)
    # Tractors belong to a fleet that comes back day after day: the index fixes the plate.
    fleet = max(60, 3 * n)
    tractor = rng.integers(0, fleet, n)
    # Planted cover-load trucks and their low-value look-alikes come from a small set of
    # tractors that cross again and again (repeated crossings with small loads).
    frequent = max(5, fleet // 200)
    tractor = np.where(
        cover | low_value | (rng.random(n) < 0.03), rng.integers(0, frequent, n), tractor
    )
    plate_no = ids.scramble(tractor, 26**4 * 10_000, seed)
    plate = ids.text(
        ids.letters(np.stack([(plate_no // 26**k) % 26 for k in (0, 1)], axis=1)),
        ids.const(" ", n),
        ids.digits((plate_no // 26**2) % 10_000, 4),
        ids.const(" ", n),
        ids.letters(
            np.stack([(plate_no // (26**2 * 10_000 * 26**k)) % 26 for k in (0, 1)], axis=1)
        ),
    )
    trailer = ids.text(ids.letters(rng.integers(0, 26, (n, 2))), ids.const(" ", n),
                       ids.digits(rng.integers(0, 10_000, n), 4), ids.const(" TR", n))  # fmt: skip
    plate_c = np.where(
        new | (rng.random(n) < 0.8), origin_c, np.array(["BG", "TR", "RS"])[rng.integers(0, 3, n)]
    )
    acquired_days = np.where(new, rng.integers(20, 150, n), rng.integers(180, 3650, n))
    acquired = (arrival // col.US_PER_DAY) - acquired_days
    m = schema.field("conveyance").type
    plate_t = m.field("plates").type
    plates = col.lists(
        plate_t,
        np.full(n, 2),
        col.struct(
            plate_t.value_type,
            2 * n,
            {
                "number": pa.array(np.stack([plate, trailer], axis=1).ravel()),
                "country": pa.array(np.stack([plate_c, plate_c], axis=1).ravel()),
                "unit": pa.array(np.tile(["tractor", "trailer"], n)),
            },
        ),
    )
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "truck",
            "registration": pa.array(plate),
            "flag": pa.array(plate_c),
            "plates": plates,
            "operator": col.party_struct(
                m.field("operator").type, pool, haulier, np.zeros(n, bool)
            ),
            "acquired_on": pa.array(acquired.astype(np.int32), pa.date32()),
        },
    )
    ref = refs("ROAD", day_us, n)
    table = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "itinerary": _itinerary(
                schema.field("itinerary").type,
                [[str(o), str(b)] for o, b in zip(origin, border, strict=True)],
                arrival,
                [[float(h)] for h in hours],
            ),
            "persons_on_board": pa.array(np.where(rng.random(n) < 0.85, 1, 2)),
        },
    )
    for i, (p, _) in enumerate(pairs):
        mask = pattern == i + 1
        truth.add(p, ref[mask], rng.random(n)[mask], rng.random(n)[mask])
    return Trucks(ref, origin, border, arrival, haulier, plate, pattern, table, pool)


def cdf_p(weights: list[float]) -> npt.NDArray[np.float64]:
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


def cmr(
    rng: RecordRng, offset: int, serial0: int, trucks_: Trucks, pools: common.PartyPools
) -> pa.Table:
    """CMR consignments; the first ones of the day belong to the planted trucks."""
    n = rng.n
    idx = offset + np.arange(n, dtype=np.int64)
    forced = np.flatnonzero(trucks_.pattern > 0)
    tr = rng.ints("truck", len(trucks_.ref))
    is_forced = idx < len(forced)
    tr = np.where(
        is_forced, forced[np.minimum(idx, max(len(forced) - 1, 0))] if len(forced) else tr, tr
    )
    pat = np.where(is_forced, trucks_.pattern[tr], 0)
    low_value = (pat == 1) | (pat == 3)
    origin = trucks_.origin[tr]
    origin_c = origin.astype("<U2")
    dest = np.array(lanes.ROAD_DESTINATIONS)[rng.ints("dest", len(lanes.ROAD_DESTINATIONS))]
    dest_c = dest.astype("<U2")
    n_items = np.where(rng.u("items") < 0.7, 1, 2)
    n_items = np.where(low_value, 1, n_items)
    parent = col.flat_rows(n_items)
    first = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    u0, u1 = rng.u("goods:0"), rng.u("goods:1")
    u_goods = np.empty(len(parent))
    u_goods[first] = u0
    u_goods[first[n_items > 1] + 1] = u1[n_items > 1]
    hs = common.pick_goods(u_goods, np.full(len(parent), common.REGION_INDEX["balkan"]), ROAD_CDF)
    hs[first] = np.where(low_value, COVER[rng.ints("cover", 2)], hs[first])
    payload = (6 + 16 * rng.u("payload")) * 1000
    value_factor = np.exp(0.2 * (rng.u("value")[parent] - 0.5))
    # Low value for the cost of the trip: a third of the usual price, half a load.
    value_factor = np.where(low_value[parent], 0.35, value_factor)
    payload = np.where(low_value, payload * 0.5, payload)
    goods = common.goods_column(
        common.schema_type("goods"),
        common.GoodsSpec(
            n_items, hs, payload[parent] / n_items[parent], np.zeros(len(hs), bool), value_factor,
            np.ones(len(hs)),
        ),
    )  # fmt: skip
    comp = pools.companies
    parties = col.parties(
        common.schema_type("parties"),
        trucks_.parties,
        [
            ("consignor", np.ones(n, bool), comp.pick(origin_c, rng.u("consignor"), skew=2.0)),
            ("consignee", np.ones(n, bool), comp.pick(dest_c, rng.u("consignee"), skew=2.0)),
            ("haulier", np.ones(n, bool), trucks_.haulier[tr]),
        ],
    )
    number = np.char.add(origin_c, ids.text(ids.digits(ids.scramble(serial0 + idx, 10**9, 19), 9)))
    arrival = trucks_.arrival_us[tr]
    border = trucks_.border[tr]
    declared = arrival - ((1 + 3 * rng.u("declared")) * col.US_PER_HOUR).astype(np.int64)
    ones = np.ones(n, bool)
    return common.consignment_table(
        n,
        {
            "mode": "road",
            "document": col.struct(
                common.schema_type("document"), n, {"kind": "cmr", "number": pa.array(number)}
            ),
            "movement_ref": pa.array(trucks_.ref[tr]),
            "office": pa.array(np.array([common.OFFICES[b] for b in border])),
            "declared_at": col.timestamps(declared),
            "arrival_date": col.dates(arrival),
            "parties": parties,
            "place_of_loading": pa.array(origin),
            "place_of_discharge": pa.array(border),
            "place_of_delivery": pa.array(dest),
            "origin_country": pa.array(origin_c),
            "destination_country": pa.array(dest_c),
            "routing_countries": common.string_lists(
                common.schema_type("routing_countries"),
                [origin_c, border.astype("<U2"), dest_c],
                [ones, border.astype("<U2") != origin_c, ones],
            ),
            "transshipment_places": common.string_lists(
                common.schema_type("transshipment_places"), [origin], [~ones]
            ),
            "goods": goods,
            "equipment": col.lists(
                common.schema_type("equipment"),
                np.zeros(n),
                pa.array([], common.schema_type("equipment").value_type),
            ),
            "freight": col.struct(
                common.schema_type("freight"),
                n,
                {
                    "amount": pa.array(np.round(900 + 1800 * rng.u("freight"), 2)),
                    "currency": "EUR",
                    "terms": "prepaid",
                    "payer_role": "consignor",
                },
            ),
        },
    )
