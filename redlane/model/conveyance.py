"""Conveyances (vessel, aircraft, yacht, truck, train) and their movements."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from redlane.intake import identifiers
from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import ConveyanceKind, CountryCode, LoCode, NonEmpty
from redlane.model.party import Party


class Plate(RedlaneModel):
    """A vehicle registration plate with the country that issued it."""

    number: NonEmpty
    country: CountryCode
    unit: str = Field(default="tractor", pattern=r"^(tractor|trailer|vehicle)$")


class Conveyance(RedlaneModel):
    """The means of transport. Identifiers are kept as sent; their validity is a flag."""

    kind: ConveyanceKind
    name: str | None = None
    flag: CountryCode | None = None
    imo: str | None = None
    mmsi: str | None = None
    call_sign: str | None = None
    registration: str | None = None
    plates: list[Plate] = Field(default_factory=list)
    operator: Party | None = None
    owner: Party | None = None
    acquired_on: date | None = None

    @property
    def imo_valid(self) -> bool | None:
        return None if self.imo is None else identifiers.is_valid_imo(self.imo)

    @property
    def mmsi_valid(self) -> bool | None:
        return None if self.mmsi is None else identifiers.is_valid_mmsi(self.mmsi)


class Call(RedlaneModel):
    """One place on an itinerary with its times (a port call, an airport, a border post)."""

    place: LoCode
    arrival: AwareDatetime | None = None
    departure: AwareDatetime | None = None


class Movement(RedlaneModel):
    """One voyage, flight or crossing of a conveyance, with its itinerary in order."""

    record: Literal["movement"] = "movement"
    ref: NonEmpty
    conveyance: Conveyance
    flight_number: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2}[A-Z]?\d{1,4}[A-Z]?$")
    itinerary: list[Call] = Field(min_length=1)
    persons_on_board: int | None = Field(default=None, ge=0)
    source: Source | None = None

    @model_validator(mode="after")
    def _itinerary_in_order(self) -> Movement:
        times = [c.arrival or c.departure for c in self.itinerary]
        known = [t for t in times if t is not None]
        if any(b < a for a, b in itertools.pairwise(known)):
            raise ValueError("itinerary times go backwards")
        return self

    @property
    def arrival(self) -> Call:
        """The last call: where the movement enters our territory."""
        return self.itinerary[-1]

    @property
    def departure(self) -> Call:
        return self.itinerary[0]
