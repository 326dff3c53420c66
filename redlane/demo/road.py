"""Truck crossings on the Balkan route and their CMR consignments (§7.2 E).

A day has the most trucks of all movements (millions at the largest scales), so no per-truck
array is kept for the day: a crossing's facts are drawn from its index (`truck_facts`), for a
chunk of the movement file with `RecordRng` and for the trucks that CMRs travel on with
`IndexedRng`, which replays the very same draws. Only the planted crossings are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import itinerary, km, padded, pick_in_rows, refs
from redlane.demo.patterns import Rates, Truth, assign
from redlane.demo.rng import IndexedRng, RecordRng, cdf
from redlane.model.arrow import arrow_schema

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

ROAD_CDF = lanes.goods_cdf("road")
COVER = np.array([lanes.goods_index(h) for h in ("845011", "080410")])
_ORIGINS = np.array([o for o, _ in lanes.ROAD_ORIGINS])
_ORIGIN_CDF = cdf([w for _, w in lanes.ROAD_ORIGINS])


# The border crossings open to trucks from each origin (padded rows, row lengths).
_BORDERS, _N_BORDERS = padded(
    [
        [b for b, frm in lanes.ROAD_BORDERS if o[:2] in frm] or [lanes.ROAD_BORDERS[-1][0]]
        for o in _ORIGINS
    ]
)
#: Rows of the planted-pattern scan: bounded, so the scan's memory does not grow with the day.
_SCAN = 1 << 20


@dataclass(frozen=True)
class Trucks:
    """The day's crossings: their number and the planted ones (ascending indices)."""

    seed: int
    day: int
    day_us: int
    n: int
    pairs: tuple[tuple[str, float], ...]
    """The truck patterns and their rates; a pattern number is 1 + its index here."""
    planted: IntArray

    def ref(self, index: IntArray) -> StrArray:
        return refs("ROAD", self.day_us, index)


def trucks(seed: int, day: int, day_us: int, n: int, rates: Rates) -> Trucks:
    """The day's crossings; only the pattern draw is scanned, to list the planted ones."""
    pairs = tuple(rates.of("truck_"))
    planted = [np.zeros(0, np.int64)]
    for offset in range(0, n, _SCAN):
        rng = RecordRng(seed, "truck", day, offset, min(_SCAN, n - offset))
        planted.append(offset + np.flatnonzero(assign(rng, "pattern", [*pairs])))
    return Trucks(seed, day, day_us, n, pairs, np.concatenate(planted))


@dataclass(frozen=True)
class TruckFacts:
    """What a crossing's movement record and its CMRs share, for some crossings."""

    pattern: IntArray
    """0 none, else 1 + index in `Trucks.pairs`."""
    origin: StrArray
    border: StrArray
    arrival_us: IntArray
    new: BoolArray
    """A haulier new to us (a company that trades for the first time)."""
    haulier: IntArray
    """Row of `parties`."""
    parties: pa.Table
    """The party pool plus these crossings' new hauliers."""


def truck_facts(t: Trucks, rng: RecordRng, pools: common.PartyPools) -> TruckFacts:
    """The facts of crossings `rng.index`: the same whichever way the indices are drawn."""
    pattern = assign(rng, "pattern", [*t.pairs])
    cover, new_haulier = pattern == 1, pattern == 2
    o = rng.choice("origin", _ORIGIN_CDF)
    origin = _ORIGINS[o]
    origin_c = origin.astype("<U2")
    border = pick_in_rows(_BORDERS, _N_BORDERS, o, rng.u("border"))
    # Hauliers are registered where the trip starts, mostly; newcomers have no history.
    new = cover | new_haulier | rng.chance("haulier:new", 0.01)
    haulier = pools.companies.pick(origin_c, rng.u("haulier"), skew=2.5)
    index = rng.index[new]
    newco = common.newcomers(
        IndexedRng(t.seed, "truck", t.day, index),
        "newco",
        origin_c[new],
        t.day * 10**8 + 50_000_000 + index,
    )
    haulier[new] = pools.base.num_rows + np.arange(len(index))
    return TruckFacts(
        pattern,
        origin,
        border,
        t.day_us + rng.ints("arrival", col.US_PER_DAY),
        new,
        haulier,
        pa.concat_tables([pools.base, newco]),
    )


