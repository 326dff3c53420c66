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
