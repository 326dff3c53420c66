"""Air passengers and crew with PNR booking facts (§7.2 C)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pycountry

from redlane.demo import columns as col
from redlane.demo import ids, lanes
from redlane.demo.movements import Flights
from redlane.demo.patterns import Rates, Truth, assign
from redlane.demo.pools import Names
from redlane.demo.rng import RecordRng
from redlane.model.arrow import arrow_schema

StrArray = npt.NDArray[np.str_]
US_H = col.US_PER_HOUR
US_D = col.US_PER_DAY

OTHER_NATIONALITIES = ("GB", "US", "FR", "IT", "PL", "TR", "IN", "BR", "CO", "NG", "MA", "DE")
PAYMENT = ("card", "invoice", "miles", "cash", "voucher", "unknown")
PAYMENT_P = np.cumsum([0.8, 0.08, 0.04, 0.03, 0.02, 0.03])
AGENCIES = ("Viajes Sol", "Atlas Reisen", "Global Tours", "Rota Travel", "Sky Agency")


def alpha3(countries: StrArray) -> StrArray:
    table = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    keys, inverse = np.unique(countries, return_inverse=True)
    values = np.array([table.get(str(k), "XXX") for k in keys], dtype="<U3")  # per distinct code
    return np.asarray(values[inverse.ravel()], dtype="<U3")


def _mrz_part(values: StrArray) -> StrArray:
    out = np.char.upper(values)
    for ch in (" ", "-", "'", ".", ","):
        out = np.char.replace(out, ch, "<")
    return np.asarray(out)


def generate(
    rng: RecordRng,
    offset: int,
    serial0: int,
    flights: Flights,
    names: Names,
    rates: Rates,
    truth: Truth,
) -> pa.Table:
    n = rng.n
    idx = offset + np.arange(n, dtype=np.int64)
    schema = arrow_schema("traveller")
    pax = np.flatnonzero(~flights.freighter)
    seat_cdf = np.cumsum(flights.seats[pax] / flights.seats[pax].sum())
    fl = pax[np.minimum(np.searchsorted(seat_cdf, rng.u("flight"), side="right"), len(pax) - 1)]
    crew = rng.chance("crew", 0.05)
    pnames = [p for p, _ in rates.of("pax_")]
    pat = np.where(crew, 0, assign(rng, "pattern", rates.of("pax_")))
    courier, late_card, cash_normal = (pat == i + 1 for i in range(3))
    src_flights = pax[np.isin(flights.origin[pax], lanes.COURIER_ORIGINS + lanes.COURIER_TRANSITS)]
    normal_flights = pax[
        ~np.isin(flights.origin[pax], lanes.COURIER_ORIGINS + lanes.COURIER_TRANSITS)
    ]
    on_src = courier | late_card
    if len(src_flights):
        fl = np.where(on_src, src_flights[(rng.u("flight:src") * len(src_flights)).astype(int)], fl)
    else:
        courier = late_card = np.zeros(n, bool)
    if len(normal_flights):
        alt = normal_flights[(rng.u("flight:normal") * len(normal_flights)).astype(int)]
        fl = np.where(cash_normal, alt, fl)
    else:
        cash_normal = np.zeros(n, bool)
    origin = flights.origin[fl]
    dest = flights.dest[fl]
    dep = flights.departure_us[fl]
    arr = flights.arrival_us[fl]

    # Nationality follows the route for everybody alike (couriers included): never a signal.
    nu = rng.u("nationality")
    other = np.array(OTHER_NATIONALITIES)[rng.ints("nationality:o", len(OTHER_NATIONALITIES))]
    nationality = np.where(
        nu < 0.45, origin.astype("<U2"), np.where(nu < 0.8, dest.astype("<U2"), other)
    )
    female = rng.chance("sex", 0.5)
    given, surname = _names(rng, names, nationality, female)
    age_days = (18 + 57 * rng.u("age") ** 1.3) * 365.25
    dob = (arr // US_D - age_days.astype(np.int64)).astype("datetime64[D]")
    expiry = (arr // US_D + (rng.u("expiry") * 9.5 * 365 + 60).astype(np.int64)).astype(
        "datetime64[D]"
    )

    # Itinerary: the arriving flight, maybe a connection before it, maybe the booked return.
    transit_origin = np.isin(origin, lanes.COURIER_TRANSITS)
    connect = rng.chance("connect", 0.3) | (courier & transit_origin)
    feeder = np.array(lanes.FEEDER_AIRPORTS)[rng.ints("feeder", len(lanes.FEEDER_AIRPORTS))]
    feeder = np.where(
        courier,
        np.array(lanes.COURIER_ORIGINS)[rng.ints("feeder:c", len(lanes.COURIER_ORIGINS))],
        feeder,
    )
    connect &= (feeder != origin) & ~crew
    first_dep = np.where(connect, dep - ((6 + 8 * rng.u("connect:h")) * US_H).astype(np.int64), dep)
    one_way = rng.chance("oneway", 0.15) | crew
    one_way = np.where(courier, rng.chance("courier:oneway", 0.6), one_way)
    stay_days = np.where(courier, 2 + 3 * rng.u("stay:c"), 3 + 27 * rng.u("stay"))
    ret = ~one_way
    ret_dep = arr + (stay_days * US_D).astype(np.int64)
    counts = 1 + connect.astype(int) + ret.astype(int)
    leg_t = schema.field("itinerary").type
    legs_o = np.stack([feeder, origin, dest], axis=1)
    legs_d = np.stack([origin, dest, origin], axis=1)
    legs_t = np.stack([first_dep, dep, ret_dep], axis=1)
    carrier = flights.carrier[fl]
    legs_c = np.stack([carrier, carrier, carrier], axis=1)
    legs_f = np.stack([flights.flight_number[fl]] * 3, axis=1)
    present = np.stack([connect, np.ones(n, bool), ret], axis=1)
    legs = col.lists(
        leg_t,
        counts,
        col.struct(
            leg_t.value_type,
            int(counts.sum()),
            {
                "origin": pa.array(legs_o[present]),
                "destination": pa.array(legs_d[present]),
                "departs_at": col.timestamps(legs_t[present]),
                "carrier": pa.array(legs_c[present]),
                "flight_number": col.strings(
                    legs_f[present],
                    null=~np.stack(
                        [np.zeros(n, bool), np.ones(n, bool), np.zeros(n, bool)], axis=1
                    )[present],
                ),
            },
        ),
    )

    # Booking: months ahead by card for most; the day before, in cash, 1-2 bags for couriers.
    horizon_h = np.exp(np.log(24 * 30) + 1.0 * rng.normal("horizon"))
    horizon_h = np.where(courier, 8 + 28 * rng.u("horizon:c"), horizon_h)
    horizon_h = np.where(late_card, 6 + 42 * rng.u("horizon:l"), horizon_h)
    booked = first_dep - (horizon_h * US_H).astype(np.int64)
    payment = np.array(PAYMENT)[
        np.minimum(np.searchsorted(PAYMENT_P, rng.u("payment"), side="right"), 5)
    ]
    payment = np.where(courier | cash_normal, "cash", payment)
    payment = np.where(late_card, "card", payment)
    bags = np.minimum((rng.u("bags") * 3.2).astype(int), 3)
    bags = np.where(courier, 1 + (rng.u("bags:c") < 0.4), bags)
    bags = np.where(late_card, (rng.u("bags:l") * 3).astype(int), bags)
    locator = ids.text(
        ids.letters(np.stack([(rng.u(f"pnr:{k}") * 26).astype(int) for k in range(6)], axis=1))
    )
    agency = np.array(AGENCIES)[rng.ints("agency", len(AGENCIES))]
    booking = col.struct(
        schema.field("booking").type,
        n,
        {
            "locator": pa.array(locator),
            "booked_at": col.timestamps(booked),
            "payment_form": pa.array(payment),
            "paid_by_third_party": pa.array(rng.chance("thirdparty", 0.05) & ~courier),
            "one_way": pa.array(one_way),
            "checked_bags": pa.array(bags.astype(np.int64)),
            "travel_agency": col.strings(agency, null=rng.u("agency:on") > 0.2),
            "party_size": pa.array(np.where(courier, 1, 1 + (rng.u("party") ** 3 * 4).astype(int))),
        },
        null=crew,
    )

    # Travel document: unique numbers; passports carry a TD3 MRZ.
    v = ids.scramble(serial0 + idx, 676 * 10**7, 23)
    doc_no = ids.text(
        ids.letters(np.stack([(v // 10**7) // 26, (v // 10**7) % 26], axis=1)),
        ids.digits(v % 10**7, 7),
    )
    kind_u = rng.u("doc")
    eu = np.isin(nationality, ["NL", "BE", "DE", "ES", "FR", "IT", "PL", "PT"])
    kind = np.where(
        eu & (kind_u < 0.35), "id_card", np.where(kind_u > 0.97, "residence_permit", "passport")
    )
    passport = kind == "passport"
    with_mrz = passport & (rng.u("mrz:on") < 0.85)
    nat3 = alpha3(nationality)
    name_field = np.char.ljust(
        np.char.add(np.char.add(_mrz_part(surname), "<<"), _mrz_part(given)), 39, "<"
    ).astype("<U39")
    dob6 = _yymmdd(dob)
    exp6 = _yymmdd(expiry)
    sex = np.where(female, "F", "M")
    mrz = ids.mrz_td3(
        nat3, name_field, np.char.ljust(doc_no, 9, "<"), nat3, dob6, sex, exp6,
        rng.u("mrz:bad") < rates.invalid_mrz,
    )  # fmt: skip
    document = col.struct(
        schema.field("document").type,
        n,
        {
            "kind": pa.array(kind),
            "number": pa.array(doc_no),
            "issuing_country": pa.array(nationality),
            "expires_on": pa.array(expiry.astype(np.int64).astype(np.int32), pa.date32()),
            "mrz": col.strings(mrz, null=~with_mrz),
        },
    )
    table = col.table(
        schema,
        n,
        {
            "record": "traveller",
            "movement_ref": pa.array(flights.ref(fl)),
            "role": pa.array(np.where(crew, "crew", "passenger")),
            "surname": pa.array(surname),
            "given_names": pa.array(given),
            "date_of_birth": pa.array(dob.astype(np.int64).astype(np.int32), pa.date32()),
            "sex": pa.array(sex),
            "nationality": pa.array(nationality),
            "document": document,
            "itinerary": legs,
            "booking": booking,
        },
    )
    which = np.select([courier, late_card, cash_normal], [1, 2, 3], 0)
    truth.add(pnames, which, doc_no, rng.u("truth:q"), rng.u("truth:c"))
    return table


def _names(
    rng: RecordRng, names: Names, country: StrArray, female: npt.NDArray[np.bool_]
) -> tuple[StrArray, StrArray]:
    ci = np.clip(np.searchsorted(np.array(names.countries), country), 0, len(names.countries) - 1)
    k = names.last.shape[1]
    j1 = (rng.u("given") * k).astype(np.int64)
    j2 = (rng.u("surname") * k).astype(np.int64)
    given = np.where(female, names.first_f[ci, j1], names.first_m[ci, j1])
    return np.asarray(given), np.asarray(names.last[ci, j2])


def _yymmdd(days: npt.NDArray[np.datetime64]) -> StrArray:
    m = ids.codes(days.astype("datetime64[D]").astype("<U10"), 10)
    return ids.text(m[:, [2, 3, 5, 6, 8, 9]])
