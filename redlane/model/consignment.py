"""Consignments: goods under one transport document, with parties, route, goods and equipment."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from redlane.intake import identifiers
from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import CountryCode, CurrencyCode, HsCode, LoCode, NonEmpty, TransportMode
from redlane.model.party import PartyRole, RoledParty


class DocumentKind(StrEnum):
    BILL_OF_LADING = "bill_of_lading"
    HOUSE_BILL_OF_LADING = "house_bill_of_lading"
    AIR_WAYBILL = "air_waybill"
    HOUSE_AIR_WAYBILL = "house_air_waybill"
    CMR = "cmr"
    TIR_CARNET = "tir_carnet"
    RAIL_WAYBILL = "rail_waybill"
    POSTAL_ITEM = "postal_item"


class TransportDocument(RedlaneModel):
    kind: DocumentKind
    number: NonEmpty
    master_number: str | None = None
    """The master bill or master air waybill a house document travels under."""

    @property
    def number_valid(self) -> bool | None:
        """Master air waybills carry a mod-7 check digit; other documents have none to check."""
        if self.kind == DocumentKind.AIR_WAYBILL:
            return identifiers.is_valid_awb(self.number)
        return None


class GoodsItem(RedlaneModel):
    hs_code: HsCode
    description: NonEmpty
    packages: int = Field(ge=0)
    package_kind: str | None = None
    gross_mass_kg: float = Field(ge=0)
    net_mass_kg: float | None = Field(default=None, ge=0)
    value: float | None = Field(default=None, ge=0)
    currency: CurrencyCode | None = None

    @property
    def hs6(self) -> str:
        return self.hs_code[:6]


class Equipment(RedlaneModel):
    """A container (or trailer) with its seals as declared on this document."""

    number: NonEmpty
    size_type: str | None = Field(default=None, pattern=r"^[0-9A-Z]{4}$")
    reefer: bool = False
    full: bool = True
    seals: list[str] = Field(default_factory=list)

    @property
    def number_valid(self) -> bool:
        return identifiers.is_valid_container(self.number)


class Freight(RedlaneModel):
    amount: float | None = Field(default=None, ge=0)
    currency: CurrencyCode | None = None
    terms: Literal["prepaid", "collect", "unknown"] = "unknown"
    payer_role: PartyRole | None = None
    """Which party pays; FREIGHT_PAYER means a party that plays no other role on the document."""


class Consignment(RedlaneModel):
    """Goods under one transport document (bill of lading, air waybill, CMR; master or house)."""

    record: Literal["consignment"] = "consignment"
    mode: TransportMode
    document: TransportDocument
    movement_ref: str | None = None
    office: str | None = None
    declared_at: AwareDatetime
    arrival_date: date
    parties: list[RoledParty] = Field(min_length=1)
    place_of_loading: LoCode
    place_of_discharge: LoCode
    place_of_delivery: LoCode | None = None
    origin_country: CountryCode
    destination_country: CountryCode
    transshipment_places: list[LoCode] = Field(default_factory=list)
    routing_countries: list[CountryCode] = Field(default_factory=list)
    goods: list[GoodsItem] = Field(min_length=1)
    equipment: list[Equipment] = Field(default_factory=list)
    freight: Freight | None = None
    source: Source | None = None

    def party(self, role: PartyRole) -> RoledParty | None:
        return next((p for p in self.parties if p.role == role), None)
