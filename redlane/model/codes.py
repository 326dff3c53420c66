"""Code types shared by the domain model: countries, places, goods and modes.

Format checks run inside pydantic-core (patterns and literal sets), so validating a batch of
records stays in Rust; semantic checks that are facts rather than errors (is this HS code in the
nomenclature, is this LOCODE known) are computed later, vectorised, as data-quality flags.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import pycountry
from pydantic import StringConstraints

#: ISO 3166-1 alpha-2 codes known to pycountry, plus XK (Kosovo, user-assigned but used by
#: customs administrations and carriers alike).
COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}

CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^(" + "|".join(sorted(COUNTRY_CODES)) + r")$"),
]
"""An ISO 3166-1 alpha-2 country code, upper case."""

LOCODE_PATTERN = r"^[A-Z]{2}[A-Z2-9]{3}$"
LoCode = Annotated[str, StringConstraints(pattern=LOCODE_PATTERN)]
"""A UN/LOCODE: country code and three characters, e.g. NLRTM."""

HsCode = Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{2}(\d{2})?)?$")]
"""A goods code: HS 6 digits, or CN 8 / TARIC 10 digits that start with the HS subheading."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class TransportMode(StrEnum):
    SEA = "sea"
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    POST = "post"


class ConveyanceKind(StrEnum):
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    YACHT = "yacht"
    TRUCK = "truck"
    TRAIN = "train"


Sex = Literal["M", "F", "X"]
