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
    from typing import Iterator, List, Optional


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


def check_temperature(temperature: object) -> float:
    """``temperature`` as a float: 0 (greedy) or a positive number whose inverse is finite."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature < 0.0:
        raise ValueError("temperature must be a finite number >= 0 (0 = greedy), got %r" % (temperature,))
    t = float(temperature)
    if t != 0.0 and not math.isfinite(1.0 / t):
        raise ValueError("temperature %r is too small to divide by; use 0 for greedy sampling" % (temperature,))
    return 0.0 if t == 0.0 else t


def iter_ids(model: RNN, prime: "List[int]", n: int, temperature: float, seed: int) -> "Iterator[int]":
    """``n`` token ids, one at a time, generated after feeding ``prime`` (at least one id) through ``model``."""
    if model.head != "softmax":
        raise ValueError("sampling needs a softmax (character) model, this one has a %s head" % model.head)
    if not prime:
        raise ValueError("sampling needs at least one prime token")
    t = check_temperature(temperature)
    if n < 0:
        raise ValueError("number of characters must be >= 0, got %d" % n)
    return _generate(model, prime, n, t, seed)


def _generate(model: RNN, prime: "List[int]", n: int, temperature: float, seed: int) -> "Iterator[int]":
    rng = Rng(seed)
    h = model.new_state()
    z = [0.0] * model.Y
    for t in prime:
        model.step(h, t, z)
    for _ in range(n):
        k = draw(z, temperature, rng)
        yield k
        model.step(h, k, z)


def sample_ids(model: RNN, prime: "List[int]", n: int, temperature: float, seed: int) -> "List[int]":
    """``n`` token ids generated after feeding ``prime`` (at least one id) through ``model``."""
    return list(iter_ids(model, prime, n, temperature, seed))


def default_prime(vocab: "List[str]") -> str:
    """A newline when the vocabulary has one (the start of a line), else its first character."""
    return "\n" if "\n" in vocab else vocab[0]


def iter_text(
    model: RNN, vocab: "List[str]", n: int, temperature: float = 1.0, prime: "Optional[str]" = None, seed: int = 0, chunk: int = 4096
) -> "Iterator[str]":
    """Prime text (if given), then ``n`` sampled characters, in pieces of at most ``chunk`` characters."""
    from .datasets import Vocab

    v = Vocab(vocab)
    p = prime if prime else default_prime(vocab)
    ids = iter_ids(model, v.encode(p, "prime text"), n, temperature, seed)  # validates before the first piece
    return _pieces(prime or "", ids, v.chars, chunk)


def _pieces(head: str, ids: "Iterator[int]", chars: "List[str]", chunk: int) -> "Iterator[str]":
    if head:
        yield head
    buf = []  # type: List[str]
    for k in ids:
        buf.append(chars[k])
        if len(buf) >= chunk:
            yield "".join(buf)
            buf = []
    if buf:
        yield "".join(buf)


def sample_text(model: RNN, vocab: "List[str]", n: int, temperature: float = 1.0, prime: "Optional[str]" = None, seed: int = 0) -> str:
    """Prime text (if given) followed by ``n`` sampled characters."""
    return "".join(iter_text(model, vocab, n, temperature, prime, seed))
