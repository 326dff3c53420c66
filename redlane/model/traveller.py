"""Travellers: passengers and crew, their travel documents, itinerary and booking."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from redlane.intake import identifiers
from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import CountryCode, LoCode, NonEmpty, Sex


class TravelDocument(RedlaneModel):
    kind: Literal["passport", "id_card", "residence_permit", "visa", "seaman_book", "other"]
    number: NonEmpty
    issuing_country: CountryCode
    expires_on: date | None = None
    mrz: str | None = None
    """The machine-readable zone as read, lines joined with a newline."""

    @property
    def mrz_valid(self) -> bool | None:
        return None if self.mrz is None else identifiers.is_valid_mrz(self.mrz)


class Leg(RedlaneModel):
    origin: LoCode
    destination: LoCode
    departs_at: AwareDatetime
    carrier: str | None = None
    flight_number: str | None = None


class Booking(RedlaneModel):
    """Booking facts from a PNR, where the law allows them to be collected."""

    locator: NonEmpty
    booked_at: AwareDatetime
    payment_form: Literal["cash", "card", "invoice", "voucher", "miles", "unknown"] = "unknown"
    paid_by_third_party: bool = False
    one_way: bool = False
    checked_bags: int = Field(default=0, ge=0)
    travel_agency: str | None = None
    party_size: int = Field(default=1, ge=1)


class Traveller(RedlaneModel):
    """A passenger or crew member on one movement."""

    record: Literal["traveller"] = "traveller"
    movement_ref: NonEmpty
    role: Literal["passenger", "crew"] = "passenger"
    surname: NonEmpty
    given_names: str = ""
    date_of_birth: date
    sex: Sex | None = None
    nationality: CountryCode
    document: TravelDocument
    itinerary: list[Leg] = Field(min_length=1)
    booking: Booking | None = None
    phone: str | None = None
    email: str | None = None
    source: Source | None = None