def truck_table(t: Trucks, offset: int, n: int, pools: common.PartyPools, truth: Truth) -> pa.Table:
    """Crossings `offset .. offset + n - 1` as movement records; planted ones go to `truth`."""
    rng = RecordRng(t.seed, "truck", t.day, offset, n)
    schema = arrow_schema("movement")
    f = truck_facts(t, rng, pools)
    cover, low_value, new = f.pattern == 1, f.pattern == 3, f.new
    origin_c = f.origin.astype("<U2")
    # Tractors belong to a fleet that comes back day after day: the index fixes the plate.
    fleet = max(60, 3 * t.n)
    tractor = rng.ints("tractor", fleet)
    # Planted cover-load trucks and their low-value look-alikes come from a small set of
    # tractors that cross again and again (repeated crossings with small loads).
    frequent = max(5, fleet // 200)
    tractor = np.where(
        cover | low_value | rng.chance("tractor:frequent", 0.03),
        rng.ints("tractor:which", frequent),
        tractor,
    )
    plate_no = ids.scramble(tractor, 26**4 * 10_000, t.seed)
    plate = ids.text(
        ids.letters(np.stack([(plate_no // 26**k) % 26 for k in (0, 1)], axis=1)),
        ids.const(" ", n),
        ids.digits((plate_no // 26**2) % 10_000, 4),
        ids.const(" ", n),
        ids.letters(
            np.stack([(plate_no // (26**2 * 10_000 * 26**k)) % 26 for k in (0, 1)], axis=1)
        ),
    )
    trailer = ids.text(
        ids.letters(np.stack([rng.ints(f"trailer:{k}", 26) for k in (0, 1)], axis=1)),
        ids.const(" ", n),
        ids.digits(rng.ints("trailer:n", 10_000), 4),
        ids.const(" TR", n),
    )
    plate_c = np.where(
        new | rng.chance("plate:home", 0.8),
        origin_c,
        np.array(["BG", "TR", "RS"])[rng.ints("plate:country", 3)],
    )
    acquired_days = np.where(
        new, rng.ints("acquired:new", 150, 20), rng.ints("acquired", 3650, 180)
    )
    acquired = (f.arrival_us // col.US_PER_DAY) - acquired_days
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
                m.field("operator").type, f.parties, f.haulier, np.zeros(n, bool)
            ),
            "acquired_on": pa.array(acquired.astype(np.int32), pa.date32()),
        },
    )
    hours = km(f.origin, f.border) / 65 + 2
    ref = t.ref(rng.index)
    table = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "itinerary": itinerary(
                schema.field("itinerary").type,
                np.stack([f.origin, f.border], axis=1),
                np.full(n, 2),
                f.arrival_us,
                (hours * col.US_PER_HOUR).astype(np.int64)[:, None],
            ),
            "persons_on_board": pa.array(np.where(rng.chance("crew", 0.85), 1, 2)),
        },
    )
    truth.add([p for p, _ in t.pairs], f.pattern, ref, rng.u("truth:q"), rng.u("truth:c"))
    return table


def cmr(
    rng: RecordRng, offset: int, serial0: int, trucks_: Trucks, pools: common.PartyPools
) -> pa.Table:
    """CMR consignments; the first ones of the day belong to the planted trucks."""
    n = rng.n
    idx = offset + np.arange(n, dtype=np.int64)
    forced = trucks_.planted
    tr = rng.ints("truck", trucks_.n)
    is_forced = idx < len(forced)
    if len(forced):
        tr = np.where(is_forced, forced[np.minimum(idx, len(forced) - 1)], tr)
    truck = truck_facts(trucks_, IndexedRng(trucks_.seed, "truck", trucks_.day, tr), pools)
    pat = np.where(is_forced, truck.pattern, 0)
    low_value = (pat == 1) | (pat == 3)
    origin = truck.origin
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
        truck.parties,
        [
            ("consignor", np.ones(n, bool), comp.pick(origin_c, rng.u("consignor"), skew=2.0)),
            ("consignee", np.ones(n, bool), comp.pick(dest_c, rng.u("consignee"), skew=2.0)),
            ("haulier", np.ones(n, bool), truck.haulier),
        ],
    )
    number = np.char.add(origin_c, ids.text(ids.digits(ids.scramble(serial0 + idx, 10**9, 19), 9)))
    arrival = truck.arrival_us
    border = truck.border
    declared = arrival - ((1 + 3 * rng.u("declared")) * col.US_PER_HOUR).astype(np.int64)
    ones = np.ones(n, bool)
    return common.consignment_table(
        n,
        {
            "mode": "road",
            "document": col.struct(
                common.schema_type("document"), n, {"kind": "cmr", "number": pa.array(number)}
            ),
            "movement_ref": pa.array(trucks_.ref(tr)),
            "office": pa.array(common.offices(border)),
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
