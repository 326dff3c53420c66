"""Trade lanes, vessel services, air routes, road corridors and the goods that move on them.

Only UN/LOCODE codes appear here; their names and coordinates are in `places.csv` (a curated
copy of the UN/LOCODE extract, see SOURCES.md). Weights are rough shares of one day's traffic.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    country: str
    lat: float
    lon: float


@cache
def places() -> dict[str, Place]:
    """The curated UN/LOCODE places the generator uses, keyed by code."""
    text = resources.files("redlane.demo").joinpath("places.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        r["locode"]: Place(r["locode"], r["name"], r["country"], float(r["lat"]), float(r["lon"]))
        for r in rows
    }


def country_of(code: str) -> str:
    return code[:2]


# --- regions: they drive the goods mix -------------------------------------------------------

REGIONS: tuple[str, ...] = ("latam", "asia", "namerica", "mena", "europe", "balkan")
REGION_OF_COUNTRY: dict[str, str] = {
    **dict.fromkeys(
        ["EC", "CO", "PE", "BR", "DO", "PA", "JM", "CR", "GT", "CL", "AR", "UY", "VE", "MX"],
        "latam",
    ),
    **dict.fromkeys(["CN", "SG", "KR", "VN", "IN", "MY", "TW", "HK", "JP", "LK"], "asia"),
    **dict.fromkeys(["US", "CA"], "namerica"),
    **dict.fromkeys(["MA", "EG", "AE", "QA", "ZA", "NG", "GH", "SN", "ET", "KE"], "mena"),
    **dict.fromkeys(["NL", "BE", "DE", "ES", "FR", "PT", "IT", "AT", "HU", "SI", "HR"], "europe"),
    **dict.fromkeys(["TR", "BG", "RS", "MK", "AL", "GR", "RO", "IR"], "balkan"),
}

#: Cocaine source and first-transit countries (§7.2 A.1).
SOURCE_COUNTRIES: frozenset[str] = frozenset({"EC", "CO", "PE", "BR", "DO", "VE", "PA", "CR"})

# --- sea ------------------------------------------------------------------------------------

#: Transshipment hubs and the feeder ports whose cargo they relay.
HUB_FEEDERS: dict[str, tuple[str, ...]] = {
    "PAMIT": ("ECGYE", "COBUN", "PECLL", "CRLIO", "GTSTC"),
    "PABLB": ("ECGYE", "PECLL", "CLSAI"),
    "JMKIN": ("DOCAU", "DOHAI", "COSMR", "COCTG"),
    "MAPTM": ("BRSSZ", "CMDLA", "SNDKR", "GHTEM"),
    "ESALG": ("BRSSZ", "UYMVD", "MACAS"),
    "GRPIR": ("TRMER", "EGPSD", "TRIST"),
    "SGSIN": ("VNSGN", "MYPKG", "LKCMB"),
    "AEJEA": ("INNSA", "LKCMB"),
}


@dataclass(frozen=True)
class Service:
    """A liner service: the ports a vessel loads at, the hubs it relays at, where it discharges."""

    name: str
    loading: tuple[str, ...]
    hubs: tuple[str, ...]
    discharge: str
    weight: float
    operator: int
    """Index into CARRIERS."""


CARRIERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (name, B/L prefix, container owner codes)
    ("Mediterranean Shipping Company", "MEDU", ("MSCU", "MEDU", "MSDU", "MSKU")),
    ("Maersk A/S", "MAEU", ("MAEU", "MRKU", "MSKU", "MNBU")),
    ("CMA CGM", "CMDU", ("CMAU", "CGMU", "TGHU", "APHU")),
    ("Hapag-Lloyd", "HLCU", ("HLXU", "HLBU", "UACU", "FANU")),
    ("Ocean Network Express", "ONEY", ("ONEU", "NYKU", "KKFU", "TCNU")),
    ("COSCO Shipping Lines", "COSU", ("CSNU", "CBHU", "CCLU", "FCIU")),
    ("Evergreen Marine", "EGLV", ("EGHU", "EISU", "EMCU", "TRLU")),
    ("ZIM Integrated Shipping", "ZIMU", ("ZIMU", "ZCSU", "SEGU", "GESU")),
)

SERVICES: tuple[Service, ...] = (
    Service("WCSA-North Europe", ("ECGYE", "PECLL", "COBUN"), ("PABLB",), "NLRTM", 10, 0),
    Service("Ecuador Express", ("ECGYE", "PAONX"), ("PAMIT",), "BEANR", 9, 1),
    Service("Caribbean-Europe", ("COCTG", "COSMR", "DOCAU"), ("JMKIN",), "DEHAM", 8, 2),
    Service("ECSA-Europe", ("BRSSZ", "BRPNG", "BRRIG"), ("MAPTM",), "BEANR", 8, 3),
    Service("Andes-Med", ("PECLL", "CLSAI"), ("PAMIT", "ESALG"), "ESALG", 5, 1),
    Service("Central America Reefer", ("CRLIO", "GTSTC"), (), "NLRTM", 5, 4),
    Service("Brazil-Med", ("BRSSZ", "UYMVD", "ARBUE"), ("ESALG",), "ESALG", 4, 0),
    Service("Asia-Europe 1", ("CNYTN", "VNSGN", "MYPKG"), ("SGSIN",), "NLRTM", 16, 5),
    Service("Asia-Europe 2", ("KRPUS", "TWKHH", "HKHKG"), ("SGSIN",), "DEHAM", 14, 6),
    Service("Asia-Europe 3", ("CNYTN", "HKHKG", "LKCMB"), ("AEJEA",), "BEANR", 12, 7),
    Service("India-Med", ("INNSA",), ("AEJEA", "GRPIR"), "ESALG", 6, 2),
    Service("East Med", ("TRMER", "EGPSD"), ("GRPIR",), "BEANR", 5, 3),
    Service("Transatlantic", ("USNYC", "USSAV", "USCHS"), (), "DEHAM", 10, 3),
    Service("Gulf-Europe", ("USHOU",), (), "NLRTM", 5, 0),
    Service("West Africa", ("CMDLA", "GHTEM", "SNDKR"), ("MAPTM",), "NLRTM", 4, 2),
)

#: Discharge ports that have an inland place of delivery now and then.
INLAND_DELIVERY: dict[str, tuple[str, ...]] = {
    "NLRTM": ("NLVEN", "DEDUI", "NLAMS"),
    "BEANR": ("BEBRU", "BELGG", "DEDUI"),
    "DEHAM": ("DEMUC", "DEBER", "ATVIE"),
    "ESALG": ("ESMAD", "ESVLC"),
}

# --- air ------------------------------------------------------------------------------------

OUR_AIRPORTS: tuple[str, ...] = ("NLAMS", "BEBRU", "DEFRA", "ESMAD")
CARGO_AIRPORTS: tuple[str, ...] = ("BELGG", "NLAMS", "DEFRA")


@dataclass(frozen=True)
class AirRoute:
    origin: str
    carrier: str
    """IATA airline designator."""
    awb_prefix: str
    """The airline's three-digit air waybill prefix."""
    weight: float
    seats: int


