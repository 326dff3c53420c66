"""Reference data shipped with redlane: UN/LOCODE places (see SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Place:
    locode: str
    country: str
    name: str
    function: str
    iata: str | None
    lat: float
    lon: float

    @property
    def is_port(self) -> bool:
        return self.function[:1] == "1"

    @property
    def is_airport(self) -> bool:
        return len(self.function) > 3 and self.function[3] == "4"

    @property
    def is_border_crossing(self) -> bool:
        return self.function.endswith("B")


@cache
def places() -> dict[str, Place]:
    """Every UN/LOCODE port, airport and border crossing redlane knows, by code."""
    text = resources.files(__package__).joinpath("unlocode.csv").read_text(encoding="utf-8")
    return {
        row["locode"]: Place(
            row["locode"],
            row["country"],
            row["name"],
            row["function"],
            row["iata"] or None,
            float(row["lat"]),
            float(row["lon"]),
        )
        for row in csv.DictReader(text.splitlines())
    }


def place_label(locode: str) -> str:
    """'NLRTM Rotterdam' for a known code; the code alone otherwise."""
    place = places().get(locode)
    return f"{locode} {place.name}" if place else locode


@cache
def _airports_by_iata() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """IATA code -> (airports that name it in UN/LOCODE's IATA column, airports whose code
    ends with it and name no other)."""
    explicit: dict[str, set[str]] = {}
    implied: dict[str, set[str]] = {}
    for place in places().values():
        if not place.is_airport:
            continue
        if place.iata:
            explicit.setdefault(place.iata, set()).add(place.locode)
        else:
            implied.setdefault(place.locode[2:], set()).add(place.locode)
    keys = set(explicit) | set(implied)
    return {k: (frozenset(explicit.get(k, ())), frozenset(implied.get(k, ()))) for k in keys}


def airport_locode(iata: str, country: str | None = None) -> str | None:
    """The UN/LOCODE of the airport an IATA code names (Cargo-IMP and PNR data give IATA codes).

    UN/LOCODE gives an airport's IATA code only where it differs from the last three letters
    of its own code, so an explicit entry wins; otherwise the code's suffix decides. Where that
    still leaves several airports (small airfields share suffixes), `country` must tell them
    apart; an unknown or ambiguous code gives None, never a guess.
    """
    explicit, implied = _airports_by_iata().get(iata.strip().upper(), (frozenset(), frozenset()))
    for candidates in (explicit, implied):
        if country is not None:
            candidates = frozenset(c for c in candidates if c[:2] == country.upper())
        if len(candidates) == 1:
            return next(iter(candidates))
        if candidates:
            return None
    return None
