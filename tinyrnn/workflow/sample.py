"""Sampling text from a character model: temperature, prime text, seed.

The prime text is fed through the model one character at a time (the state
carries over); then each new character is drawn from
``softmax(z / temperature)`` with the seeded PRNG and fed back in. A
temperature of 0 is greedy: always the most likely character (argmax).
"""

import math

from ..core.model import RNN, argmax
from ..core.rng import Rng

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional


def draw(z: "List[float]", temperature: float, rng: Rng) -> int:
    """A token id from logits ``z`` at ``temperature`` (argmax when 0)."""
    if temperature == 0.0:
        return argmax(z)
    zmax = max(z)
    inv = 1.0 / temperature
    e = [math.exp((v - zmax) * inv) for v in z]
    u = rng.uniform() * sum(e)
    acc = 0.0
    for k, ek in enumerate(e):
        acc += ek
        if u < acc:
            return k
    return len(e) - 1


def sample_ids(model: RNN, prime: "List[int]", n: int, temperature: float, seed: int) -> "List[int]":
    """``n`` token ids generated after feeding ``prime`` (at least one id) through ``model``."""
    if model.head != "softmax":
        raise ValueError("sampling needs a softmax (character) model, this one has a %s head" % model.head)
    if not prime:
        raise ValueError("sampling needs at least one prime token")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0.0):
        raise ValueError("temperature must be a finite number >= 0, got %r" % (temperature,))
    if n < 0:
        raise ValueError("number of characters must be >= 0, got %d" % n)
    rng = Rng(seed)
    h = model.new_state()
    z = [0.0] * model.Y
    for t in prime:
        model.step(h, t, z)
    out = []  # type: List[int]
    for _ in range(n):
        k = draw(z, float(temperature), rng)
        out.append(k)
        model.step(h, k, z)
    return out


def default_prime(vocab: "List[str]") -> str:
    """A newline when the vocabulary has one (the start of a line), else its first character."""
    return "\n" if "\n" in vocab else vocab[0]


def sample_text(model: RNN, vocab: "List[str]", n: int, temperature: float = 1.0, prime: "Optional[str]" = None, seed: int = 0) -> str:
    """Prime text (if given) followed by ``n`` sampled characters."""
    from .datasets import Vocab

    v = Vocab(vocab)
    p = prime if prime else default_prime(vocab)
    ids = sample_ids(model, v.encode(p, "prime text"), n, temperature, seed)
    return (prime or "") + v.decode(ids)
