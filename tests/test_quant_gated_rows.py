"""The gated header's row loop, NAME_rows_, on every target, against Python (tinyrnn.core.quant).

The free-running tests (test_quant_gated_targets.py) see the row sets of a few
trained models; these cases aim at the edges of the ATmega's hand-written
paths (NAME_trows_: the one-hot column and its kx shift, the single terms,
the quad count of up to 255, a row set without a hidden part; NAME_rowq_
after a dense input part) and at the C on the other targets:

- row sets of 3 rows over a one-hot column (token 0 and the last one) with
  and without per-row kx in [0, 4], over a dense input of 5 values (with kx),
  and hidden parts of nh = 0 .. 8, 31 .. 33 (int8 also 255 .. 257 and 513:
  the ATmega's flash and RAM hold no more) weights; random weights, values, biases, shifts r in [0, 31) and
  multipliers in [2^14, 2^15), int8 and int16 (sums below 2^30);
- out[i] must be requant((input part << kx_i) + hidden part, b_i, r_i, m_i),
  exactly Gated.sums in tinyrnn.core.quant.

Each width's outputs are folded into a 32-bit FNV-1a hash on the target and
compared with the same hash of Python's values. (That the gated headers
compile at every avr-gcc optimisation level: tests/test_quant_row_kernels.py.)
"""

import os
import random
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

NHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 31, 32, 33, 255, 256, 257, 513)  # int16: up to 33 (flash)
ROWS = 3
XN = 9  # one-hot width of the column cases
DN = 5  # dense input width


def _cases(width):
    """(nx, nh, token (-1: dense x or none), kx?, W, b, r, m, kx, x, h) row sets."""
    rnd = random.Random(21 if width == "int8" else 22)
    wmax = 127 if width == "int8" else 32767
    out = []
    for nh in NHS if width == "int8" else [n for n in NHS if n < 255]:
        kinds = [(0, -1, False), (XN, 0, True), (XN, XN - 1, False), (DN, -1, True)] if nh in (0, 8, 33) else [(0, -1, False), (XN, 3, True)]
        if nh > 64:
            kinds = kinds[:1] if nh != 257 else kinds
        for nx, token, has_kx in kinds:
            if nx == 0 and nh == 0:
                continue
            big = nh > 64
            wm = wmax if not big or width == "int8" else 2000  # |sum| < 2^30
            vm = 32767 if not big or width == "int16" else 8000
            W = [rnd.randint(-wm - 1, wm) for _ in range(ROWS * (nx + nh))]
            b = [rnd.randint(-32768, 32767) for _ in range(ROWS)]
            r = [rnd.randrange(Q.R_LIMIT) if k else rnd.randint(10, 16) for k in range(ROWS)]
            m = [rnd.randint(1 << 14, (1 << 15) - 1) for _ in range(ROWS)]
            kx = [rnd.randint(0, 4) for _ in range(ROWS)] if has_kx else [0] * ROWS
            x = [rnd.randint(-32768, 32767) for _ in range(DN)] if token < 0 and nx else []
            h = [rnd.randint(-vm, vm) for _ in range(nh)]
            out.append((nx, nh, token, has_kx, W, b, r, m, kx, x, h))
    return out


def _want(width):
    """Every output of every case, as Gated.sums computes it."""
    P = 0 if width == "int8" else 8
    got = []
    for nx, nh, token, _, W, b, r, m, kx, x, h in _cases(width):
        R = Q.Rows(ROWS, nx + nh, P, W, b, r, m, kx)
        for i in range(ROWS):
            d = 0
            if nx:
                d = (R.dot(i, x, 0, nx) if token < 0 else R.column(i, token)) << R.kx[i]
            if nh:
                d += R.dot(i, h, nx, nh)
            assert abs(d) < Q.ACC_LIMIT  # the kernel's contract
            got.append(Q.requant(d, b[i], r[i], m[i]))
    return got


def _fnv(values):
    h = qt.FNV32_OFFSET
    for v in values:
        h = ((h ^ (v & 0xFFFF)) * qt.FNV32_PRIME) & 0xFFFFFFFF
    return h