AIR_ROUTES: tuple[AirRoute, ...] = (
    AirRoute("COBOG", "AV", "134", 5, 250),
    AirRoute("PELIM", "LA", "045", 4, 280),
    AirRoute("BRGRU", "LA", "045", 5, 300),
    AirRoute("BRGIG", "TP", "047", 3, 260),
    AirRoute("VECCS", "UX", "996", 1, 220),
    AirRoute("DOSDQ", "IB", "075", 2, 280),
    AirRoute("MXMEX", "AM", "139", 3, 280),
    AirRoute("USMIA", "AA", "001", 4, 250),
    AirRoute("USJFK", "DL", "006", 6, 260),
    AirRoute("USORD", "UA", "016", 4, 260),
    AirRoute("CAYYZ", "AC", "014", 3, 250),
    AirRoute("AEDXB", "EK", "176", 8, 400),
    AirRoute("QADOH", "QR", "157", 6, 350),
    AirRoute("TRIST", "TK", "235", 10, 220),
    AirRoute("CNPEK", "CA", "999", 3, 300),
    AirRoute("CNPVG", "MU", "781", 4, 300),
    AirRoute("HKHKG", "CX", "160", 4, 300),
    AirRoute("SGSIN", "SQ", "618", 4, 300),
    AirRoute("JPNRT", "JL", "131", 2, 250),
    AirRoute("INDEL", "AI", "098", 3, 250),
    AirRoute("INBOM", "AI", "098", 2, 250),
    AirRoute("ZAJNB", "SA", "083", 2, 280),
    AirRoute("NGLOS", "KL", "074", 2, 280),
    AirRoute("GHACC", "KL", "074", 2, 250),
    AirRoute("SNDKR", "AF", "057", 2, 200),
    AirRoute("ETADD", "ET", "071", 3, 300),
    AirRoute("KENBO", "KQ", "706", 2, 250),
    AirRoute("MACAS", "AT", "147", 3, 180),
    AirRoute("CVSID", "TP", "047", 1, 170),
    AirRoute("PTLIS", "TP", "047", 6, 180),
)

