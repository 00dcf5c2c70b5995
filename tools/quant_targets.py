"""Build and run integer headers (``tinyrnn export --quant``) on the targets of c_targets.py.

A ``QCase`` is an integer model run free for ``steps`` steps from h = 0:
token models feed back their own argmax (greedy generation from a prime
token), dense models cycle through a table of int16 input vectors. Per step
the firmware folds the logits and the state into a 32-bit FNV-1a hash (over
the 16-bit values) and prints the argmax; every ``every`` steps, and after
the last, it prints the hash and the full state and logits. ``reference``
computes the same lines with ``tinyrnn.core.quant`` -- agreement of every
line is bit-exactness of every integer at every step (up to a hash
collision between checkpoints, and the full vectors are compared there).

Used by tests/test_quant_targets.py and tools/bench_c.py --quant.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import c_targets as ct  # noqa: E402

from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.core.model import RNN  # noqa: E402
from tinyrnn.export.c_int import header, row_sets  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193


class QCase:
    """One integer model in a firmware (the interface c_targets.build expects: name, header(), progmem)."""

    def __init__(
        self, qm: "Q.QModel", model: RNN, name: str, steps: int, prime: int = 0,
        inputs: "Optional[List[List[int]]]" = None, every: int = 1000, vocab: "Optional[List[str]]" = None,
    ) -> None:
        self.qm = qm
        self.model = model
        self.name = name
        self.steps = steps
        self.prime = prime
        self.inputs = inputs  # dense: int16 vectors, cycled
        self.every = every
        self.vocab = vocab
        self.progmem = True

    def header(self) -> str:
        return header(self.qm, self.model, self.name, vocab=self.vocab)

    def flash_estimate(self) -> int:
        n = sum(len(R.W) + 6 * R.n for R in row_sets(self.qm))
        code = 2500 if self.qm.cell == "rnn" and len(self.qm.layers) == 1 else 3000 + 1200 * len(self.qm.layers)
        return n * (1 if self.qm.width == "int8" else 2) + 2 * len(self.inputs or []) * self.qm.X + code


_PRELUDE = """\
#include "platform.h"
#ifdef __AVR__
#define RD16(p) pgm_read_word(p)
#else
#define RD16(p) (*(p))
#endif

