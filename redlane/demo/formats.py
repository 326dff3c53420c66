"""The transport-sector formats the generator writes besides the canonical files.

Each writer reads the canonical files just written and writes the same records in one
sector's own format under `<traffic>/messages/`; ingesting them stores those very records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redlane.demo.ais_messages import write_ais_files
from redlane.demo.baplie_messages import write_baplie_files
from redlane.demo.cargoimp_messages import write_cargoimp_files
from redlane.demo.iftm_messages import write_iftmcs_files
from redlane.demo.messages import write_cuscar_files
from redlane.demo.passenger_messages import write_paxlst_files, write_pnrgov_files
from redlane.demo.road_yacht_files import write_road_yacht_files

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SectorWriter:
    needs: frozenset[str]
    """The record kinds the writer reads; it is skipped when the generator writes fewer."""
    write: Callable[[Path, Progress | None], list[Path]]
    in_sector: bool = True
    """Whether 'sector' writes it: not when it repeats records another format carries."""


SECTOR_FORMATS: dict[str, SectorWriter] = {
    "cuscar": SectorWriter(frozenset({"consignment", "movement"}), write_cuscar_files),
    "ais": SectorWriter(frozenset({"movement"}), write_ais_files),
    "baplie": SectorWriter(frozenset({"consignment", "movement"}), write_baplie_files),
    # the sea bills again, one message each: on request only, CUSCAR carries them already
    "iftmcs": SectorWriter(frozenset({"consignment", "movement"}), write_iftmcs_files, False),
    "tables": SectorWriter(frozenset({"consignment", "movement"}), write_road_yacht_files),
    "cargoimp": SectorWriter(frozenset({"consignment", "movement"}), write_cargoimp_files),
    "paxlst": SectorWriter(frozenset({"traveller"}), write_paxlst_files),
    "pnrgov": SectorWriter(frozenset({"traveller"}), write_pnrgov_files),
}
#: Asks for every sector format at once.
ALL_SECTOR_FORMATS = "sector"
