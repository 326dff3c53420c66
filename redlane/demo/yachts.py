"""Yacht arrivals from the Caribbean, the Atlantic islands and the Med (§7.2 D)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import YACHT_FLAGS, YACHT_NAMES, _itinerary, mmsis, refs
from redlane.demo.patterns import Rates, Truth
from redlane.demo.rng import day_rng
from redlane.model.arrow import arrow_schema


def generate(
    seed: int, day: int, day_us: int, n: int, pools: common.PartyPools, rates: Rates, truth: Truth
) -> pa.Table:
    rng = day_rng(seed, "yacht", day)
    schema = arrow_schema("movement")
    pairs = rates.of("yacht_")
    u = rng.random(n)
    pattern = np.zeros(n, dtype=np.int64)
    low = 0.0
    for i, (_, rate) in enumerate(pairs):
        pattern[(u >= low) & (u < low + rate)] = i + 1
        low += rate
    recent, long_owned, med = (pattern == i + 1 for i in range(3))
    # Background: Caribbean 40 %, Atlantic islands 25 %, Mediterranean 35 %.
    region = rng.choice(3, n, p=[0.4, 0.25, 0.35])
    region = np.where(recent | long_owned, np.where(rng.random(n) < 0.75, 0, 1), region)
    region = np.where(med, 2, region)
    sets = (lanes.YACHT_CARIBBEAN, lanes.YACHT_ATLANTIC, lanes.YACHT_MED)
    start = np.array([sets[r][int(rng.integers(len(sets[r])))] for r in region])
    arrival_port = np.array(lanes.YACHT_ARRIVALS)[rng.integers(0, len(lanes.YACHT_ARRIVALS), n)]
    # Transatlantic boats stop in the Azores half of the time.
    stop = (region == 0) & (rng.random(n) < 0.5)
    places = [[str(s), "PTHOR", str(a)] if st else [str(s), str(a)]
              for s, a, st in zip(start, arrival_port, stop, strict=True)]  # fmt: skip
    days_at_sea = np.select([region == 0, region == 1], [22.0, 8.0], 6.0) + rng.uniform(0, 6, n)
    gaps = [
        [float(d) * 24 * 0.75, float(d) * 24 * 0.25] if st else [float(d) * 24]
        for d, st in zip(days_at_sea, stop, strict=True)
    ]
    arrival = day_us + rng.integers(0, col.US_PER_DAY, n)
    departure_day = (arrival // col.US_PER_DAY) - days_at_sea.astype(np.int64)
    # Ownership: years for most boats; bought months before the voyage for the pattern.
    owned_days = rng.integers(400, 15 * 365, n)
    owned_days = np.where(rng.random(n) < 0.08, rng.integers(100, 365, n), owned_days)
    owned_days = np.where(recent | med, rng.integers(30, 200, n), owned_days)
    owned_days = np.where(long_owned, rng.integers(3 * 365, 15 * 365, n), owned_days)
    acquired = departure_day - owned_days
    crew = rng.choice([2, 3, 4, 5, 6], n, p=[0.3, 0.3, 0.2, 0.12, 0.08])
    crew = np.where(recent, np.where(rng.random(n) < 0.85, 2, 3), crew)
    crew = np.where(long_owned, 2, crew)
    crew = np.where(med, np.where(rng.random(n) < 0.6, 2, 3), crew)
    flag = np.array(YACHT_FLAGS)[rng.integers(0, len(YACHT_FLAGS), n)]
    owner_country = np.where(flag == "VC", "GB", np.where(flag == "US", "US", flag))
    owner = pools.person(owner_country, rng.random(n))
    name = np.array(YACHT_NAMES)[rng.integers(0, len(YACHT_NAMES), n)]
    registration = np.char.add(
        np.char.add(flag, "-"), ids.text(ids.digits(rng.integers(0, 10**6, n), 6))
    )
    m = schema.field("conveyance").type
    conveyance = col.struct(
        m,
        n,
        {
            "kind": "yacht",
            "name": pa.array(name),
            "flag": pa.array(flag),
            "mmsi": pa.array(mmsis(rng, flag)),
            "registration": pa.array(registration),
            "plates": col.lists(
                m.field("plates").type, np.zeros(n), pa.array([], m.field("plates").type.value_type)
            ),
            "owner": col.party_struct(m.field("owner").type, pools.base, owner, np.zeros(n, bool)),
            "acquired_on": pa.array(acquired.astype(np.int32), pa.date32()),
        },
    )
    ref = refs("YACHT", day_us, n)
    table = col.table(
        schema,
        n,
        {
            "record": "movement",
            "ref": pa.array(ref),
            "conveyance": conveyance,
            "itinerary": _itinerary(schema.field("itinerary").type, places, arrival, gaps),
            "persons_on_board": pa.array(crew),
        },
    )
    for i, (p, _) in enumerate(pairs):
        mask = pattern == i + 1
        truth.add(p, ref[mask], rng.random(n)[mask], rng.random(n)[mask])
    return table
