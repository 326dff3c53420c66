"""Air cargo and express consignments (air waybills) with the §7.2 B patterns planted."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import Flights
from redlane.demo.patterns import Rates, Truth, assign
from redlane.demo.rng import RecordRng

BoolArray = npt.NDArray[np.bool_]

AIR_CDF = lanes.goods_cdf("air")
EXPRESS_CDF = lanes.goods_cdf("express")
FLOWERS = np.array([lanes.goods_index(h) for h in ("060311", "060319", "080440")])


def generate(
    rng: RecordRng,
    offset: int,
    serial0: int,
    flights: Flights,
    pools: common.PartyPools,
    rates: Rates,
    truth: Truth,
) -> pa.Table:
    n = rng.n
    idx = offset + np.arange(n, dtype=np.int64)
    express = rng.chance("express", 0.35)
    names = [p for p, _ in rates.of("air_")]
    pat = np.where(express, 0, assign(rng, "pattern", rates.of("air_")))
    walk_in, private, walk_company = (pat == i + 1 for i in range(len(names)))
    source = np.flatnonzero(np.isin(flights.origin, lanes.AIR_SOURCE_ORIGINS))
    planted = walk_in | private | walk_company
    if len(source) == 0:  # no flight from a source city today: nothing to plant on
        walk_in = private = walk_company = planted = np.zeros(n, bool)
    fl = rng.ints("flight", flights.n)
    if len(source):
        fl = np.where(planted, source[(rng.u("flight:src") * len(source)).astype(np.int64)], fl)
    origin = flights.origin[fl]
    dest = flights.dest[fl]
    origin_c = origin.astype("<U2")
    dest_c = dest.astype("<U2")

    # --- goods: freight by the region's air mix, express parcels light and mixed
    n_items = np.where(rng.u("items") < 0.85, 1, 2)
    n_items = np.where(planted, 1, n_items)
    parent = col.flat_rows(n_items)
    region = common.region_of(origin_c)
    u_goods = _child(rng, "goods", n_items)
    hs = np.where(
        express[parent],
        common.pick_goods(u_goods, region[parent], EXPRESS_CDF),
        common.pick_goods(u_goods, region[parent], AIR_CDF),
    )
    first = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    flower = FLOWERS[(rng.u("flowers") * len(FLOWERS)).astype(np.int64)]
    hs[first] = np.where(planted, flower, hs[first])
    # Freight: lognormal around 400 kg; express 0.5-30 kg. Planted: a commercial quantity.
    mass = np.where(
        express,
        0.5 + 29.5 * rng.u("mass:x") ** 2,
        np.exp(np.log(400) + 0.9 * rng.normal("mass")),
    )
    mass = np.where(planted, 150 + 750 * rng.u("mass:planted"), mass)
    personal = rng.chance("personal", 0.03) & ~express & ~planted
    mass = np.where(personal, 5 + 35 * rng.u("mass:p"), mass)
    item_mass = mass[parent] / n_items[parent]
    goods = common.goods_column(
        common.schema_type("goods"),
        common.GoodsSpec(
            n_items,
            hs,
            item_mass,
            _child(rng, "vague", n_items) < rates.vague_description,
            np.exp(0.25 * _child(rng, "value", n_items)),
            np.ones(len(hs)),
        ),
    )

    # --- parties: walk-in shippers are persons; private consignees live at home addresses
    comp = pools.companies
    walk = walk_in | walk_company
    consignor = np.where(
        walk,
        pools.person(origin_c, rng.u("consignor:p")),
        comp.pick(origin_c, rng.u("consignor"), skew=2.0),
    )
    to_person = walk_in | private | personal | (express & rng.chance("express:private", 0.5))
    consignee = np.where(
        to_person,
        pools.person(dest_c, rng.u("consignee:p")),
        comp.pick(dest_c, rng.u("consignee"), skew=3.0),
    )
    forwarder_on = ~walk & ~express & rng.chance("forwarder", 0.6)
    forwarder = comp.pick(dest_c, rng.u("forwarder:who"), skew=4.0)
    parties = col.parties(
        common.schema_type("parties"),
        pools.base,
        [
            ("consignor", np.ones(n, bool), consignor),
            ("consignee", np.ones(n, bool), consignee),
            ("forwarder", forwarder_on, forwarder),
        ],
    )

    # --- documents: master AWB (mod 7 valid) or an integrator's house waybill under one
    integrator = rng.ints("integrator", len(lanes.EXPRESS_INTEGRATORS))
    prefix = np.where(
        express,
        np.array([p for _, p in lanes.EXPRESS_INTEGRATORS])[integrator],
        flights.awb_prefix[fl],
    )
    serial = ids.scramble(serial0 + idx, 10**7, 11)
    awb = ids.awb_numbers(prefix, serial)
    # Many express parcels travel under one master: masters repeat in blocks of 256 records.
    master_serial = ids.scramble(serial0 + idx // 256, 10**7, 13)
    master = ids.awb_numbers(prefix, master_serial)
    house_no = ids.text(ids.digits(ids.scramble(serial0 + idx, 10**10, 17), 10))
    number = np.where(express, house_no, awb)
    arrival = flights.arrival_us[fl]
    declared = arrival - (2 * col.US_PER_HOUR + rng.u("declared") * 8 * col.US_PER_HOUR).astype(
        np.int64
    )
    freight = col.struct(
        common.schema_type("freight"),
        n,
        {
            "amount": pa.array(np.round(mass * (2 + 3 * rng.u("freight")), 2)),
            "currency": "USD",
            "terms": pa.array(np.where(rng.u("terms") < 0.85, "prepaid", "collect")),
            "payer_role": pa.array(np.where(rng.u("terms") < 0.85, "consignor", "consignee")),
        },
    )
    empty = np.zeros(n, bool)
    table = common.consignment_table(
        n,
        {
            "mode": "air",
            "document": col.struct(
                common.schema_type("document"),
                n,
                {
                    "kind": pa.array(np.where(express, "house_air_waybill", "air_waybill")),
                    "number": pa.array(number),
                    "master_number": col.strings(master, null=~express),
                },
            ),
            "movement_ref": pa.array(flights.ref(fl)),
            "office": pa.array(common.offices(dest)),
            "declared_at": col.timestamps(declared),
            "arrival_date": col.dates(arrival),
            "parties": parties,
            "place_of_loading": pa.array(origin),
            "place_of_discharge": pa.array(dest),
            "origin_country": pa.array(origin_c),
            "destination_country": pa.array(dest_c),
            "transshipment_places": common.string_lists(
                common.schema_type("transshipment_places"), [origin], [empty]
            ),
            "routing_countries": common.string_lists(
                common.schema_type("routing_countries"),
                [origin_c, dest_c],
                [np.ones(n, bool), np.ones(n, bool)],
            ),
            "goods": goods,
            "equipment": col.lists(
                common.schema_type("equipment"),
                np.zeros(n),
                pa.array([], common.schema_type("equipment").value_type),
            ),
            "freight": freight,
        },
    )
    which = np.select([walk_in, private, walk_company], [1, 2, 3], 0)
    truth.add(names, which, number, rng.u("truth:q"), rng.u("truth:c"))
    return table


def _child(rng: RecordRng, name: str, counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Uniforms for up to two child items per record, independent of chunking."""
    out = np.empty(int(counts.sum()))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for j in range(int(counts.max(initial=0))):
        has = counts > j
        out[first[has] + j] = rng.u(f"{name}:{j}")[has]
    return out
