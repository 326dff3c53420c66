"""One day's movements: vessel calls, flights, truck crossings and yacht arrivals.

Movements are few (thousands a day), so each kind is generated for the whole day at once; the
arrays kept in `DayMovements` are what consignments and travellers need to point at them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import ids, lanes
from redlane.demo.rng import day_rng
from redlane.model.arrow import arrow_schema

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

US_H = col.US_PER_HOUR
US_D = col.US_PER_DAY

#: Flags and the MIDs (first three MMSI digits) their ship stations use.
FLAG_MIDS: dict[str, tuple[int, ...]] = {
    "PA": (351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373),
    "LR": (636,),
    "MH": (538,),
    "MT": (215, 229, 248, 249, 256),
    "SG": (563, 564, 565, 566),
    "HK": (477,),
    "DE": (211, 218),
    "DK": (219, 220),
    "PT": (263,),
    "CY": (209, 210, 212),
    "BS": (308, 309, 311),
    "GR": (237, 239, 240, 241),
    "GB": (232, 233, 234, 235),
    "FR": (226, 227, 228),
    "NL": (244, 245, 246),
    "US": (338, 366, 367, 368, 369),
    "BE": (205,),
    "PL": (261,),
    "VC": (375, 376, 377),
}
VESSEL_FLAGS = ("PA", "LR", "MH", "MT", "SG", "HK", "DE", "DK", "PT", "CY", "BS", "GR")
YACHT_FLAGS = ("GB", "FR", "NL", "DE", "US", "BE", "PL", "VC")
VESSEL_WORDS = (
    "Aurora", "Horizon", "Fortune", "Meridian", "Atlantic", "Pacific", "Orion", "Vega", "Nova",
    "Liberty", "Harmony", "Gloria", "Santos", "Andes", "Caribe", "Oceanic", "Polaris", "Trader",
)  # fmt: skip
YACHT_NAMES = (
    "Blue Note", "Sea Breeze", "Wanderer", "Calypso", "Moana", "Free Spirit", "Albatros",
    "Serenity", "La Mouette", "Northern Star", "Zephyr", "Odyssey", "Second Wind", "Kairos",
    "Salty Dog", "Morning Glory", "Pelican", "Esperanza", "Windsong", "Tramontana",
)  # fmt: skip
AIRLINES: dict[str, str] = {
    "AV": "Avianca", "LA": "LATAM Airlines", "TP": "TAP Air Portugal", "UX": "Air Europa",
    "IB": "Iberia", "AM": "Aeromexico", "AA": "American Airlines", "DL": "Delta Air Lines",
    "UA": "United Airlines", "AC": "Air Canada", "EK": "Emirates", "QR": "Qatar Airways",
    "TK": "Turkish Airlines", "CA": "Air China", "MU": "China Eastern", "CX": "Cathay Pacific",
    "SQ": "Singapore Airlines", "JL": "Japan Airlines", "AI": "Air India", "SA": "South African",
    "KL": "KLM", "AF": "Air France", "ET": "Ethiopian Airlines", "KQ": "Kenya Airways",
    "AT": "Royal Air Maroc", "CV": "Cargolux", "5X": "UPS Airlines", "CK": "China Cargo",
}  # fmt: skip


def _km(a: str, b: str) -> float:
    p, q = lanes.places()[a], lanes.places()[b]
    la1, la2 = math.radians(p.lat), math.radians(q.lat)
    dla, dlo = la2 - la1, math.radians(q.lon - p.lon)
    h = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def refs(prefix: str, day_us: int, n: int) -> StrArray:
    """Movement references like 'SEA-20261102-0000042'."""
    d = np.datetime64(day_us, "us").astype("datetime64[D]").astype(str).replace("-", "")
    return ids.text(ids.const(f"{prefix}-{d}-", n), ids.digits(np.arange(n), 7))


def carriers_table() -> pa.Table:
    """Organisations for shipping lines and airlines (operators of vessels and aircraft)."""
    names = [c[0] for c in lanes.CARRIERS] + list(AIRLINES.values())
    n = len(names)
    return pa.table(
        {
            "kind": ["organisation"] * n,
            "name": names,
            "street": pa.nulls(n, pa.string()),
            "city": pa.nulls(n, pa.string()),
            "postcode": pa.nulls(n, pa.string()),
            "country": pa.nulls(n, pa.string()),
            "eori": pa.nulls(n, pa.string()),
            "vat": pa.nulls(n, pa.string()),
            "phone": pa.nulls(n, pa.string()),
            "email": pa.nulls(n, pa.string()),
        }
    )


def no_plates(conveyance: pa.DataType, n: int) -> pa.Array:
    t = conveyance.field("plates").type
    return col.lists(t, np.zeros(n), pa.array([], t.value_type))


def mmsis(rng: np.random.Generator, flags: StrArray) -> StrArray:
    mids = np.array([FLAG_MIDS[str(f)][int(rng.integers(len(FLAG_MIDS[str(f)])))] for f in flags])
    return ids.text(ids.digits(mids, 3), ids.digits(rng.integers(0, 1_000_000, len(flags)), 6))


@dataclass
class Vessels:
    ref: StrArray
    service: IntArray
    arrival_us: IntArray
    table: pa.Table


@dataclass
class Flights:
    ref: StrArray
    origin: StrArray
    dest: StrArray
    carrier: StrArray
    flight_number: StrArray
    awb_prefix: StrArray
    departure_us: IntArray
    arrival_us: IntArray
    seats: IntArray
    freighter: BoolArray
    table: pa.Table


@dataclass
class Trucks:
    ref: StrArray
    origin: StrArray
    border: StrArray
    arrival_us: IntArray
    haulier: IntArray
    plate: StrArray
    pattern: IntArray
    """0 none, else 1 + index in Rates.of('truck_')."""
    table: pa.Table
    parties: pa.Table
    """The party pool plus the day's new hauliers; `haulier` indexes it."""


