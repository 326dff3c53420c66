"""Pieces shared by the sea, air and road consignment generators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo import columns as col
from redlane.demo import ids, lanes
from redlane.demo.pools import Pool
from redlane.demo.rng import RecordRng
from redlane.model.arrow import arrow_schema

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

_G_VALUE = np.array([g.value_per_kg for g in lanes.GOODS])
_G_PKG = np.array([g.kg_per_package for g in lanes.GOODS])
_G_KIND = np.array([g.package_kind for g in lanes.GOODS])
_G_DESC = np.array([g.description for g in lanes.GOODS] + list(lanes.VAGUE_DESCRIPTIONS))
_G_HS = np.array(lanes.GOODS_HS)
G_REEFER = np.array([g.reefer for g in lanes.GOODS])
REGION_INDEX = {r: i for i, r in enumerate(lanes.REGIONS)}

OFFICES = {
    "NLRTM": "NL000396", "BEANR": "BEA1A000", "DEHAM": "DE004852", "ESALG": "ES001101",
    "NLAMS": "NL000854", "BEBRU": "BEZ1B000", "BELGG": "BEL1A000", "DEFRA": "DE004701",
    "ESMAD": "ES002801", "BGGJE": "BG005100", "GRKKV": "GR001200", "ROCAF": "RO160100",
    "BGRDU": "BG001000", "BGVID": "BG001300", "SIDOB": "SI002100", "ATND2": "AT320000",
}  # fmt: skip
_OFFICE_PLACES = np.array(sorted(OFFICES))
_OFFICE_CODES = np.array([OFFICES[p] for p in _OFFICE_PLACES])


def offices(places: StrArray) -> StrArray:
    """The customs office at each place of entry (every place passed must have one)."""
    i = np.minimum(np.searchsorted(_OFFICE_PLACES, places), len(_OFFICE_PLACES) - 1)
    if not (_OFFICE_PLACES[i] == places).all():
        raise KeyError("a place of entry without a customs office")
    return np.asarray(_OFFICE_CODES[i])


def region_of(countries: StrArray) -> IntArray:
    lookup = {c: REGION_INDEX[r] for c, r in lanes.REGION_OF_COUNTRY.items()}
    keys = np.array(sorted(lookup))
    vals = np.array([lookup[k] for k in keys])
    pos = np.clip(np.searchsorted(keys, countries), 0, len(keys) - 1)
    return np.where(keys[pos] == countries, vals[pos], REGION_INDEX["europe"]).astype(np.int64)


def pick_goods(u: FloatArray, region: IntArray, cdf: FloatArray) -> IntArray:
    """Goods index per item from the region's cumulative mix (rows of `cdf`)."""
    rows = cdf[region]
    return np.asarray(np.minimum((u[:, None] >= rows).sum(axis=1), rows.shape[1] - 1), np.int64)


@dataclass
class GoodsSpec:
    """Flat goods items (one row per item) and their parent record."""

    counts: IntArray
    hs: IntArray
    mass: FloatArray
    vague: BoolArray
    value_factor: FloatArray
    """Multiplies the goods' typical value per kg; ~1 for honest declarations."""
    mass_factor: FloatArray
    """Multiplies the gross mass relative to the packages; ~1 when consistent."""


def goods_column(t: pa.DataType, spec: GoodsSpec, currency: str = "EUR") -> pa.Array:
    hs = spec.hs
    m = len(hs)
    packages = np.maximum(1, np.round(spec.mass / _G_PKG[hs])).astype(np.int64)
    gross = np.round(packages * _G_PKG[hs] * spec.mass_factor, 1)
    value = np.round(gross * _G_VALUE[hs] * spec.value_factor, 2)
    desc_idx = np.where(spec.vague, len(lanes.GOODS) + (hs % len(lanes.VAGUE_DESCRIPTIONS)), hs)
    item = col.struct(
        t.value_type,
        m,
        {
            "hs_code": pa.array(_G_HS[hs]),
            "description": pa.array(_G_DESC[desc_idx]),
            "packages": pa.array(packages),
            "package_kind": pa.array(_G_KIND[hs]),
            "gross_mass_kg": pa.array(gross),
            "net_mass_kg": pa.array(np.round(gross * 0.92, 1)),
            "value": pa.array(value),
            "currency": currency,
        },
    )
    return col.lists(t, spec.counts, item)


