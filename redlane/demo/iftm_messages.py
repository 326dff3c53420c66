"""The demo's sea consignments as UN/EDIFACT IFTMCS: one message per bill of lading.

Each vessel voyage of the canonical files becomes one interchange holding an IFTMCS message
for each bill that travels on it (the voyage repeated in each, as carriers send it), one file
per arrival day under `<traffic>/messages/`. The messages hold the very records of the
canonical files, so ingesting both stores each voyage and bill once.
"""

from __future__ import annotations

from pathlib import Path

from redlane.demo.messages import Progress, write_voyage_files
from redlane.intake.iftm import write_iftmcs


def write_iftmcs_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """IFTMCS files (one interchange per voyage, one message per bill) per arrival day of the
    sea consignments in `traffic`; the paths."""
    return write_voyage_files(traffic, "iftmcs", write_iftmcs, on_progress)
