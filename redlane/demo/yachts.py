"""Yacht arrivals from the Caribbean, the Atlantic islands and the Med (§7.2 D)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import (
    YACHT_FLAGS,
    YACHT_NAMES,
    itinerary,
    mmsis,
    no_plates,
    padded,
    pick_in_rows,
    refs,
)
from redlane.demo.patterns import Rates, Truth, assign
from redlane.demo.rng import RecordRng, cdf
from redlane.model.arrow import arrow_schema

_SETS = (lanes.YACHT_CARIBBEAN, lanes.YACHT_ATLANTIC, lanes.YACHT_MED)
_STARTS, _N_STARTS = padded(_SETS)
_REGION_CDF = cdf([0.4, 0.25, 0.35])
_CREW_CDF = cdf([0.3, 0.3, 0.2, 0.12, 0.08])


def table(
    seed: int,
    day: int,
    day_us: int,
    offset: int,
    n: int,
    pools: common.PartyPools,
    rates: Rates,
    truth: Truth,
) -> pa.Table:
    """Yacht arrivals `offset .. offset + n - 1` of the day; planted ones go to `truth`."""
    rng = RecordRng(seed, "yacht", day, offset, n)
    schema = arrow_schema("movement")
    pairs = rates.of("yacht_")
    pattern = assign(rng, "pattern", pairs)
    recent, long_owned, med = (pattern == i + 1 for i in range(3))
    # Background: Caribbean 40 %, Atlantic islands 25 %, Mediterranean 35 %.
    region = rng.choice("region", _REGION_CDF)
    region = np.where(recent | long_owned, np.where(rng.chance("region:far", 0.75), 0, 1), region)
    region = np.where(med, 2, region)
    start = pick_in_rows(_STARTS, _N_STARTS, region, rng.u("start"))
    arrival_port = np.array(lanes.YACHT_ARRIVALS)[rng.ints("port", len(lanes.YACHT_ARRIVALS))]
    # Transatlantic boats stop in the Azores half of the time.
    stop = (region == 0) & rng.chance("azores", 0.5)
    places = np.stack(
        [start, np.where(stop, "PTHOR", arrival_port), np.where(stop, arrival_port, "")], axis=1
    )
    days_at_sea = np.select([region == 0, region == 1], [22.0, 8.0], 6.0) + 6 * rng.u("days")
    sea_us = (days_at_sea * col.US_PER_DAY).astype(np.int64)
    # With the stop, three quarters of the time at sea lie before the Azores.
    first_leg = np.where(stop, (sea_us * 3) // 4, sea_us)
    gaps = np.stack([first_leg, sea_us - first_leg], axis=1)
    arrival = day_us + rng.ints("arrival", col.US_PER_DAY)
    departure_day = (arrival - sea_us) // col.US_PER_DAY
    # Ownership: years for most boats; bought months before the voyage for the pattern.
    owned_days = rng.ints("owned", 15 * 365, 400)
    owned_days = np.where(
        rng.chance("owned:short", 0.08), rng.ints("owned:1y", 365, 100), owned_days
    )
    owned_days = np.where(recent | med, rng.ints("owned:recent", 200, 30), owned_days)
    owned_days = np.where(long_owned, rng.ints("owned:long", 15 * 365, 3 * 365), owned_days)
    acquired = departure_day - owned_days
    crew = 2 + rng.choice("crew", _CREW_CDF)
    crew = np.where(recent, np.where(rng.chance("crew:recent", 0.85), 2, 3), crew)
    crew = np.where(long_owned, 2, crew)
    crew = np.where(med, np.where(rng.chance("crew:med", 0.6), 2, 3), crew)
    flag = np.array(YACHT_FLAGS)[rng.ints("flag", len(YACHT_FLAGS))]
    owner_country = np.where(flag == "VC", "GB", np.where(flag == "US", "US", flag))
    owner = pools.person(owner_country, rng.u("owner"))
    name = np.array(YACHT_NAMES)[rng.ints("name", len(YACHT_NAMES))]
    registration = np.char.add(
        np.char.add(flag, "-"), ids.text(ids.digits(rng.ints("registration", 10**6), 6))
    )
    m = schema.field("conveyance").type
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "yacht",
            "name": pa.array(name),
            "flag": pa.array(flag),
            "mmsi": pa.array(mmsis(flag, rng.u("mmsi:mid"), rng.u("mmsi"))),
            "registration": pa.array(registration),
            "plates": no_plates(m, n),
            "owner": col.party_struct(m.field("owner").type, pools.base, owner, np.zeros(n, bool)),
            "acquired_on": pa.array(acquired.astype(np.int32), pa.date32()),
        },
    )
    ref = refs("YACHT", day_us, rng.index)
    out = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "itinerary": itinerary(
                schema.field("itinerary").type, places, 2 + stop.astype(np.int64), arrival, gaps
            ),
            "persons_on_board": pa.array(crew),
        },
    )
    truth.add([p for p, _ in pairs], pattern, ref, rng.u("truth:q"), rng.u("truth:c"))
    return out
