"""The integer header's row kernels, NAME_dot_ and NAME_requant_, on every target, against Python.

The free-running tests (test_quant_targets.py) see only the sums and shifts
one trained model produces; these cases aim at the edges of the hand-written
AVR paths (the MULSU/MULS row sums, chunks of 252 terms, the multiply and
saturation of the requantisation) and at the C on the other targets:

- NAME_dot_ on int8 and int16 rows of n = 1 .. 8, 31 .. 33, 251 .. 253, 300
  terms (random, and the extreme weights with v = -32768 / 32767), weights
  read from flash on the ATmega328P (NAME_USE_PROGMEM): exactly sum_j w_j v_j
  (int8) and sum_j (w_j v_j) >> 8 (int16);
- NAME_requant_ on 720 (d, b, r, m): |d| < 2^30 with every shift r in
  [0, 31), biases and multipliers at their ends (and some multipliers
  outside [2^14, 2^15), negative ones too: the C is defined for any int16),
  sums that saturate the int16 clamp and the result: exactly
  tinyrnn.core.quant.requant.

Each kernel's results are folded into a 32-bit FNV-1a hash on the target and
compared with the same hash of Python's values.

And the AVR header (its inline assembly needs free registers where it is
inlined) compiles at every optimisation level, -O0 to -Os, int8 and int16,
token and dense input, tanh cell and 2-layer GRU and LSTM, with the strict
warnings.
"""

import os
import random
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402
import quant_targets as qt  # noqa: E402

from tinyrnn import RNN, init_params  # noqa: E402
from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.workflow.quant import calibrate, quantize  # noqa: E402

DOT_NS = (1, 2, 3, 4, 5, 6, 7, 8, 31, 32, 33, 251, 252, 253, 300)


def _dot_cases(width):
    """(w, v) pairs: random, then all-extreme rows (|sum| < 2^30 for n <= 255)."""
    rnd = random.Random(11)
    wmax = 127 if width == "int8" else 32767
    cases = []
    for n in DOT_NS:
        cases.append(([rnd.randint(-wmax - 1, wmax) for _ in range(n)], [rnd.randint(-32768, 32767) for _ in range(n)]))
        if n <= 255:
            for w0, v0 in ((-wmax - 1, -32768), (wmax, 32767), (-wmax - 1, 32767), (wmax, -32768)):
                cases.append(([w0] * n, [v0] * n))
    return cases


def _requant_cases():
    rnd = random.Random(12)
    cases = []
    ends_b = (-32768, -1, 0, 1, 32767)
    ends_m = (16384, 16385, 32766, 32767)
    for r in range(Q.R_LIMIT):
        for d in (0, 1, -1, (1 << 30) - 1, -((1 << 30) - 1), 1 << r, -(1 << r), (32767 << r), -(32768 << r) + 1):
            if abs(d) < Q.ACC_LIMIT:
                cases.append((d, rnd.choice(ends_b), r, rnd.choice(ends_m)))
    while len(cases) < 720:
        r = rnd.randrange(Q.R_LIMIT)
        # sums around the int16 edge after the shift, and anywhere
        d = rnd.choice((rnd.randint(-40000, 40000) << r, rnd.randint(-(1 << 30) + 1, (1 << 30) - 1)))
        d = max(-(1 << 30) + 1, min((1 << 30) - 1, d))
        # m in its range [2^14, 2^15) -- and, one case in 8, any int16 (the C is defined for all)
        m = rnd.randint(1 << 14, (1 << 15) - 1) if len(cases) % 8 else rnd.choice((-32768, rnd.randint(-32768, 32767)))
        cases.append((d, rnd.randint(-32768, 32767), r, m))
    return cases


def _fnv(values):
    h = qt.FNV32_OFFSET
    for v in values:
        for k in range(4):
            h = ((h ^ ((v >> (8 * k)) & 0xFF)) * qt.FNV32_PRIME) & 0xFFFFFFFF
    return h


MAIN = """\
#include "platform.h"
#include "kr.h"
#include "kr16.h"
PUT_U32
TABLES
static uint32_t fold(uint32_t h, int32_t v)
{
    int k;
    for (k = 0; k < 4; ++k) h = (h ^ (((uint32_t)v >> (8 * k)) & 0xFFu)) * 0x01000193UL;
    return h;
}
int main(void)
{
    static int16_t v[300];
    uint32_t hd = 0x811C9DC5UL, hd16 = 0x811C9DC5UL, hr = 0x811C9DC5UL;
    int c, j, o = 0;
    plat_init();
    for (c = 0; c < DOT_CASES; ++c) {
        int n = kr_RD16_(dot_n + c);
        for (j = 0; j < n; ++j) v[j] = kr_RD16_(dot_v + o + j);
        hd = fold(hd, kr_dot_(dot_w + o, v, n, kr_sum_(v, n)));
        hd16 = fold(hd16, kr16_dot_(dot_w16 + o, v, n, kr16_sum_(v, n)));
        o += n;
    }
    for (c = 0; c < RQ_CASES; ++c)
        hr = fold(hr, kr_requant_((int32_t)kr_RD32_(rq_d + c), kr_RD16_(rq_b + c), kr_RD8_(rq_r + c), kr_RD16_(rq_m + c)));
    plat_write("D ");
    put_u32(hd);
    plat_write("W ");
    put_u32(hd16);
    plat_write("R ");
    put_u32(hr);
    plat_write("E\\n");
    plat_exit(0);
    return 0;
}
"""


