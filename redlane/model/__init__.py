"""The domain model: canonical records that every source format is mapped onto.

Aligned with the WCO / EU customs data models: places are UN/LOCODE, countries ISO 3166-1
alpha-2, goods HS codes. Identifiers are kept as sent; their validity is a flag, never a reason
to drop a record.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import COUNTRY_CODES, ConveyanceKind, TransportMode
from redlane.model.consignment import (
    Consignment,
    DocumentKind,
    Equipment,
    Freight,
    GoodsItem,
    TransportDocument,
)
from redlane.model.container import ContainerEvent
from redlane.model.control import ControlResult, Drug, Outcome, Seizure
from redlane.model.conveyance import Call, Conveyance, Movement, Plate
from redlane.model.party import Address, Party, PartyRole, RoledParty
from redlane.model.traveller import Booking, Leg, TravelDocument, Traveller
from redlane.model.vessel import VesselEvent, VesselEventKind

Record = Annotated[
    Consignment | Traveller | Movement | ControlResult | ContainerEvent | VesselEvent,
    Field(discriminator="record"),
]
"""Any canonical record; the `record` field says which."""

RECORD_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)
RECORD_KINDS: tuple[str, ...] = (
    "consignment", "traveller", "movement", "control_result", "container_event", "vessel_event",
)  # fmt: skip

__all__ = [
    "COUNTRY_CODES",
    "RECORD_ADAPTER",
    "RECORD_KINDS",
    "Address",
    "Booking",
    "Call",
    "Consignment",
    "ContainerEvent",
    "ControlResult",
    "Conveyance",
    "ConveyanceKind",
    "DocumentKind",
    "Drug",
    "Equipment",
    "Freight",
    "GoodsItem",
    "Leg",
    "Movement",
    "Outcome",
    "Party",
    "PartyRole",
    "Plate",
    "Record",
    "RedlaneModel",
    "RoledParty",
    "Seizure",
    "Source",
    "TransportDocument",
    "TransportMode",
    "TravelDocument",
    "Traveller",
    "VesselEvent",
    "VesselEventKind",
]
