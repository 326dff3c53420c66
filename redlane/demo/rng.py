"""Counter-based random streams, so a record's values do not depend on how the run is chunked.

Every column draws from its own Philox stream keyed by (seed, kind, day, column name), one
double per record; a chunk that starts at record `offset` advances each stream to that record.
Record 12,345 gets the same values whether it is written in a chunk of 1,000 or of 100,000.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Chunks start at multiples of this: Philox makes four doubles per counter step.
ALIGN = 4


def stream_key(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "little")


class RecordRng:
    """Uniform draws for records `offset .. offset + n - 1` of one (seed, kind, day)."""

    def __init__(self, seed: int, kind: str, day: int, offset: int, n: int) -> None:
        if offset % ALIGN:
            raise ValueError(f"chunk offset {offset} is not a multiple of {ALIGN}")
        self._base = (seed, kind, day)
        self._offset = offset
        self.n = n

    def u(self, name: str, n: int | None = None) -> FloatArray:
        """n (default: one per record) uniform doubles in [0, 1) from the column's stream."""
        bitgen = np.random.Philox(key=stream_key(*self._base, name))
        bitgen.advance(self._offset // ALIGN)
        return np.random.Generator(bitgen).random(self.n if n is None else n)

    def ints(self, name: str, high: int | IntArray, low: int | IntArray = 0) -> IntArray:
        """Integers in [low, high) per record."""
        span = np.asarray(high) - np.asarray(low)
        return np.asarray(np.asarray(low) + (self.u(name) * span).astype(np.int64), np.int64)

    def chance(self, name: str, p: float | FloatArray) -> BoolArray:
        return np.asarray(self.u(name) < p)

    def choice(self, name: str, cdf: FloatArray) -> IntArray:
        """Index into a cumulative distribution (its last value 1)."""
        return np.minimum(np.searchsorted(cdf, self.u(name), side="right"), len(cdf) - 1)

    def normal(self, name: str) -> FloatArray:
        """Standard normal by Box-Muller from two streams (keeps one double per record)."""
        u1 = np.maximum(self.u(name + ":1"), 1e-300)
        u2 = self.u(name + ":2")
        return np.asarray(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2))


def day_rng(seed: int, kind: str, day: int) -> np.random.Generator:
    """An ordinary generator for the small per-day structures (movements, pools)."""
    return np.random.Generator(np.random.Philox(key=stream_key(seed, kind, day, "day")))


def cdf(weights: npt.ArrayLike) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c