def _unit(name, width):
    """Tables and a function gr_check_NAME() that runs every case and returns the hash."""
    lines = ['#include "platform.h"', '#include "%s.h"' % name, "#ifdef __AVR__", "#define RD16(p) pgm_read_word(p)", "#else",
             "#define RD16(p) (*(p))", "#endif"]
    calls = []
    vin = max(len(c[9]) + len(c[10]) for c in _cases(width))
    for k, (nx, nh, token, has_kx, W, b, r, m, kx, x, h) in enumerate(_cases(width)):
        q = []
        for bi, mi, ri in zip(b, m, r):
            q += [bi & 255, (bi >> 8) & 255, mi & 255, mi >> 8, ri]
        lines.append("static const %s_w_t w%d[%d] %s_FLASH_ = {%s};" % (name, k, len(W), name, ", ".join(map(str, W))))
        lines.append("static const uint8_t q%d[%d] %s_FLASH_ = {%s};" % (k, len(q), name, ", ".join(map(str, q))))
        if has_kx:
            lines.append("static const uint8_t kx%d[%d] %s_FLASH_ = {%s};" % (k, ROWS, name, ", ".join(map(str, kx))))
        lines.append("static const int16_t v%d[%d] DATA_ = {%s};" % (k, len(x) + len(h) + 1, ", ".join(map(str, x + h + [0]))))
        calls.append("    hash = run(hash, w%d, q%d, %s, %d, v%d, %d, %d, %d, %d);" % (
            k, k, "kx%d" % k if has_kx else "0", token, k, len(x), nx, nh, token < 0 and nx > 0))
    lines.append("""
static int16_t vin[VIN];
static uint32_t run(uint32_t hash, const NAME_w_t *w, const uint8_t *q, const uint8_t *kx, int token,
                    const int16_t *v, int nv, int nx, int nh, int dense)
{
    int16_t out[ROWS];
    int j;
    for (j = 0; j < nv + nh; ++j) vin[j] = (int16_t)RD16(v + j);
    NAME_rows_(w, q, kx, ROWS, dense ? vin : 0, token, nx, vin + nv, nh, out);
    for (j = 0; j < ROWS; ++j) hash = (hash ^ (uint32_t)(uint16_t)out[j]) * 0x01000193UL;
    return hash;
}
uint32_t check_NAME(void);
uint32_t check_NAME(void)
{
    uint32_t hash = 0x811C9DC5UL;
CALLS
    return hash;
}
""".replace("ROWS", str(ROWS)).replace("CALLS", "\n".join(calls)).replace("NAME", name).replace("VIN", str(vin)))
    return "\n".join(lines)


MAIN = """\
#include "platform.h"
PUT_U32
uint32_t check_gr(void);
uint32_t check_gr16(void);
int main(void)
{
    plat_init();
    plat_write("A ");
    put_u32(check_gr());
    plat_write("B ");
    put_u32(check_gr16());
    plat_write("E\\n");
    plat_exit(0);
    return 0;
}
"""


def _header_case(width, name):
    m = RNN(XN, 4, XN, 1, "softmax", cell="gru")
    init_params(m, 1, "xavier")
    cal = calibrate(m, [[k % XN for k in range(50)]], "rows", True)
    return qt.QCase(quantize(m, "token", width, cal), m, name, 1)


@pytest.mark.parametrize("target", ct.TARGETS)
def test_gated_rows_exact(target, tmp_path):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    cases = [_header_case("int8", "gr"), _header_case("int16", "gr16")]
    units = {"gr_run": _unit("gr", "int8"), "gr16_run": _unit("gr16", "int16")}
    exe = ct.build(target, str(tmp_path / "gr"), cases, main=MAIN.replace("PUT_U32", ct.PUT_U32), units=units)
    words = ct.run(target, exe, timeout=300).split()
    assert words == ["A", str(_fnv(_want("int8"))), "B", str(_fnv(_want("int16"))), "E"]

