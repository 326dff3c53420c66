"""One day's movements: vessel calls and flights, and the helpers trucks and yachts share.

Every movement's values come from counter-based streams keyed by its index in the day, so its
table is written in chunks like any other record kind. Consignments and travellers choose among
the day's vessel calls and flights by the few per-movement facts kept in `Vessels` and
`Flights` (numbers and short codes, no Arrow tables, no references: those are made from the
index when needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import ids, lanes
from redlane.demo.rng import IndexedRng, RecordRng, cdf
from redlane.model.arrow import arrow_schema

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
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


@cache
def _coordinates() -> tuple[StrArray, FloatArray, FloatArray]:
    """Sorted place codes with their latitudes and longitudes in radians."""
    pl = lanes.places()
    codes = np.array(sorted(pl))
    lat = np.radians([pl[str(c)].lat for c in codes])
    lon = np.radians([pl[str(c)].lon for c in codes])
    return codes, lat, lon


def km(a: StrArray, b: StrArray) -> FloatArray:
    """Great-circle distances in km between places (UN/LOCODE), element by element."""
    codes, lat, lon = _coordinates()
    i = np.minimum(np.searchsorted(codes, a), len(codes) - 1)
    j = np.minimum(np.searchsorted(codes, b), len(codes) - 1)
    if not ((codes[i] == a).all() and (codes[j] == b).all()):
        raise KeyError("a place without coordinates in places.csv")
    dla, dlo = lat[j] - lat[i], lon[j] - lon[i]
    h = np.sin(dla / 2) ** 2 + np.cos(lat[i]) * np.cos(lat[j]) * np.sin(dlo / 2) ** 2
    return np.asarray(2 * 6371 * np.arcsin(np.sqrt(h)), dtype=np.float64)


def refs(prefix: str, day_us: int, index: IntArray) -> StrArray:
    """Movement references like 'SEA-20261102-0000042' for movement indices of one day."""
    d = np.datetime64(day_us, "us").astype("datetime64[D]").astype(str).replace("-", "")
    return ids.text(ids.const(f"{prefix}-{d}-", len(index)), ids.digits(index, 7))


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


def padded(rows: Sequence[Sequence[str]]) -> tuple[StrArray, IntArray]:
    """Ragged rows of codes as a padded matrix and the row lengths, for vectorised picks."""
    width = max(len(r) for r in rows)
    out = np.array([[*r] + [""] * (width - len(r)) for r in rows])
    return out, np.array([len(r) for r in rows], dtype=np.int64)


def pick_in_rows(rows: StrArray, counts: IntArray, row: IntArray, u: FloatArray) -> StrArray:
    """One entry per record from row `row` of a padded matrix, uniform over its `counts`."""
    k = np.minimum((u * counts[row]).astype(np.int64), counts[row] - 1)
    return np.asarray(rows[row, k])


_MID_FLAGS = np.array(sorted(FLAG_MIDS))
_MIDS, _MID_COUNT = padded([tuple(str(m) for m in FLAG_MIDS[str(f)]) for f in _MID_FLAGS])


def mmsis(flags: StrArray, u_mid: FloatArray, u_number: FloatArray) -> StrArray:
    """Nine-digit MMSIs: a MID of the flag, then six digits."""
    mids = pick_in_rows(_MIDS, _MID_COUNT, np.searchsorted(_MID_FLAGS, flags), u_mid)
    number = (u_number * 1_000_000).astype(np.int64)
    return ids.text(ids.codes(mids, 3), ids.digits(number, 6))


def itinerary(
    t: pa.DataType, places: StrArray, counts: IntArray, arrival_us: IntArray, gaps_us: IntArray
) -> pa.Array:
    """Itineraries ending at `arrival_us`: row r calls at `places[r, :counts[r]]`, with
    `gaps_us[r, j]` between the arrivals at call j and call j + 1."""
    n, width = places.shape
    live = np.arange(width) < counts[:, None]
    gaps = np.where(live[:, 1:], gaps_us[:, : width - 1], 0)
    # Time before the final arrival: the sum of the gaps still ahead of each call.
    back = np.zeros((n, width), dtype=np.int64)
    back[:, :-1] = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]
    arrive = (arrival_us[:, None] - back)[live]
    first = np.broadcast_to(np.arange(width) == 0, (n, width))[live]
    last = (np.arange(width) == counts[:, None] - 1)[live]
    item = col.struct(
        t.value_type,
        len(arrive),
        {
            "place": pa.array(places[live]),
            "arrival": col.timestamps(arrive, null=first),
            "departure": col.timestamps(np.where(first, arrive, arrive + 20 * US_H), null=last),
        },
    )
    return col.lists(t, counts, item)


def _service_calls() -> tuple[StrArray, IntArray]:
    """Each service's calls in order: loading ports, hubs, the discharge port last."""
    rows: list[tuple[str, ...]] = []
    for svc in lanes.SERVICES:
        calls = [*svc.loading, *svc.hubs]
        if svc.discharge in calls:
            calls.remove(svc.discharge)
        rows.append((*calls, svc.discharge))
    return padded(rows)