#: Where couriers start (§7.2 C.1): South American cities with direct or one-stop links.
COURIER_ORIGINS: tuple[str, ...] = ("COBOG", "PELIM", "BRGRU", "BRGIG", "VECCS", "DOSDQ")
#: West African and Atlantic transit points on the courier route to Europe.
COURIER_TRANSITS: tuple[str, ...] = ("ETADD", "GHACC", "NGLOS", "SNDKR", "CVSID", "PTLIS")
#: Air cargo origins of the walk-in-shipper pattern (§7.2 B.1).
AIR_SOURCE_ORIGINS: tuple[str, ...] = ("COBOG", "PELIM", "BRGRU")
#: Feeder airports that connect onto a long-haul flight.
FEEDER_AIRPORTS: tuple[str, ...] = (
    "USMIA", "USJFK", "MXMEX", "TRIST", "AEDXB", "SGSIN", "HKHKG", "INDEL", "ZAJNB", "PTLIS",
    "MACAS", "NGLOS", "BRGRU", "COBOG", "PELIM", "CAYYZ",
)  # fmt: skip
FREIGHTER_CARRIERS: tuple[tuple[str, str, str], ...] = (
    # (carrier, awb prefix, origin)
    ("CV", "172", "HKHKG"),
    ("QR", "157", "QADOH"),
    ("EK", "176", "AEDXB"),
    ("TK", "235", "TRIST"),
    ("LA", "045", "COBOG"),
    ("AV", "729", "COBOG"),
    ("5X", "406", "USJFK"),
    ("CK", "112", "CNPVG"),
)
EXPRESS_INTEGRATORS: tuple[tuple[str, str], ...] = (
    ("DHL Express", "423"),
    ("FedEx Express", "023"),
    ("UPS Airlines", "406"),
)

# --- road -----------------------------------------------------------------------------------

ROAD_ORIGINS: tuple[tuple[str, float], ...] = (
    ("TRIST", 8),
    ("TRIZM", 4),
    ("TRMER", 3),
    ("TREDI", 2),
    ("BGSOF", 3),
    ("RSBEG", 3),
    ("MKSKP", 2),
    ("ALTIA", 1),
    ("GRATH", 2),
    ("GRPIR", 1),
)
#: Border crossings where trucks enter our watch area, with the countries they come from.
ROAD_BORDERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("BGGJE", ("MK", "RS", "AL")),
    ("GRKKV", ("AL", "MK")),
    ("ROCAF", ("BG", "TR", "GR", "RS", "MK", "AL")),
    ("BGRDU", ("BG", "TR", "GR")),
    ("BGVID", ("BG", "TR", "GR")),
    ("SIDOB", ("RS", "MK", "AL", "BG", "TR", "GR")),
    ("ATND2", ("RS", "BG", "TR", "GR", "MK", "AL")),
)
ROAD_DESTINATIONS: tuple[str, ...] = (
    "DEMUC", "NLVEN", "ATVIE", "HUBUD", "DEDUI", "DEBER", "BEBRU", "FRPAR",
)  # fmt: skip

# --- yachts ---------------------------------------------------------------------------------

YACHT_CARIBBEAN: tuple[str, ...] = (
    "GPPTP", "MQFDF", "AGSJO", "LCCAS", "VCKTN", "BBBGI", "GPMSB", "DOSDQ",
)  # fmt: skip
YACHT_ATLANTIC: tuple[str, ...] = ("CVMIN", "PTHOR", "PTPDL", "ESLPA", "ESSCT")
YACHT_MED: tuple[str, ...] = (
    "ESPMI", "FRMRS", "FRCEQ", "ITNAP", "HRSPU", "HRDBV", "GRLAV", "MTMLA", "TRBXN", "TRMRM",
)  # fmt: skip
YACHT_ARRIVALS: tuple[str, ...] = ("ESVGO", "ESLCG", "PTLIS", "GBFAL", "GBPLY", "FRBES", "FRLRH")