def _itinerary(
    t: pa.DataType, places: list[list[str]], arrival_us: IntArray, gaps_h: list[list[float]]
) -> pa.Array:
    """Itineraries ending at `arrival_us`, earlier calls `gaps_h` hours apart (per leg)."""
    counts = np.array([len(p) for p in places])
    flat_places = np.array([p for row in places for p in row])
    back = np.concatenate(
        [np.concatenate([np.cumsum(g[::-1])[::-1], [0.0]]) for g in gaps_h]
    )  # hours before the final arrival
    parent = col.flat_rows(counts)
    arrive = arrival_us[parent] - (back * US_H).astype(np.int64)
    last = np.concatenate([np.arange(c) == c - 1 for c in counts])
    first = np.concatenate([np.arange(c) == 0 for c in counts])
    depart = arrive + 20 * US_H
    item = col.struct(
        t.value_type,
        len(flat_places),
        {
            "place": pa.array(flat_places),
            "arrival": col.timestamps(arrive, null=first),
            "departure": col.timestamps(np.where(first, arrive, depart), null=last),
        },
    )
    return col.lists(t, counts, item)


def vessels(seed: int, day: int, day_us: int, n: int, carriers: pa.Table) -> Vessels:
    rng = day_rng(seed, "vessel", day)
    schema = arrow_schema("movement")
    w = np.array([s.weight for s in lanes.SERVICES])
    service = rng.choice(len(w), size=n, p=w / w.sum())
    # Every service calls at least once a day when there are enough calls (small demo runs too).
    k = min(n, len(w))
    service[:k] = np.arange(k)
    arrival = day_us + rng.integers(0, US_D, n)
    # A fleet of ~1.5 ships per daily call, identified by a stable index: the same ship
    # comes back on later days.
    fleet = max(40, int(n * 1.5))
    ship = rng.integers(0, fleet, n)
    ship_rng = np.random.default_rng([seed, 5])
    fleet_flags = np.array(VESSEL_FLAGS)[ship_rng.integers(0, len(VESSEL_FLAGS), fleet)]
    fleet_imo = ids.imo_numbers(910_000 + ids.scramble(np.arange(fleet), 89_000, seed))
    fleet_mmsi = mmsis(ship_rng, fleet_flags)
    word = np.array(VESSEL_WORDS)[ship_rng.integers(0, len(VESSEL_WORDS), fleet)]
    operator_of_service = np.array([s.operator for s in lanes.SERVICES])[service]
    prefix = np.array([c[1][:3] for c in lanes.CARRIERS])[operator_of_service]
    names = np.char.add(np.char.add(prefix, " "), word[ship])
    places: list[list[str]] = []
    gaps: list[list[float]] = []
    for s in service:
        svc = lanes.SERVICES[int(s)]
        calls = [*svc.loading, *svc.hubs]
        if svc.discharge in calls:
            calls.remove(svc.discharge)
        calls.append(svc.discharge)
        places.append(calls)
        g = [float(rng.uniform(30, 96)) for _ in calls[:-1]]
        if g:
            g[-1] = float(rng.uniform(9 * 24, 16 * 24))  # the ocean crossing
        gaps.append(g)
    m = schema.field("conveyance").type
    ref = refs("SEA", day_us, n)
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "vessel",
            "name": pa.array(names),
            "flag": pa.array(fleet_flags[ship]),
            "imo": pa.array(fleet_imo[ship]),
            "mmsi": pa.array(fleet_mmsi[ship]),
            "call_sign": col.strings(
                ids.text(ids.letters(rng.integers(0, 26, (n, 2))), ids.digits(ship, 4))
            ),
            "plates": no_plates(m, n),
            "operator": col.party_struct(
                m.field("operator").type, carriers, operator_of_service, np.zeros(n, bool)
            ),
        },
    )
    table = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "itinerary": _itinerary(schema.field("itinerary").type, places, arrival, gaps),
            "persons_on_board": pa.array(rng.integers(18, 28, n)),
            "source": None,
        },
    )
    return Vessels(ref, service, arrival, table)


