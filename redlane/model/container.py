"""Container events: what a bay plan or a terminal's report says about one container."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from redlane.intake import identifiers
from redlane.model.base import RedlaneModel, Source
from redlane.model.codes import LoCode, NonEmpty


class ContainerEvent(RedlaneModel):
    """One container in a BAPLIE bay plan (stowed on board) or a COARRI terminal report
    (discharged or loaded): where, when, with which seals and mass, on which voyage."""

    record: Literal["container_event"] = "container_event"
    event: Literal["stowed", "discharged", "loaded", "reported"]
    container: NonEmpty
    size_type: str | None = Field(default=None, pattern=r"^[0-9A-Z]{4}$")
    full: bool | None = None
    seals: list[str] = Field(default_factory=list)
    vessel: str | None = None
    """The vessel as the message names it: IMO number or call sign."""
    voyage: str | None = None
    place: LoCode | None = None
    """Where the event happens: the terminal's port, or the port a bay plan was made at."""
    port_of_loading: LoCode | None = None
    port_of_discharge: LoCode | None = None
    stowage: str | None = None
    """Bay, row and tier on board (ISO 9711), e.g. '0780690'."""
    at: AwareDatetime | None = None
    gross_mass_kg: float | None = Field(default=None, ge=0)
    operator: str | None = None
    """Container operator or carrier code."""
    source: Source | None = None

    @property
    def container_valid(self) -> bool:
        return identifiers.is_valid_container(self.container)