# --- goods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goods:
    hs_code: str
    description: str
    value_per_kg: float
    """Typical customs value in EUR per kg of gross mass."""
    kg_per_package: float
    package_kind: str
    reefer: bool
    weights: dict[str, float]
    """Share of this good in each '<mode>:<region>' mix."""


PERISHABLE_COVER: tuple[str, ...] = ("080390", "080440", "080430")
"""Bananas, avocados, pineapples: the classic cover loads (§7.2 A.10)."""

GOODS: tuple[Goods, ...] = (
    Goods("080390", "Fresh bananas, Cavendish", 0.8, 18.1, "CT", True,
          {"sea:latam": 20}),
    Goods("080440", "Fresh avocados Hass", 2.6, 10.0, "CT", True,
          {"sea:latam": 8, "air:latam": 2}),
    Goods("080430", "Fresh pineapples", 0.7, 12.0, "CT", True, {"sea:latam": 7}),
    Goods("060311", "Fresh cut roses", 6.0, 15.0, "BX", True,
          {"air:latam": 25, "air:mena": 10}),
    Goods("060319", "Fresh cut flowers, mixed bouquets", 5.0, 12.0, "BX", True,
          {"air:latam": 12, "air:mena": 6}),
    Goods("090111", "Green coffee beans, not roasted", 4.2, 60.0, "BG", False,
          {"sea:latam": 10, "sea:mena": 2}),
    Goods("030617", "Frozen shrimps and prawns", 8.5, 20.0, "CT", True,
          {"sea:latam": 6, "sea:asia": 3, "air:latam": 2}),
    Goods("020130", "Fresh boneless beef", 9.0, 25.0, "CT", True,
          {"sea:latam": 3, "air:latam": 3}),
    Goods("220421", "Red wine in bottles", 4.0, 9.0, "CS", False,
          {"sea:latam": 3, "sea:europe": 1}),
    Goods("080510", "Fresh oranges", 0.7, 15.0, "CT", True, {"sea:mena": 6, "road:balkan": 1}),
    Goods("080410", "Dates, fresh or dried", 2.8, 10.0, "CT", False,
          {"sea:mena": 4, "road:balkan": 5, "air:mena": 1}),
    Goods("070200", "Fresh tomatoes", 1.1, 6.0, "CT", True, {"road:balkan": 8, "sea:mena": 2}),
    Goods("845011", "Household washing machines", 3.8, 70.0, "PC", False,
          {"road:balkan": 6, "sea:asia": 2}),
    Goods("847130", "Portable computers (laptops)", 85.0, 8.0, "CT", False,
          {"sea:asia": 4, "air:asia": 10, "air:namerica": 3}),
    Goods("847150", "Computer processing units", 45.0, 15.0, "CT", False,
          {"sea:asia": 3, "air:asia": 5, "air:namerica": 4}),
    Goods("851712", "Mobile phones", 160.0, 6.0, "CT", False,
          {"air:asia": 8, "air:mena": 2}),
    Goods("940360", "Wooden furniture", 3.2, 30.0, "PK", False,
          {"sea:asia": 8, "road:balkan": 4}),
    Goods("940171", "Upholstered seats with metal frames", 5.5, 25.0, "PK", False,
          {"sea:asia": 4, "road:balkan": 3}),
    Goods("610910", "Cotton T-shirts, knitted", 16.0, 20.0, "CT", False,
          {"sea:asia": 8, "road:balkan": 8, "air:asia": 2}),
    Goods("620342", "Men's cotton trousers", 18.0, 20.0, "CT", False,
          {"sea:asia": 5, "road:balkan": 6}),
    Goods("847989", "Machinery with individual functions", 12.0, 400.0, "CR", False,
          {"sea:asia": 6, "sea:namerica": 8, "sea:europe": 2, "air:namerica": 2}),
    Goods("870899", "Motor vehicle parts and accessories", 7.0, 30.0, "CT", False,
          {"sea:asia": 6, "sea:namerica": 5, "road:balkan": 7, "air:namerica": 2}),
    Goods("401110", "New pneumatic tyres for cars", 3.0, 9.0, "PC", False,
          {"sea:asia": 4, "road:balkan": 2}),
    Goods("730890", "Steel structures and parts", 1.6, 500.0, "PK", False,
          {"sea:asia": 3, "sea:mena": 2, "road:balkan": 3}),
    Goods("392690", "Articles of plastics", 5.0, 15.0, "CT", False,
          {"sea:asia": 6, "road:balkan": 3}),
    Goods("950300", "Toys", 8.0, 12.0, "CT", False, {"sea:asia": 6, "air:asia": 2}),
    Goods("300490", "Medicaments in measured doses", 70.0, 10.0, "CT", False,
          {"air:namerica": 6, "air:asia": 3, "air:mena": 2}),
    Goods("330499", "Beauty and skin-care preparations", 25.0, 8.0, "CT", False,
          {"air:asia": 3, "air:namerica": 3, "express:all": 4}),
    Goods("852872", "Television receivers", 12.0, 18.0, "PC", False, {"sea:asia": 4}),
    Goods("271019", "Lubricating oils", 1.5, 200.0, "DR", False,
          {"sea:namerica": 4, "sea:mena": 3}),
    Goods("100630", "Milled rice", 0.6, 50.0, "BG", False, {"sea:asia": 2, "sea:latam": 1}),
    Goods("490199", "Printed books and brochures", 6.0, 2.0, "PK", False, {"express:all": 3}),
    Goods("621420", "Scarves and shawls", 30.0, 1.0, "PK", False, {"express:all": 4}),
    Goods("851830", "Headphones and earphones", 60.0, 1.0, "PK", False, {"express:all": 4}),
    Goods("640399", "Leather footwear", 35.0, 2.0, "PK", False, {"express:all": 3}),
    Goods("950691", "Fitness equipment", 9.0, 5.0, "PK", False, {"express:all": 2}),
    Goods("491199", "Commercial documents", 10.0, 0.5, "EN", False, {"express:all": 5}),
)  # fmt: skip