def flights(seed: int, day: int, day_us: int, n_pax: int, n_freight: int) -> Flights:
    rng = day_rng(seed, "flight", day)
    schema = arrow_schema("movement")
    routes = lanes.AIR_ROUTES
    w = np.array([r.weight for r in routes])
    r_idx = rng.choice(len(routes), size=n_pax, p=w / w.sum())
    # The courier routes must exist even in tiny runs: one direct, one via a transit point.
    origins = [r.origin for r in routes]
    forced = [origins.index("COBOG"), origins.index("ETADD"), origins.index("PTLIS")]
    r_idx[: min(n_pax, 3)] = forced[: min(n_pax, 3)]
    f_idx = rng.integers(0, len(lanes.FREIGHTER_CARRIERS), n_freight)
    origin = np.concatenate(
        [np.array(origins)[r_idx], np.array([f[2] for f in lanes.FREIGHTER_CARRIERS])[f_idx]]
    )
    carrier = np.concatenate(
        [
            np.array([r.carrier for r in routes])[r_idx],
            np.array([f[0] for f in lanes.FREIGHTER_CARRIERS])[f_idx],
        ]
    )
    prefix = np.concatenate(
        [
            np.array([r.awb_prefix for r in routes])[r_idx],
            np.array([f[1] for f in lanes.FREIGHTER_CARRIERS])[f_idx],
        ]
    )
    n = n_pax + n_freight
    freighter = np.arange(n) >= n_pax
    all_seats = np.array([r.seats for r in routes] + [0])
    seats = all_seats[np.r_[r_idx, np.full(n_freight, -1)]]
    dest = np.where(
        freighter,
        np.array(lanes.CARGO_AIRPORTS)[rng.integers(0, len(lanes.CARGO_AIRPORTS), n)],
        np.array(lanes.OUR_AIRPORTS)[rng.integers(0, len(lanes.OUR_AIRPORTS), n)],
    )
    hours = np.array([_km(str(o), str(d)) / 820 + 0.6 for o, d in zip(origin, dest, strict=True)])
    arrival = day_us + rng.integers(0, US_D, n)
    departure = arrival - (hours * US_H).astype(np.int64)
    number = rng.integers(1, 999, n)
    flight_number = np.array([f"{c}{k}" for c, k in zip(carrier, number, strict=True)])
    ref = refs("AIR", day_us, n)
    m = schema.field("conveyance").type
    reg_country = np.array(["PH", "OO", "D", "EC", "CS", "HK", "9V", "A6", "TC"])[
        rng.integers(0, 9, n)
    ]
    registration = np.char.add(
        np.char.add(reg_country, "-"), ids.text(ids.letters(rng.integers(0, 26, (n, 3))))
    )
    airline_idx = np.array([len(lanes.CARRIERS) + list(AIRLINES).index(str(c)) for c in carrier])
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "aircraft",
            "registration": pa.array(registration),
            "plates": no_plates(m, n),
            "operator": col.party_struct(
                m.field("operator").type, carriers_table(), airline_idx, np.zeros(n, bool)
            ),
        },
    )
    places = [[str(o), str(d)] for o, d in zip(origin, dest, strict=True)]
    table = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "flight_number": pa.array(flight_number),
            "itinerary": _itinerary(
                schema.field("itinerary").type, places, arrival, [[float(h)] for h in hours]
            ),
        },
    )
    return Flights(
        ref, origin, dest, carrier, flight_number, prefix, departure, arrival, seats, freighter,
        table,
    )  # fmt: skip
