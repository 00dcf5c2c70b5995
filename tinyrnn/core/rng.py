"""A portable pseudo-random number generator: SplitMix64."""

# The same seed gives the same numbers on CPython, MicroPython and in C::
#
#     state = state + 0x9E3779B97F4A7C15            (mod 2**64)
#     z = state
#     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9      (mod 2**64)
#     z = (z ^ (z >> 27)) * 0x94D049BB133111EB      (mod 2**64)
#     next_u64 = z ^ (z >> 31)
#
# - ``uniform()``: ``(next_u64 >> 11) * 2**-53``, a double in [0, 1), exact.
# - ``normal()``: Box-Muller from two uniforms ``u1``, ``u2``:
#   ``sqrt(-2 ln(1 - u1)) * cos(2 pi u2)``; one normal per two uniforms, the
#   sine twin is not kept. Exact up to the platform's ``log``/``cos`` rounding.
#
# The whole state is one integer (``rng.state``), so saving and restoring it
# restores the stream.

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

MASK64 = 0xFFFFFFFFFFFFFFFF
GAMMA = 0x9E3779B97F4A7C15
TWO_PI = 6.283185307179586
INV_2_53 = 1.0 / 9007199254740992.0


class Rng:
    """SplitMix64 stream; ``state`` is a 64-bit unsigned integer."""

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError("seed must be an integer, got %r" % (seed,))
        self.state = seed & MASK64

    def next_u64(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self, lo: float = 0.0, hi: float = 1.0) -> float:
        """A double in [lo, hi)."""
        return lo + (hi - lo) * ((self.next_u64() >> 11) * INV_2_53)

    def normal(self, mean: float = 0.0, std: float = 1.0) -> float:
        u1 = (self.next_u64() >> 11) * INV_2_53
        u2 = (self.next_u64() >> 11) * INV_2_53
        return mean + std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(TWO_PI * u2)

    def below(self, n: int) -> int:
        """An integer in [0, n), n >= 1 (multiply-shift, no modulo bias worth noting for n << 2**32)."""
        if n < 1:
            raise ValueError("below(n) needs n >= 1, got %d" % n)
        return ((self.next_u64() >> 32) * n) >> 32

    def fill_uniform(self, buf: "List[float]", start: int, count: int, lo: float, hi: float) -> None:
        for k in range(start, start + count):
            buf[k] = self.uniform(lo, hi)

    def fill_normal(self, buf: "List[float]", start: int, count: int, std: float) -> None:
        for k in range(start, start + count):
            buf[k] = self.normal(0.0, std)