#define H_ static __attribute__((unused))
H_ void put_hex(uint32_t u, int digits, char end)
{
    char b[10];
    int i;
    for (i = 0; i < digits; ++i) {
        unsigned d = (unsigned)((u >> (4 * (digits - 1 - i))) & 0xFu);
        b[i] = (char)(d < 10u ? '0' + d : 'a' + d - 10u);
    }
    b[digits] = end;
    b[digits + 1] = 0;
    plat_write(b);
}
H_ uint32_t fold(uint32_t h, const int16_t *v, int n)
{
    int k;
    for (k = 0; k < n; ++k) h = (h ^ (uint32_t)(uint16_t)v[k]) * 0x01000193UL;
    return h;
}
H_ void put_vec(const int16_t *v, int n)
{
    int k;
    for (k = 0; k < n; ++k) put_hex((uint32_t)(uint16_t)v[k], 4, (char)(k % 16 == 15 || k == n - 1 ? '\\n' : ' '));
}
"""

_RUN = """\
void run_NAME(void);
void run_NAME(void)
{
    NAME_state_t s;
    int16_t z[NAME_Y_S];
    uint32_t t, hash = 0x811C9DC5UL;
    int tok = PRIME;
    const int16_t *sv = (const int16_t *)(const void *)&s; /* every layer's h, then c: SN int16 */
    NAME_reset(&s);
    plat_write("M\\n");
    for (t = 1; t <= STEPSUL; ++t) {
        STEP
        hash = fold(fold(hash, z, NAME_Y_S), sv, SN);
        put_hex((uint32_t)tok, 2, (char)(t % 16u == 0u ? '\\n' : ' '));
        if (t % EVERYUL == 0 || t == STEPSUL) {
            plat_write("\\nC ");
            put_hex(hash, 8, '\\n');
            put_vec(sv, SN);
            put_vec(z, NAME_Y_S);
        }
    }
}
"""


def render_case(c: QCase) -> str:
    N = c.name
    out = [_PRELUDE, '#include "%s.h"' % N]
    if c.inputs is not None:
        flat = [v for x in c.inputs for v in x]
        out.append("static const int16_t %s_in[%d] DATA_ = {%s};" % (N, len(flat), ", ".join(str(v) for v in flat)))
        step = (
            "{ int16_t x[NAME_X_S]; int i; uint32_t k = (t - 1) %% %du;\n"
            "        for (i = 0; i < NAME_X_S; ++i) x[i] = (int16_t)RD16(NAME_in + k * NAME_X_S + (uint32_t)i);\n"
            "        NAME_step(&s, x, z); }\n        tok = NAME_argmax(z);" % len(c.inputs)
        )
    else:
        step = "(void)NAME_step_token(&s, tok, z);\n        tok = NAME_argmax(z);"
    out.append(
        _RUN.replace("STEPS", str(c.steps)).replace("EVERY", str(c.every)).replace("PRIME", str(c.prime))
        .replace("STEP", step).replace("SN", "(int)(sizeof s / 2)").replace("NAME", N)
    )
    return "\n".join(out)


def reference(c: QCase) -> "List[str]":
    """The words the firmware prints for ``c``, computed with the emulator."""
    qm = c.qm
    state = qm.new_state()
    z = [0] * qm.Y
    words = ["M"]
    hsh = FNV32_OFFSET
    tok = c.prime
    for t in range(1, c.steps + 1):
        if c.inputs is not None:
            qm.step(state, c.inputs[(t - 1) % len(c.inputs)], z)
        else:
            qm.step(state, tok, z)
        tok = Q.argmax(z)
        flat = state_ints(qm, state)
        for v in z + flat:
            hsh = ((hsh ^ (v & 0xFFFF)) * FNV32_PRIME) & 0xFFFFFFFF
        words.append("%02x" % tok)
        if t % c.every == 0 or t == c.steps:
            words += ["C", "%08x" % hsh] + ["%04x" % (v & 0xFFFF) for v in flat] + ["%04x" % (v & 0xFFFF) for v in z]
    return words


def state_ints(qm: "Q.QModel", state: "List[List[int]]") -> "List[int]":
    """The state in NAME_state_t's order: h of every layer, then (lstm) c of every layer."""
    H = qm.layers[0].H
    return [v for s in state for v in s[:H]] + [v for s in state for v in s[H:]]


def units(cases: "Sequence[QCase]") -> "dict[str, str]":
    return {c.name + "_run": render_case(c) for c in cases}


def split(text: str, cases: "Sequence[QCase]") -> "List[List[str]]":
    """The printed words of each case, in order (RuntimeError without the end marker)."""
    words = text.split()
    if not words or words[-1] != "E":
        raise RuntimeError("firmware output has no end marker:\n" + text[-2000:])
    words = words[:-1]
    out = []  # type: List[List[str]]
    for w in words:
        if w == "M":
            out.append([])
        out[-1].append(w)
    if len(out) != len(cases):
        raise RuntimeError("expected %d cases, got %d" % (len(cases), len(out)))
    return out


def run_cases(target: str, workdir: str, cases: "Sequence[QCase]", timeout: float = 600, jobs: int = 0) -> "List[List[str]]":
    exe = ct.build(target, workdir, cases, units=units(cases), jobs=jobs)
    return split(ct.run(target, exe, timeout=timeout), cases)


def run_binned(target: str, workdir: str, cases: "Sequence[QCase]", timeout: float = 900) -> "List[List[str]]":
    """run_cases, split into several firmwares on AVR (32 KB of flash); the words of each case, in order."""
    from concurrent.futures import ThreadPoolExecutor

    groups = ct.bins(cases, ct.AVR_FLASH - 4000) if target == "avr" else [list(cases)]  # type: ignore[arg-type]

    def go(k: int) -> "List[List[str]]":  # several firmwares: two simulators at a time, each build on one core
        return run_cases(target, os.path.join(workdir, "fw%d" % k), groups[k], timeout=timeout, jobs=1 if len(groups) > 1 else 0)

    got = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for g, words in zip(groups, pool.map(go, range(len(groups)))):
            for c, w in zip(g, words):
                got[c.name] = w
    return [got[c.name] for c in cases]
