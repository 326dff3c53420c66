"""Counter-based random streams, so a record's values do not depend on how the run is chunked.

Every column draws from its own Philox stream keyed by (seed, kind, day, column name), one
double per record; a chunk that starts at record `offset` advances each stream to that record.
Record 12,345 gets the same values whether it is written in a chunk of 1,000 or of 100,000.
`IndexedRng` gives the very same values for any set of record indices (random access), so a
consignment can read the attributes of the truck it travels on without the day's trucks being
kept in memory.
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

    @property
    def index(self) -> IntArray:
        """The record indices the draws are for."""
        return np.arange(self._offset, self._offset + self.n, dtype=np.int64)

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


class IndexedRng(RecordRng):
    """The draws `RecordRng` makes, for arbitrary (unordered, repeated) record indices."""

    def __init__(self, seed: int, kind: str, day: int, index: npt.ArrayLike) -> None:
        super().__init__(seed, kind, day, 0, 0)
        self._index = np.asarray(index, dtype=np.int64).ravel()
        self.n = len(self._index)

    @property
    def index(self) -> IntArray:
        return self._index

    def u(self, name: str, n: int | None = None) -> FloatArray:
        if n is not None and n != self.n:
            raise ValueError("an IndexedRng draws exactly one value per index")
        return philox_uniform(stream_key(*self._base, name), self._index)


# Philox4x64-10 (Salmon et al., SC'11, as in Random123 and numpy): multipliers, key increments.
_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B
_LOW32, _S32 = np.uint64(0xFFFFFFFF), np.uint64(32)
_U64 = npt.NDArray[np.uint64]


def _mulhilo(a: _U64, b: np.uint64) -> tuple[_U64, _U64]:
    """The high and low 64 bits of a * b (numpy has no 128-bit product: 32-bit halves)."""
    al, ah, bl, bh = a & _LOW32, a >> _S32, b & _LOW32, b >> _S32
    p1, p2 = al * bh, ah * bl
    mid = ((al * bl) >> _S32) + (p1 & _LOW32) + (p2 & _LOW32)
    return ah * bh + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32), a * b


def philox_uniform(key: int, index: IntArray) -> FloatArray:
    """Element `i` of `np.random.Generator(np.random.Philox(key=key)).random(...)`, per index.

    numpy's Philox makes draws 4i..4i+3 from counter i + 1 and turns a word w into the double
    (w >> 11) / 2**53; this replays that for any indices at once, vectorised.
    """
    idx = np.asarray(index, dtype=np.int64).astype(np.uint64)
    zero = np.zeros_like(idx)
    c0, c1, c2, c3 = idx // np.uint64(ALIGN) + np.uint64(1), zero, zero, zero
    k0, k1 = key & (2**64 - 1), (key >> 64) & (2**64 - 1)
    for r in range(10):
        # The key schedule in Python ints: numpy scalars would warn about the wrap-around.
        ka, kb = np.uint64((k0 + r * _W0) % 2**64), np.uint64((k1 + r * _W1) % 2**64)
        hi0, lo0 = _mulhilo(c0, _M0)
        hi1, lo1 = _mulhilo(c2, _M1)
        c0, c1, c2, c3 = hi1 ^ c1 ^ ka, lo1, hi0 ^ c3 ^ kb, lo0
    word = np.choose((idx % np.uint64(ALIGN)).astype(np.intp), (c0, c1, c2, c3))
    return np.asarray((word >> np.uint64(11)) * (1.0 / 2**53), dtype=np.float64)


def cdf(weights: npt.ArrayLike) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c