_NEW_FIRST = (
    "Nova", "Euro", "Prima", "Golden", "Tropical", "Green", "Delta", "Alfa", "Royal", "Sun",
    "Andina", "Atlas", "Vital", "Fresh", "Terra", "Iberia",
)  # fmt: skip
_NEW_SECOND = (
    "Trading", "Import", "Foods", "Fruit", "Distribution", "Logistics", "Commerce", "Products",
    "Partners", "Supply", "Market", "Group",
)  # fmt: skip


def newcomers(rng: RecordRng, name: str, country: StrArray, serial: IntArray) -> pa.Table:
    """Companies that trade for the first time: no history in the pools, one document each.

    Their names and registrations look like anybody else's; only their absence from earlier
    traffic marks them (§7.2 A.4).
    """
    n = len(country)
    first = np.array(_NEW_FIRST)
    second = np.array(_NEW_SECOND)
    suffix = np.array(["B.V.", "BV", "GmbH", "S.L.", "SARL", "Ltd", "S.r.l."])
    a = first[(rng.u(name + ":a", n) * len(first)).astype(int)]
    b = second[(rng.u(name + ":b", n) * len(second)).astype(int)]
    c = suffix[(rng.u(name + ":c", n) * len(suffix)).astype(int)]
    names = np.char.add(np.char.add(np.char.add(np.char.add(a, " "), b), " "), c)
    eori = np.char.add(country, ids.text(ids.digits(ids.scramble(serial, 10**10, 7), 10)))
    street_no = (rng.u(name + ":s", n) * 200).astype(int) + 1
    streets = np.char.add(
        np.array(
            ["Industrieweg ", "Havenstraat ", "Calle Mayor ", "Hauptstrasse ", "Rue du Port "]
        )[street_no % 5],
        street_no.astype(str),
    )
    return pa.table(
        {
            "kind": pa.array(np.full(n, "organisation")),
            "name": pa.array(names),
            "street": pa.array(streets),
            "city": pa.nulls(n, pa.string()),
            "postcode": pa.nulls(n, pa.string()),
            "country": pa.array(country),
            "eori": pa.array(eori),
            "vat": pa.nulls(n, pa.string()),
            "phone": pa.array(
                ids.text(ids.const("+31 6 ", n), ids.digits((rng.u(name + ":p", n) * 1e8), 8))
            ),
            "email": pa.nulls(n, pa.string()),
        }
    )


def consignment_table(n: int, cols: dict[str, Any]) -> pa.Table:
    return col.table(arrow_schema("consignment"), n, {"record": "consignment", **cols})


def schema_type(path: str) -> pa.DataType:
    """The Arrow type of a consignment field, e.g. 'parties' or 'document'."""
    return arrow_schema("consignment").field(path).type


@dataclass(frozen=True)
class PartyPools:
    """Companies and persons in one table (`base`); person rows follow the company rows."""

    companies: Pool
    persons: Pool
    base: pa.Table

    def person(self, country: StrArray, u: FloatArray) -> IntArray:
        offset = int(self.companies.table.num_rows)
        return np.asarray(self.persons.pick(country, u) + offset, dtype=np.int64)

    @staticmethod
    def of(companies: Pool, persons: Pool) -> PartyPools:
        base = pa.concat_tables([companies.table, persons.table]).combine_chunks()
        return PartyPools(companies, persons, base)


def string_lists(t: pa.DataType, rows: list[StrArray], present: list[BoolArray]) -> pa.Array:
    """A list<string> column from up to k optional string columns (kept in order)."""
    vals = np.stack(rows, axis=1)
    mask = np.stack(present, axis=1)
    return col.lists(t, mask.sum(axis=1), pa.array(vals[mask].astype(str), pa.string()))