_CALLS, _N_CALLS = _service_calls()
_SERVICE_CDF = cdf([s.weight for s in lanes.SERVICES])
_SERVICE_OPERATOR = np.array([s.operator for s in lanes.SERVICES])
_BL_PREFIX = np.array([c[1][:3] for c in lanes.CARRIERS])


@dataclass(frozen=True)
class Vessels:
    """The day's vessel calls: what sea consignments choose by (one entry per call)."""

    seed: int
    day: int
    day_us: int
    service: IntArray
    arrival_us: IntArray
    ship: IntArray
    """Index into the fleet: the same ship comes back on later days."""

    @property
    def n(self) -> int:
        return len(self.service)

    def ref(self, index: IntArray) -> StrArray:
        return refs("SEA", self.day_us, index)


def vessels(seed: int, day: int, day_us: int, n: int) -> Vessels:
    rng = RecordRng(seed, "vessel", day, 0, n)
    service = rng.choice("service", _SERVICE_CDF)
    # Every service calls at least once a day when there are enough calls (small demo runs too).
    k = min(n, len(lanes.SERVICES))
    service[:k] = np.arange(k)
    # A fleet of ~1.5 ships per daily call.
    fleet = max(40, int(n * 1.5))
    return Vessels(
        seed, day, day_us, service, day_us + rng.ints("arrival", US_D), rng.ints("ship", fleet)
    )


def vessel_table(v: Vessels, offset: int, n: int, carriers: pa.Table) -> pa.Table:
    """Vessel calls `offset .. offset + n - 1` of the day as movement records."""
    rng = RecordRng(v.seed, "vessel", v.day, offset, n)
    schema = arrow_schema("movement")
    service = v.service[offset : offset + n]
    arrival = v.arrival_us[offset : offset + n]
    ship = v.ship[offset : offset + n]
    # The ship's own facts are drawn by its fleet index alone: the same on every day.
    fleet = IndexedRng(v.seed, "ship", 0, ship)
    flag = np.array(VESSEL_FLAGS)[fleet.ints("flag", len(VESSEL_FLAGS))]
    word = np.array(VESSEL_WORDS)[fleet.ints("word", len(VESSEL_WORDS))]
    operator = _SERVICE_OPERATOR[service]
    names = np.char.add(np.char.add(_BL_PREFIX[operator], " "), word)
    counts = _N_CALLS[service]
    width = _CALLS.shape[1]
    gaps_h = 30 + 66 * np.stack([rng.u(f"gap:{j}") for j in range(width - 1)], axis=1)
    # The last leg is the ocean crossing.
    gaps_h[np.arange(n), counts - 2] = 9 * 24 + 7 * 24 * rng.u("gap:ocean")
    m = schema.field("conveyance").type
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "vessel",
            "name": pa.array(names),
            "flag": pa.array(flag),
            "imo": pa.array(ids.imo_numbers(910_000 + ids.scramble(ship, 89_000, v.seed))),
            "mmsi": pa.array(mmsis(flag, fleet.u("mid"), fleet.u("mmsi"))),
            "call_sign": col.strings(
                ids.text(
                    ids.letters(np.stack([fleet.ints(f"sign:{j}", 26) for j in (0, 1)], axis=1)),
                    ids.digits(ship % 10_000, 4),
                )
            ),
            "plates": no_plates(m, n),
            "operator": col.party_struct(
                m.field("operator").type, carriers, operator, np.zeros(n, bool)
            ),
        },
    )
    return col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(v.ref(rng.index)),
            "conveyance": conveyance,
            "itinerary": itinerary(
                schema.field("itinerary").type,
                _CALLS[service],
                counts,
                arrival,
                (gaps_h * US_H).astype(np.int64),
            ),
            "persons_on_board": pa.array(rng.ints("crew", 28, 18)),
            "source": None,
        },
    )


