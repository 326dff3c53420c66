"""What the benchmarks share: each stage in a fresh interpreter, so its peak memory is its own."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any


def peak_mb() -> float:
    """Peak resident memory of this process plus that of its largest child (the preparing
    process of a parallel ingest): an upper bound of what both held at once."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # ru_maxrss is in KiB on Linux


def run_stage(script: str, *args: str) -> dict[str, Any]:
    """Run `script --stage ARGS` in a fresh interpreter; the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, script, "--stage", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"stage {args[0]} failed:\n{result.stderr}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def remove_sqlite(path: Path) -> None:
    """Delete a SQLite database with its WAL and shared-memory files, for a fresh start."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
