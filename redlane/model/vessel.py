"""Vessel events: what a conveyance's AIS track shows it did (port calls, gaps, loitering,
encounters), the movement facts targeting reads beside the declared itinerary."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import LoCode

VesselEventKind = Literal["port_call", "ais_gap", "loitering", "encounter"]


class VesselEvent(RedlaneModel):
    """One event of one vessel's AIS track, with the identity the vessel reported (AIS
    messages 5 and 24) at the time; see docs/intake.md for the exact definitions."""

    record: Literal["vessel_event"] = "vessel_event"
    kind: VesselEventKind
    mmsi: str = Field(pattern=r"^\d{9}$")
    imo: str | None = Field(default=None, pattern=r"^\d{7}$")
    name: str | None = None
    start: AwareDatetime
    end: AwareDatetime
    hours: float = Field(ge=0)
    """end - start in hours, rounded to two decimals."""
    place: LoCode | None = None
    """The port of a port call (UN/LOCODE); empty for the other kinds."""
    lat: float | None = Field(default=None, ge=-90, le=90)
    """Where: the mean position of a call, loitering or encounter; the last one before a gap."""
    lon: float | None = Field(default=None, ge=-180, le=180)
    other_mmsi: str | None = Field(default=None, pattern=r"^\d{9}$")
    """The other vessel of an encounter."""
    source: Source | None = None

    @model_validator(mode="after")
    def _consistent(self) -> VesselEvent:
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.kind == "port_call") != (self.place is not None):
            raise ValueError("a port call, and only a port call, names its place")
        if (self.kind == "encounter") != (self.other_mmsi is not None):
            raise ValueError("an encounter, and only an encounter, names the other vessel")
        return self