_ROUTE_CDF = cdf([r.weight for r in lanes.AIR_ROUTES])
_ROUTE_ORIGIN = np.array([r.origin for r in lanes.AIR_ROUTES])
_FREIGHTER = np.array(lanes.FREIGHTER_CARRIERS)  # (k, 3): carrier, AWB prefix, origin
_AIRLINE_ROW = {c: len(lanes.CARRIERS) + i for i, c in enumerate(AIRLINES)}


@dataclass(frozen=True)
class Flights:
    """The day's arriving flights, passenger flights first, then freighters."""

    seed: int
    day: int
    day_us: int
    origin: StrArray
    dest: StrArray
    carrier: StrArray
    flight_number: StrArray
    awb_prefix: StrArray
    departure_us: IntArray
    arrival_us: IntArray
    seats: IntArray
    freighter: BoolArray

    @property
    def n(self) -> int:
        return len(self.origin)

    def ref(self, index: IntArray) -> StrArray:
        return refs("AIR", self.day_us, index)


def flights(seed: int, day: int, day_us: int, n_pax: int, n_freight: int) -> Flights:
    n = n_pax + n_freight
    rng = RecordRng(seed, "flight", day, 0, n)
    routes = lanes.AIR_ROUTES
    r_idx = rng.choice("route", _ROUTE_CDF)[:n_pax]
    # The courier routes must exist even in tiny runs: one direct, one via a transit point.
    origins = list(_ROUTE_ORIGIN)
    forced = [origins.index("COBOG"), origins.index("ETADD"), origins.index("PTLIS")]
    r_idx[: min(n_pax, 3)] = forced[: min(n_pax, 3)]
    f_idx = rng.ints("freighter", len(_FREIGHTER))[n_pax:]
    origin = np.concatenate([_ROUTE_ORIGIN[r_idx], _FREIGHTER[f_idx, 2]])
    carrier = np.concatenate([np.array([r.carrier for r in routes])[r_idx], _FREIGHTER[f_idx, 0]])
    prefix = np.concatenate([np.array([r.awb_prefix for r in routes])[r_idx], _FREIGHTER[f_idx, 1]])
    freighter = np.arange(n) >= n_pax
    seats = np.concatenate([np.array([r.seats for r in routes])[r_idx], np.zeros(n_freight, int)])
    dest = np.where(
        freighter,
        np.array(lanes.CARGO_AIRPORTS)[rng.ints("dest:cargo", len(lanes.CARGO_AIRPORTS))],
        np.array(lanes.OUR_AIRPORTS)[rng.ints("dest", len(lanes.OUR_AIRPORTS))],
    )
    hours = km(origin, dest) / 820 + 0.6
    arrival = day_us + rng.ints("arrival", US_D)
    departure = arrival - (hours * US_H).astype(np.int64)
    number = rng.ints("number", 999, 1)
    return Flights(
        seed, day, day_us, origin, dest, carrier, np.char.add(carrier, number.astype(str)),
        prefix, departure, arrival, seats.astype(np.int64), freighter,
    )  # fmt: skip


def flight_table(f: Flights, offset: int, n: int, carriers: pa.Table) -> pa.Table:
    """Flights `offset .. offset + n - 1` of the day as movement records."""
    rng = RecordRng(f.seed, "flight", f.day, offset, n)
    schema = arrow_schema("movement")
    rows = slice(offset, offset + n)
    reg_country = np.array(["PH", "OO", "D", "EC", "CS", "HK", "9V", "A6", "TC"])[
        rng.ints("registration", 9)
    ]
    letters = np.stack([rng.ints(f"registration:{j}", 26) for j in range(3)], axis=1)
    registration = np.char.add(np.char.add(reg_country, "-"), ids.text(ids.letters(letters)))
    carrier = f.carrier[rows]
    codes, inverse = np.unique(carrier, return_inverse=True)
    airline = np.array([_AIRLINE_ROW[str(c)] for c in codes])[inverse.ravel()]  # per distinct
    m = schema.field("conveyance").type
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "aircraft",
            "registration": pa.array(registration),
            "plates": no_plates(m, n),
            "operator": col.party_struct(
                m.field("operator").type, carriers, airline, np.zeros(n, bool)
            ),
        },
    )
    arrival = f.arrival_us[rows]
    return col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(f.ref(rng.index)),
            "conveyance": conveyance,
            "flight_number": pa.array(f.flight_number[rows]),
            "itinerary": itinerary(
                schema.field("itinerary").type,
                np.stack([f.origin[rows], f.dest[rows]], axis=1),
                np.full(n, 2),
                arrival,
                (arrival - f.departure_us[rows])[:, None],
            ),
        },
    )
