"""Parties: persons and organisations, and the roles they play on a document."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator

from redlane.model.base import RedlaneModel
from redlane.model.codes import CountryCode, NonEmpty


class PartyRole(StrEnum):
    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"
    NOTIFY_PARTY = "notify_party"
    CARRIER = "carrier"
    FORWARDER = "forwarder"
    DECLARANT = "declarant"
    FREIGHT_PAYER = "freight_payer"
    HAULIER = "haulier"
    OWNER = "owner"


class Address(RedlaneModel):
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: CountryCode | None = None


class Party(RedlaneModel):
    """A person or an organisation, as the document names it."""

    kind: Literal["person", "organisation"] = "organisation"
    name: NonEmpty
    address: Address | None = None
    eori: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Z]{1,15}$")
    vat: str | None = None
    phone: str | None = None
    email: str | None = None

    @field_validator("address")
    @classmethod
    def _empty_address_is_none(cls, value: Address | None) -> Address | None:
        # An address with nothing in it is no address, whichever format said so.
        if value is not None and not any(value.model_dump().values()):
            return None
        return value


class RoledParty(Party):
    """A party in one role on one document (a consignment lists several)."""

    role: PartyRole
