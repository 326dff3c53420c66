"""Sea container consignments (bills of lading) with the §7.2 A patterns planted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import common, ids, lanes
from redlane.demo.movements import Vessels
from redlane.demo.patterns import Rates, Truth, assign
from redlane.demo.rng import RecordRng

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

LEASING_OWNERS = ("TGHU", "TCNU", "SEGU", "FCIU", "TRLU", "CAIU", "GESU", "TEMU", "BMOU")
HOUSE_PREFIXES = ("KNHB", "DSVH", "DBSH", "EXPH", "CEVH", "GEOH")


@dataclass(frozen=True)
class Options:
    """Where a consignment on each service can have been loaded: (S, K) padded matrices."""

    loading: StrArray
    tship: StrArray
    cdf: npt.NDArray[np.float64]
    source_hub: npt.NDArray[np.bool_]
    """Loaded in a source country and relayed at a hub: the cover-load lane."""


def _options() -> Options:
    per: list[list[tuple[str, str, float]]] = []
    for s in lanes.SERVICES:
        opts = [(p, "", 0.7 / len(s.loading)) for p in s.loading]
        feeders = [(f, h) for h in s.hubs for f in lanes.HUB_FEEDERS.get(h, ())]
        opts += [(f, h, 0.3 / len(feeders)) for f, h in feeders]
        per.append(opts)
    k = max(len(o) for o in per)
    loading = np.full((len(per), k), "XXXXX")
    tship = np.full((len(per), k), "", dtype="<U5")
    w = np.zeros((len(per), k))
    for i, opts in enumerate(per):
        for j, (p, h, wt) in enumerate(opts):
            loading[i, j], tship[i, j], w[i, j] = p, h, wt
    c = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    c[:, -1] = 1.0
    src = np.isin(np.char.str_len(tship), [5]) & np.isin(
        np.array([[p[:2] for p in row] for row in loading]), list(lanes.SOURCE_COUNTRIES)
    )
    return Options(loading, tship, c, src)


OPTIONS = _options()
SEA_CDF = lanes.goods_cdf("sea")
PERISHABLE = np.array([lanes.goods_index(h) for h in lanes.PERISHABLE_COVER])


def generate(
    rng: RecordRng,
    offset: int,
    serial0: int,
    vessels: Vessels,
    pools: common.PartyPools,
    rates: Rates,
    truth: Truth,
) -> pa.Table:
    n = rng.n
    idx = offset + np.arange(n, dtype=np.int64)
    names = [p for p, _ in rates.of("sea_")]
    pat = assign(rng, "pattern", rates.of("sea_"))

    def is_(p: str) -> npt.NDArray[np.bool_]:
        return np.asarray(pat == names.index(p) + 1)

    cover, rip, fruit, third, reseal = (is_(p) for p in names)
    # Rip-on/rip-off and reseal need a second document in the same aligned quad of records.
    twinned = rip | reseal
    twin = np.minimum(np.where(idx % 4 == 3, np.arange(n) - 1, np.arange(n) + 1), n - 1)
    twinned &= np.arange(n) != twin  # a short last chunk may leave a record without a partner
    twinned &= ~twinned[twin] | (np.arange(n) < twin)  # never two twins on one pair
    rip &= twinned
    reseal &= twinned
    tw = np.arange(n)[twinned]
    tj = twin[twinned]
    pat[tj] = 0
    cover[tj] = fruit[tj] = third[tj] = rip[tj] = reseal[tj] = False
    source_lane = cover | fruit | third | rip

    # --- movement and loading place
    mv = rng.ints("movement", vessels.n)
    svc_has_src = np.asarray(OPTIONS.source_hub.any(axis=1), dtype=bool)
    eligible = np.flatnonzero(svc_has_src[vessels.service])
    if len(eligible):
        alt = eligible[(rng.u("movement:src") * len(eligible)).astype(np.int64)]
        mv = np.where(source_lane, alt, mv)
    svc = vessels.service[mv]
    opt = np.minimum(
        (rng.u("option")[:, None] >= OPTIONS.cdf[svc]).sum(axis=1), OPTIONS.cdf.shape[1] - 1
    )
    # Source-lane patterns take a source-country feeder relayed at a hub.
    src_rank = np.cumsum(OPTIONS.source_hub[svc], axis=1)
    n_src = src_rank[:, -1]
    want = (rng.u("option:src") * np.maximum(n_src, 1)).astype(np.int64) + 1
    src_opt = np.argmax(src_rank >= want[:, None], axis=1)
    opt = np.where(source_lane & (n_src > 0), src_opt, opt)
    mv[tj] = mv[tw]
    svc = vessels.service[mv]
    opt[tj] = opt[tw]
    loading = OPTIONS.loading[svc, opt]
    tship = OPTIONS.tship[svc, opt]
    discharge = np.array([s.discharge for s in lanes.SERVICES])[svc]
    origin_c = loading.astype("<U2")
    dest_c = discharge.astype("<U2")

    # --- goods
    n_items = np.where(rng.u("items") < 0.8, 1, np.where(rng.u("items:2") < 0.75, 2, 3))
    n_items = np.where(cover | fruit | twinned, 1, n_items)
    parent = col.flat_rows(n_items)
    len(parent)
    region = common.region_of(origin_c)
    u_item = _flat_u(rng, "goods", n_items)
    hs = common.pick_goods(u_item, region[parent], SEA_CDF)
    first_item = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    perish = PERISHABLE[(rng.u("goods:perishable") * len(PERISHABLE)).astype(np.int64)]
    hs[first_item] = np.where(cover | fruit, perish, hs[first_item])
    reefer = common.G_REEFER[hs[first_item]]

    n_cont = np.where(rng.u("containers") < 0.7, 1, np.where(rng.u("containers:2") < 0.66, 2, 3))
    n_cont = np.where(cover | twinned | fruit, 1, n_cont)
    payload_t = 8 + 16 * _flat_u(rng, "payload", n_items)
    mass = payload_t * 1000 * n_cont[parent] / n_items[parent]
    vague = _flat_u(rng, "vague", n_items) < np.where(cover[parent], 0.35, rates.vague_description)
    odd = _flat_u(rng, "odd", n_items)
    odd_p = np.where(cover[parent], 0.45, 0.01)
    value_factor = np.exp(0.2 * _flat_normal(rng, "value", n_items))
    value_factor = np.where(odd < odd_p / 2, value_factor * 0.12, value_factor)
    mass_factor = np.where((odd >= odd_p / 2) & (odd < odd_p), 1.35, 1.0)
    goods = common.goods_column(
        common.schema_type("goods"),
        common.GoodsSpec(n_items, hs, mass, vague, value_factor, mass_factor),
    )

    # --- equipment: ISO 6346 numbers, seals; twins share the container with other seals
    cparent = col.flat_rows(n_cont)
    k = len(cparent)
    carrier = np.array([s.operator for s in lanes.SERVICES])[svc]
    owners = np.array([c[2] for c in lanes.CARRIERS])  # (carriers, 4)
    own = owners[carrier[cparent], (_flat_u(rng, "owner", n_cont) * 4).astype(int)]
    leased = _flat_u(rng, "leased", n_cont) < 0.3
    own = np.where(
        leased, np.array(LEASING_OWNERS)[(_flat_u(rng, "lessor", n_cont) * 9).astype(int)], own
    )
    serial = (_flat_u(rng, "serial", n_cont) * 1_000_000).astype(np.int64)
    bad = _flat_u(rng, "checkdigit", n_cont) < np.where(
        cover[cparent], 0.03, rates.invalid_container_check_digit
    )
    numbers = ids.container_numbers(own, serial, bad)
    first_c = np.concatenate([[0], np.cumsum(n_cont)[:-1]])
    numbers[first_c[tj]] = numbers[first_c[tw]]
    seal_a = ids.text(
        ids.letters((_flat_u(rng, "seal:l", n_cont)[:, None] * [26, 26]).astype(int)),
        ids.digits(_flat_u(rng, "seal:n", n_cont) * 1e7, 7),
    )
    n_seals = np.where(_flat_u(rng, "seals", n_cont) < 0.8, 1, 2)
    seal_b = ids.text(ids.const("SH", k), ids.digits(_flat_u(rng, "seal:b", n_cont) * 1e7, 7))
    # Reseal twins and rip twins: same container, a different seal on the second document.
    seal_a[first_c[tj]] = ids.text(
        ids.const("CX", len(tj)), ids.digits(rng.u("seal:twin")[tj] * 1e7, 7)
    )
    n_seals[first_c[tj]] = 1
    n_seals[first_c[tw]] = 1
    seals = common.string_lists(
        common.schema_type("equipment").value_type.field("seals").type,
        [seal_a, seal_b],
        [np.ones(k, bool), n_seals == 2],
    )
    reefer_c = reefer[cparent]
    size = np.where(
        reefer_c,
        np.where(_flat_u(rng, "size", n_cont) < 0.8, "45R1", "22R1"),
        np.array(["22G1", "42G1", "45G1"])[(_flat_u(rng, "size:g", n_cont) * 3).astype(int)],
    )
    equipment = col.lists(
        common.schema_type("equipment"),
        n_cont,
        col.struct(
            common.schema_type("equipment").value_type,
            k,
            {
                "number": pa.array(numbers),
                "size_type": pa.array(size),
                "reefer": pa.array(reefer_c),
                "full": True,
                "seals": seals,
            },
        ),
    )

    # --- parties
    comp = pools.companies
    consignor = comp.pick(origin_c, rng.u("consignor"), skew=2.0)
    consignee = comp.pick(dest_c, rng.u("consignee"), skew=3.0)
    new = (
        rng.chance("consignee:new", rates.new_consignee)
        | fruit
        | (cover & rng.chance("cover:new", 0.9))
    )
    new &= ~(rip | reseal | third)
    extra = common.newcomers(rng, "newcomer", dest_c, serial0 + idx)
    base_n = pools.base.num_rows
    consignee = np.where(new, base_n + np.arange(n), consignee)
    pool = pa.concat_tables([pools.base, extra])
    forwarder_on = rng.chance("forwarder", 0.4)
    forwarder = comp.pick(dest_c, rng.u("forwarder:who"), skew=4.0)
    notify_same = rng.chance("notify", 0.6)
    payer_on = (
        rng.chance("payer", rates.third_party_freight)
        | third
        | (cover & rng.chance("cover:payer", 0.8))
    )
    payer_country = np.array(["PA", "US", "AE", "HK", "ES", "NL", "CO", "GB"])[
        rng.ints("payer:c", 8)
    ]
    payer = comp.pick(payer_country, rng.u("payer:who"), skew=1.0)
    parties = col.parties(
        common.schema_type("parties"),
        pool,
        [
            ("consignor", np.ones(n, bool), consignor),
            ("consignee", np.ones(n, bool), consignee),
            ("notify_party", np.ones(n, bool), np.where(notify_same, consignee, forwarder)),
            ("forwarder", forwarder_on, forwarder),
            ("freight_payer", payer_on, payer),
        ],
    )

    # --- document, freight, dates
    bl_prefix = np.array([c[1] for c in lanes.CARRIERS])[carrier]
    serial_bl = ids.scramble(serial0 + idx, 10**10, 3)
    master = np.char.add(bl_prefix, ids.text(ids.digits(serial_bl, 10)))
    house = rng.chance("house", 0.1) & ~twinned & ~cover
    hnum = np.char.add(
        np.array(HOUSE_PREFIXES)[rng.ints("house:p", len(HOUSE_PREFIXES))],
        ids.text(ids.digits(ids.scramble(serial0 + idx, 10**9, 5), 9)),
    )
    number = np.where(house, hnum, master)
    terms_u = rng.u("terms")
    terms = np.where(
        payer_on | (terms_u < 0.6), "prepaid", np.where(terms_u < 0.95, "collect", "unknown")
    )
    payer_role = np.where(
        payer_on, "freight_payer", np.where(terms == "prepaid", "consignor", "consignee")
    )
    freight = col.struct(
        common.schema_type("freight"),
        n,
        {
            "amount": pa.array(np.round(n_cont * (1200 + 2300 * rng.u("freight")), 2)),
            "currency": "USD",
            "terms": pa.array(terms),
            "payer_role": col.strings(payer_role, null=terms == "unknown"),
        },
    )
    arrival = vessels.arrival_us[mv]
    declared = arrival - (2 * col.US_PER_DAY + rng.u("declared") * 12 * col.US_PER_DAY).astype(
        np.int64
    )
    inland = np.array([lanes.INLAND_DELIVERY[s.discharge][0] for s in lanes.SERVICES])[svc]
    du = rng.u("delivery")
    has_tship = np.char.str_len(tship) == 5
    routing = common.string_lists(
        common.schema_type("routing_countries"),
        [origin_c, tship.astype("<U2"), dest_c],
        [np.ones(n, bool), has_tship & (tship.astype("<U2") != origin_c), np.ones(n, bool)],
    )
    table = common.consignment_table(
        n,
        {
            "mode": "sea",
            "document": col.struct(
                common.schema_type("document"),
                n,
                {
                    "kind": pa.array(np.where(house, "house_bill_of_lading", "bill_of_lading")),
                    "number": pa.array(number),
                    "master_number": col.strings(master, null=~house),
                },
            ),
            "movement_ref": pa.array(vessels.ref(mv)),
            "office": pa.array(common.offices(discharge)),
            "declared_at": col.timestamps(declared),
            "arrival_date": col.dates(arrival),
            "parties": parties,
            "place_of_loading": pa.array(loading),
            "place_of_discharge": pa.array(discharge),
            "place_of_delivery": col.strings(np.where(du < 0.3, inland, discharge), null=du > 0.6),
            "origin_country": pa.array(origin_c),
            "destination_country": pa.array(dest_c),
            "transshipment_places": common.string_lists(
                common.schema_type("transshipment_places"), [tship], [has_tship]
            ),
            "routing_countries": routing,
            "goods": goods,
            "equipment": equipment,
            "freight": freight,
            "source": None,
        },
    )
    which = np.select([cover, rip, fruit, third, reseal], [1, 2, 3, 4, 5], 0)
    truth.add(names, which, number, rng.u("truth:q"), rng.u("truth:c"))
    return table


def _flat_u(rng: RecordRng, name: str, counts: IntArray) -> npt.NDArray[np.float64]:
    """Uniforms for child items, at most 3 per record, independent of chunking.

    Child j of a record draws from stream `name:j`, so its value depends on the record only.
    """
    out = np.empty(int(counts.sum()))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for j in range(int(counts.max(initial=0))):
        has = counts > j
        out[first[has] + j] = rng.u(f"{name}:{j}")[has]
    return out


def _flat_normal(rng: RecordRng, name: str, counts: IntArray) -> npt.NDArray[np.float64]:
    out = np.empty(int(counts.sum()))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for j in range(int(counts.max(initial=0))):
        has = counts > j
        out[first[has] + j] = rng.normal(f"{name}:{j}")[has]
    return out
