"""Control results and seizures: what a control found."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import NonEmpty


class Outcome(StrEnum):
    NO_FINDING = "no_finding"
    IRREGULARITY = "irregularity"
    SEIZURE = "seizure"


class Drug(StrEnum):
    COCAINE = "cocaine"
    HEROIN = "heroin"
    CANNABIS_RESIN = "cannabis_resin"
    HERBAL_CANNABIS = "herbal_cannabis"
    AMPHETAMINE = "amphetamine"
    METHAMPHETAMINE = "methamphetamine"
    MDMA = "mdma"
    SYNTHETIC_OPIOIDS = "synthetic_opioids"
    PRECURSORS = "precursors"
    OTHER = "other"


class Seizure(RedlaneModel):
    drug: Drug
    quantity_kg: float = Field(gt=0)
    concealment: str | None = None


class ControlResult(RedlaneModel):
    """The outcome of one control of one target (consignment, traveller or movement)."""

    record: Literal["control_result"] = "control_result"
    target_kind: Literal["consignment", "traveller", "movement"] = "consignment"
    target_ref: NonEmpty
    """Transport document number, travel document number or movement reference."""
    office: NonEmpty
    controlled_on: date
    outcome: Outcome
    seizures: list[Seizure] = Field(default_factory=list)
    notes: str | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _seizures_match_outcome(self) -> ControlResult:
        if (self.outcome == Outcome.SEIZURE) != bool(self.seizures):
            raise ValueError(
                "outcome 'seizure' needs at least one seizure, and only it may have any"
            )
        return self