def _table(ctype, name, values):
    return "static const %s %s[%d] kr_FLASH_ = {%s};" % (ctype, name, len(values), ", ".join(
        "%dL" % v if ctype.endswith("32_t") else str(v) for v in values))


def _main():
    dots, dots16, rqs = _dot_cases("int8"), _dot_cases("int16"), _requant_cases()
    assert [len(ws) for ws, _ in dots16] == [len(ws) for ws, _ in dots] and [vs for _, vs in dots16] == [vs for _, vs in dots]
    tables = [
        _table("int8_t", "dot_w", [w for ws, _ in dots for w in ws]),
        _table("int16_t", "dot_w16", [w for ws, _ in dots16 for w in ws]),
        _table("int16_t", "dot_v", [v for _, vs in dots for v in vs]),
        _table("int16_t", "dot_n", [len(ws) for ws, _ in dots]),
        _table("uint32_t", "rq_d", [d & 0xFFFFFFFF for d, _, _, _ in rqs]),
        _table("int16_t", "rq_b", [b for _, b, _, _ in rqs]),
        _table("uint8_t", "rq_r", [r for _, _, r, _ in rqs]),
        _table("int16_t", "rq_m", [m for _, _, _, m in rqs]),
        "#define DOT_CASES %d" % len(dots),
        "#define RQ_CASES %d" % len(rqs),
    ]
    return MAIN.replace("PUT_U32", ct.PUT_U32).replace("TABLES", "\n".join(tables))


def _want():
    dots, dots16, rqs = _dot_cases("int8"), _dot_cases("int16"), _requant_cases()
    dot_sums = [sum(w * v for w, v in zip(ws, vs)) for ws, vs in dots]
    dot16_sums = [sum((w * v) >> 8 for w, v in zip(ws, vs)) for ws, vs in dots16]
    assert max(abs(s) for s in dot_sums + dot16_sums) < Q.ACC_LIMIT  # the kernel's contract
    return dot_sums, dot16_sums, [Q.requant(d, b, r, m) for d, b, r, m in rqs]


@pytest.mark.parametrize("target", ct.TARGETS)
def test_row_kernels_exact(target, tmp_path):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    m = RNN(5, 4, 5, 1, "softmax")
    init_params(m, 1, "xavier")
    cal = calibrate(m, [[k % 5 for k in range(50)]], "kernels", True)
    cases = [qt.QCase(quantize(m, "token", w, cal), m, name, 1) for w, name in (("int8", "kr"), ("int16", "kr16"))]
    exe = ct.build(target, str(tmp_path / "kr"), cases, main=_main(), units={})
    words = ct.run(target, exe, timeout=300).split()
    dot_sums, dot16_sums, rq = _want()
    assert words == ["D", str(_fnv(dot_sums)), "W", str(_fnv(dot16_sums)), "R", str(_fnv(rq)), "E"]


STEP_ONLY = """\
#include "NAME.h"
NAME_state_t s;
int16_t z[NAME_Y_S];
int16_t x[NAME_X_S];
int step_only(int token);
int step_only(int token)
{
    NAME_reset(&s);
    if (token < 0) NAME_step(&s, x, z);
    else (void)NAME_step_token(&s, token, z);
    return NAME_argmax(z);
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O1", "-O2", "-O3", "-Os"])
def test_avr_header_compiles_at_every_optimisation_level(opt, tmp_path):
    cc, cflags, _ = ct.flags("avr", opt)
    require_program(cc)
    for cell in ("rnn", "gru", "lstm"):  # the gated cells with 2 layers: token rows and dense rows in one header
        for input_kind in ("token", "dense"):
            m = RNN(5, 8, 5, 1, "softmax") if cell == "rnn" else RNN(5, 8, 5, 1, "softmax", cell=cell, layers=2)
            init_params(m, 2, "xavier")
            seqs = [[k % 5 for k in range(50)]] if input_kind == "token" else [[[0.1 * k - 0.3 * j for j in range(5)] for k in range(20)]]
            cal = calibrate(m, seqs, "o", input_kind == "token")
            for width in ("int8", "int16"):
                name = "o%s%s%s" % (cell[0], input_kind[0], width)
                qm = quantize(m, input_kind, width, cal)
                (tmp_path / (name + ".h")).write_text(qt.QCase(qm, m, name, 1).header())
                (tmp_path / (name + ".c")).write_text(STEP_ONLY.replace("NAME", name))
                r = subprocess.run([cc] + cflags + ["-D%s_USE_PROGMEM" % name, "-c", name + ".c", "-o", name + ".o"],
                                   cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
                assert r.returncode == 0, "%s %s: %s" % (name, opt, r.stdout[-2000:])