VAGUE_DESCRIPTIONS: tuple[str, ...] = (
    "General merchandise",
    "General cargo",
    "Parts",
    "Goods",
    "Various products",
    "FAK (freight all kinds)",
)

GOODS_HS: tuple[str, ...] = tuple(g.hs_code for g in GOODS)


def goods_index(hs_code: str) -> int:
    return GOODS_HS.index(hs_code)


def goods_cdf(mode: str, regions: tuple[str, ...] = REGIONS) -> FloatArray:
    """Cumulative goods weights per region for one mode, shape (len(regions), len(GOODS)).

    A region with no goods of its own borrows the mode's overall mix.
    """
    w = np.array(
        [[g.weights.get(f"{mode}:{r}", 0.0) for g in GOODS] for r in regions], dtype=np.float64
    )
    total = w.sum(axis=0)
    if total.sum() == 0:
        total = np.array([g.weights.get(f"{mode}:all", 0.0) for g in GOODS], dtype=np.float64)
    w[w.sum(axis=1) == 0] = total
    return np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)


def all_codes() -> set[str]:
    """Every LOCODE the generator can write (the rows of places.csv)."""
    codes: set[str] = set()
    for s in SERVICES:
        codes |= {*s.loading, *s.hubs, s.discharge}
    for hub, feeders in HUB_FEEDERS.items():
        codes |= {hub, *feeders}
    for inland in INLAND_DELIVERY.values():
        codes |= set(inland)
    codes |= set(OUR_AIRPORTS) | set(CARGO_AIRPORTS) | {r.origin for r in AIR_ROUTES}
    codes |= set(COURIER_ORIGINS) | set(COURIER_TRANSITS) | set(FEEDER_AIRPORTS)
    codes |= {f[2] for f in FREIGHTER_CARRIERS}
    codes |= {o for o, _ in ROAD_ORIGINS} | {b for b, _ in ROAD_BORDERS} | set(ROAD_DESTINATIONS)
    codes |= set(YACHT_CARIBBEAN) | set(YACHT_ATLANTIC) | set(YACHT_MED) | set(YACHT_ARRIVALS)
    return codes
