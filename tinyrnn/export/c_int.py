"""Export the integer model (``tinyrnn export --quant int8|int16``) as one C99 header.

The step computes exactly what ``tinyrnn.core.quant.QModel.step`` computes,
in ``int8_t``/``int16_t`` weights, ``int16_t`` state and logits and
``int32_t`` accumulators; no floating point in any step function (only
``NAME_output`` and ``NAME_sample``, which turn logits into probabilities,
use float). The formats and bounds are in ``tinyrnn/core/quant.py`` and
docs/export.md::

    typedef struct { int16_t h[NAME_H_S]; } NAME_state_t;       Q15
    void NAME_reset(NAME_state_t *s);
    void NAME_step(NAME_state_t *s, const int16_t *x, int16_t *z);  x: round(x * 2^NAME_X_SHIFT)
    int  NAME_step_token(NAME_state_t *s, int token, int16_t *z);   0, or -1 outside [0, X)
    int  NAME_argmax(const int16_t *z);                              logits: z / 2^NAME_Z_SHIFT
    void NAME_output(const int16_t *z, float *y);                    softmax / sigmoid / identity (float)
    int16_t NAME_tanh_q12(int16_t p), NAME_sigmoid_q11(int16_t p), NAME_mul_q15(int16_t a, int16_t b)

GRU, LSTM and stacked layers (any cell): the same API; the state holds every
layer's h (and the LSTM's c, in Q(NAME_C_SHIFT_l)); the step is NAME_rows_ (the
row sums of any row set through the kernels above) and a cell update per layer::

    typedef struct { int16_t h[NAME_LAYERS][NAME_H_S]; int16_t c[NAME_LAYERS][NAME_H_S]; } NAME_state_t;
"""

from .. import __version__
from ..core import quant as Q
from ..core.model import RNN
from . import c_cells
from .c import _ARGMAX, MAX_DIM, check_name, comment_text, eval_loss, progmem_guard, shape_defines, vocab_code_points
from .c_int_avr import _ASM, _ASM16, _AVR_DOTC, _AVR_MULQ15, _AVR_REQUANT, _AVR_ROWQ, _AVR_TANH, _asm, _avr_trows
from .c_runtime import _RNG_NEXT, _TOKEN_OF, _VOCAB_AT, ExportError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

WBYTES = {"int8": 1, "int16": 2}


def row_sets(qm: "Q.QModel") -> "List[Q.Rows]":
    """Every set of integer rows of ``qm``: each layer's (gru: and its n rows), then the output rows."""
    out = []  # type: List[Q.Rows]
    for L in qm.layers:
        out.append(L.rows)
        if isinstance(L, Q.Gated) and L.nx is not None and L.nh is not None:
            out += [L.nx, L.nh]
    return out + [qm.out]


def plain(qm: "Q.QModel") -> bool:
    """The one-layer tanh model (its header keeps the original layout and step)."""
    return len(qm.layers) == 1 and qm.cell == "rnn"


def flash_bytes(qm: "Q.QModel", has_vocab: bool) -> int:
    """Bytes of tables: weights, per-row bias (2 B) and requant constants (3 B), the tanh table, the vocabulary."""
    return weight_bytes(qm) + 2 * len(Q.TANH) + (4 * qm.X if has_vocab else 0)


def weight_bytes(qm: "Q.QModel") -> int:
    """Bytes of the weights proper: the matrices plus each row's bias and requant constants (and a layer row's kx)."""
    return sum(WBYTES[qm.width] * len(R.W) + 5 * R.n for R in row_sets(qm)) + sum(L.rows.n for L in qm.layers)


def _table(o: "List[str]", ctype: str, cname: str, values: "Sequence[int]", comment: str, per_line: int) -> None:
    o.append("/* %s */" % comment)
    o.append("static const %s %s[%d] NAME_FLASH_ = {" % (ctype, cname, len(values)))
    for k in range(0, len(values), per_line):
        o.append("    " + ", ".join(_int(v) for v in values[k : k + per_line]) + ",")
    o.append("};")


def _int(v: int) -> str:
    # INT32_MIN-safe, and L so a 16-bit int compiler (AVR) reads 32-bit constants as long
    return "%dL" % v if not -32767 <= v <= 32767 else "%d" % v


def header(
    qm: "Q.QModel",
    model: RNN,
    name: str = "model",
    vocab: "Optional[Sequence[str]]" = None,
    step: "Optional[int]" = None,
    metrics: "Optional[Dict[str, Any]]" = None,
    progmem: bool = False,
    source: "Optional[str]" = None,
    filename: "Optional[str]" = None,
    calibration: "Optional[Dict[str, Any]]" = None,
) -> str:
    """The integer C99 header of ``qm`` (quantised from ``model``)."""
    N = check_name(name)
    X, H, Y = model.X, model.H, model.Y
    for d, size in (("X", X), ("H", H), ("Y", Y)):
        if size > MAX_DIM:
            raise ExportError("dimension %s = %d is too large for the C runtime (limit %d)" % (d, size, MAX_DIM))
    cps = vocab_code_points(vocab) if vocab is not None else None
    if cps is not None and len(cps) != X:
        raise ExportError("vocabulary has %d entries, expected X = %d" % (len(cps), X))
    L, O = qm.layers[0].rows, qm.out
    flat = plain(qm)
    cell, layers = qm.cell, len(qm.layers)
    wt = "int8_t" if qm.width == "int8" else "int16_t"
    rdw = "(int8_t)pgm_read_byte(p)" if qm.width == "int8" else "(int16_t)pgm_read_word(p)"
    dense = qm.dense
    input_kind = "dense" if dense else "token"
    loss = eval_loss(metrics)
    macs_token, macs_dense = c_cells.macs_per_step(model, False), c_cells.macs_per_step(model, True)
    lstm = cell == "lstm"
    state_ram = 2 * H * layers * (2 if lstm else 1)
    o = []  # type: List[str]
    o.append("/* %s -- tinyrnn %s %s export of a %s. Generated file: do not edit." % (
        comment_text(filename or N + ".h"), __version__, qm.width, c_cells.title(model)))
    o.append(" *")
    if source is not None:
        o.append(" * source: %s" % comment_text(source))
    o.append(" * head: %s   input: %s   X=%d H=%d Y=%d   parameters: %d" % (model.head, input_kind, X, H, Y, model.num_params))
    if step is not None:
        o.append(" * training step: %d" % int(step))
    if loss is not None:
        o.append(" * float model %s: %s" % (comment_text(loss[0]), "%.9g" % loss[1]))
    if calibration is not None:
        o.append(" * calibration: max|z| %.6g%s over %d steps of %s" % (
            calibration["z_absmax"], "" if calibration.get("x_absmax") is None else ", max|x| %.6g" % calibration["x_absmax"],
            int(calibration.get("steps", 0)), comment_text(str(calibration.get("source", "?")))))
    o.append(" *")
    o.append(" * Integer only in the step (bit-exact with tinyrnn.core.quant, `tinyrnn sample/eval --quant %s`):" % qm.width)
    if flat:
        o.append(" *   h (Q15) = tanh_q12(requant(b + W [x|h]))     z (Q%d) = requant(by + Wy h)" % qm.zshift)
    else:
        o += [" *   " + line for line in _FORMULAS[cell]] + [" *   layer l > 0 reads layer l-1's new h (Q15); z (Q%d) = requant(by + Wy h_top)" % qm.zshift]
        if lstm:
            o.append(" *   c of layer l in Q(%s_C_SHIFT_l) = %s (from the calibrated max |c|; saturates beyond)" % (
                N, ", ".join("Q%d" % Lq.cs for Lq in qm.layers if isinstance(Lq, Q.Gated))))
    o.append(" *   weights %s, one scale per row; int32 sums proven below 2^30; tanh: 257-entry table," % qm.width)
    o.append(" *   linear interpolation. Logits: z / 2^%s_Z_SHIFT.%s" % (
        N, "  Dense input: x_q = round(x * 2^%s_X_SHIFT), int16." % N if dense else ""))
    o.append(" *")
    o.append(" * API (all static; no malloc, no VLA, no global mutable state; include in one .c file):")
    o.append(" *   void %s_reset(%s_state_t *s);                               %s = 0" % (N, N, "h and c" if lstm else "h"))
    o.append(" *   void %s_step(%s_state_t *s, const int16_t *x, int16_t *z);  x: %s_X_S int16, z: %s_Y_S logits" % (N, N, N, N))
    o.append(" *   int  %s_step_token(%s_state_t *s, int token, int16_t *z);  one-hot input; returns 0," % (N, N))
    o.append(" *        or -1 if token is outside [0, %s_X_S): then s is unchanged and z is all 0" % N)
    o.append(" *   int  %s_argmax(const int16_t *z);           first index of the largest logit" % N)
    o.append(" *   void %s_output(const int16_t *z, float *y);  %s of z / 2^%s_Z_SHIFT (float; not in the step)" % (
        N, {"softmax": "softmax", "sigmoid": "sigmoid", "mse": "identity"}[model.head], N))
    o.append(" *   int16_t %s_tanh_q12(int16_t p);  int16_t %s_sigmoid_q11(int16_t p);  int16_t %s_mul_q15(int16_t a, int16_t b);" % (N, N, N))
    o.append(" *        the integer activations (Q12 / Q11 in, Q15 out) and the rounded Q15 product")
    if cps is not None:
        o.append(" *   uint32_t %s_vocab_at(int token);  int %s_token_of(uint32_t code_point);" % (N, N))
    if model.head == "softmax":
        o.append(" *   uint64_t %s_rng_next(uint64_t *rng);" % N)
        o.append(" *   int  %s_sample(const int16_t *z, float temperature, uint64_t *rng);  as tinyrnn sample --quant" % N)
    o.append(" * %s_state_t is a plain struct: copy it to snapshot the model, copy it back to restore." % N)
    o.append(" * AVR: define %s_USE_PROGMEM to keep the tables in flash." % N)
    o.append(" */")
    o.append("#ifndef TINYRNN_%s_H" % N)
    o.append("#define TINYRNN_%s_H" % N)
    o.append("")
    o.append("#include <stdint.h>")
    o.append("#include <math.h> /* expf in NAME_output / NAME_sample only */")
    o.append("")
    o.append("#if (-1 >> 1) != -1")
    o.append('#error "the integer step needs >> of a negative number to be an arithmetic shift (gcc, clang, avr-gcc)"')
    o.append("#endif")
    o += shape_defines("NAME", X, H, Y, model.head, input_kind)
    if not flat:
        o.append('#define NAME_CELL "%s"' % cell)
        o.append("#define NAME_CELL_ID %d /* 0 rnn, 1 gru, 2 lstm */" % c_cells.CELL_ID[cell])
        o.append("#define NAME_LAYERS %d" % layers)
        for l, Lq in enumerate(qm.layers):
            if isinstance(Lq, Q.Gated) and lstm:
                o.append("#define NAME_C_SHIFT_%d %d /* layer %d: c = int / 2^%d */" % (l, Lq.cs, l, Lq.cs))
    o.append('#define NAME_QUANT "%s"' % qm.width)
    o.append("#define NAME_QUANT_%s 1" % qm.width.upper())
    o.append('#define NAME_TINYRNN_VERSION "%s"' % comment_text(__version__))
    if step is not None:
        o.append("#define NAME_TRAIN_STEP %dL" % int(step))
    o.append("#define NAME_Z_SHIFT %d /* logit = z / 2^NAME_Z_SHIFT */" % qm.zshift)
    o.append("#define NAME_X_SHIFT %d /* dense input: x_q = round(x * 2^NAME_X_SHIFT), saturated to int16 */" % qm.xshift)
    o.append("#define NAME_P_SHIFT %d /* each product w*v is shifted right by this before it is summed */" % L.P)
    o.append("#define NAME_PARAMS %dL" % model.num_params)
    o.append("#define NAME_FLASH_BYTES %dL /* weights, per-row constants, tanh table%s */" % (
        flash_bytes(qm, cps is not None), ", vocabulary" if cps is not None else ""))
    o.append("#define NAME_STATE_RAM_BYTES %d /* sizeof(NAME_state_t) */" % state_ram)
    o.append("#define NAME_SCRATCH_BYTES %d /* stack scratch during a step */" % (2 * H * (1 if cell == "rnn" else 4)))
    o.append("#define NAME_MACS_PER_STEP_TOKEN %dL" % macs_token)
    o.append("#define NAME_MACS_PER_STEP_DENSE %dL" % macs_dense)
    o.append("#define NAME_MACS_PER_STEP %dL" % (macs_dense if dense else macs_token))
    o.append("")
    o += progmem_guard("NAME", progmem)
    o.append("#if defined(NAME_USE_PROGMEM)")
    o.append("#include <avr/pgmspace.h>")
    o.append("#define NAME_FLASH_ PROGMEM")
    o.append("#define NAME_RDW_(p) %s" % rdw)
    o.append("#define NAME_RD8_(p) pgm_read_byte(p)")
    o.append("#define NAME_RD16_(p) (int16_t)pgm_read_word(p)")
    o.append("#define NAME_RD32_(p) pgm_read_dword(p)")
    o.append("#else")
    o.append("#define NAME_FLASH_")
    for m in ("RDW", "RD8", "RD16", "RD32"):
        o.append("#define NAME_%s_(p) (*(p))" % m)
    o.append("#endif")
    o.append("#if defined(__GNUC__) && defined(__AVR_HAVE_MUL__)")
    o.append("#define NAME_AVR_MUL_ 1 /* the AVR assembly paths (MUL, MULS, MULSU) */")
    o.append("#endif")
    o.append("#if defined(__GNUC__)")
    o.append("#define NAME_API_ static __attribute__((unused))")
    o.append("#define NAME_INNER_ static inline __attribute__((always_inline)) /* per-row helpers: no call */")
    o.append("#define NAME_LOOP_ static __attribute__((noinline, unused)) /* row loops: kept out of the caller's registers */")
    o.append("#else")
    o.append("#define NAME_API_ static")
    o.append("#define NAME_INNER_ static")
    o.append("#define NAME_LOOP_ static")
    o.append("#endif")
    o.append("")
    o.append("typedef %s NAME_w_t;" % wt)
    if not flat:
        o.append("typedef struct { int16_t h[NAME_LAYERS][NAME_H_S];%s } NAME_state_t; /* h: Q15%s */" % (
            " int16_t c[NAME_LAYERS][NAME_H_S];" if lstm else "", "; c: Q(NAME_C_SHIFT_l)" if lstm else ""))
        o.append("")
        _layer_tables(o, qm, X, H)
    else:
        o.append("typedef struct { int16_t h[NAME_H_S]; } NAME_state_t; /* Q15 */")
        o.append("")
    K = X + H
    if flat:
        _table(o, "NAME_w_t", "NAME_W", L.W, "hidden rows: %d x %d (H x (X + H)): [Wxh | Whh], %s, row-major" % (H, K, qm.width), 16)
        _table(o, "int16_t", "NAME_b", L.b, "hidden biases (units of 2^r of the row's sum)", 12)
        _table(o, "uint8_t", "NAME_kx", L.kx, "hidden rows: the input part's weights are in units of 2^kx of the row's", 16)
        _table(o, "uint8_t", "NAME_r", L.r, "hidden rows: requant shift r", 16)
        _table(o, "int16_t", "NAME_m", L.m, "hidden rows: requant multiplier m (to Q12)", 12)
    if flat:
        _table(o, "NAME_w_t", "NAME_Wy", O.W, "output rows: %d x %d (Y x H), %s, row-major" % (Y, H, qm.width), 16)
        _table(o, "int16_t", "NAME_by", O.b, "output biases (units of 2^r of the row's sum)", 12)
        _table(o, "uint8_t", "NAME_ry", O.r, "output rows: requant shift r", 16)
        _table(o, "int16_t", "NAME_my", O.m, "output rows: requant multiplier m (to Q%d)" % qm.zshift, 12)
    else:
        _rows_tables(o, O, "y", "output rows", "Q%d" % qm.zshift, False, qm.width)
    _table(o, "int16_t", "NAME_tanh_", Q.TANH, "round(32768 tanh(k/32)), k = 0..256, capped at 32767", 12)
    if cps is not None:
        o.append("#define NAME_HAS_VOCAB 1")
        _table(o, "uint32_t", "NAME_vocab", cps, "vocabulary: token id -> Unicode code point", 8)
    o.append("")
    o.append(_KERNELS.replace("TANH_ASM\n", _asm(_AVR_TANH, False, 4)).replace("REQUANT_ASM\n", _asm(_AVR_REQUANT, False, 4))
             .replace("MULQ15_ASM\n", _asm(_AVR_MULQ15, False, 4)))
    o.append(_DOT[qm.width].replace("ASM_LOOP\n", _ASM).replace("ASM_LOOP16\n", _ASM16))
    if flat:
        o.append(_STEP)
    else:
        o.append(_gated_step(qm, X, H))
    o.append(_OUTPUT[model.head])
    if cps is not None:
        o += [_VOCAB_AT, _TOKEN_OF]
    if model.head == "softmax":
        o += [_RNG_NEXT, _SAMPLE]
    o.append("#endif /* TINYRNN_NAME_H */")
    return "\n".join(o).replace("NAME", N) + "\n"


_KERNELS = """\
/* tanh of a Q12 value as Q15 in [-32767, 32767]: |p| capped at 32767 (tanh(8) ~ 1),
   table entry k = |p| >> 7 plus the interpolated share (rounded) of the next; odd. */
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_)
/* ATmega: the same in assembly (about 45 cycles; its own function, not inlined). */
static __attribute__((noinline, unused)) int16_t NAME_tanh_q12(int16_t p)
{
    const int16_t *z = NAME_tanh_;
    uint16_t a, d;
    int16_t t;
    uint8_t f, k, x;
TANH_ASM
        : [t] "=&r"(t), [a] "=&r"(a), [d] "=&r"(d), [f] "=&r"(f), [k] "=&r"(k), [x] "=&r"(x), [z] "+z"(z)
        : [p] "r"(p)
        : "r0");
    return t;
}
#else
NAME_API_ int16_t NAME_tanh_q12(int16_t p)
{
    uint16_t a = (uint16_t)(p < 0 ? -(int32_t)p : (int32_t)p);
    uint8_t k, f;
    int16_t t0, t;
    if (a > 32767u) a = 32767u;
    k = (uint8_t)((uint16_t)(a << 1) >> 8); /* a >> 7 */
    f = (uint8_t)(a & 127u);
    t0 = NAME_RD16_(NAME_tanh_ + k);
    /* ((d f + 64) >> 7) with d = t1 - t0 in [0, 1024]: (x << 1) >> 8 is byte moves on AVR */
    t = (int16_t)(t0 + (int16_t)((((uint32_t)(uint16_t)(NAME_RD16_(NAME_tanh_ + k + 1) - t0) * f + 64u) << 1) >> 8));
    return (int16_t)(p < 0 ? -t : t);
}
#endif

/* sigmoid of a Q11 value as Q15 in [0, 32767]: (1 + tanh(x/2)) / 2, and x/2 in Q12 is p (inline: no call). */
NAME_INNER_ int16_t NAME_sigmoid_q11(int16_t p)
{
    return (int16_t)((uint16_t)((uint16_t)NAME_tanh_q12(p) + 32768u) >> 1); /* 32768 + t in [1, 65535]: 16 bits */
}

/* a * b of two Q15 values (|a|, |b| <= 32767), rounded: (a b + 2^14) >> 15, which is bits 15-30
   of y = a b + 2^14 (|y| < 2^30): (y << 1) >> 16, byte moves on AVR rather than a 15-step loop. */
#if defined(NAME_AVR_MUL_)
/* ATmega: inline, about 25 cycles: bytes 1-3 of a b from four MULs (the signed partial products
   sign-extended by SBC of their carry), + 2^14 (SUBI/SBCI of -0x40), then << 1: the top two bytes. */
NAME_INNER_ int16_t NAME_mul_q15(int16_t a, int16_t b)
{
    int16_t y;
    uint8_t y1, z;
MULQ15_ASM
        : [y] "=&d"(y), [y1] "=&d"(y1), [z] "=&r"(z)
        : [a] "a"(a), [b] "a"(b)
        : "r0");
    return y;
}
#else
NAME_INNER_ int16_t NAME_mul_q15(int16_t a, int16_t b)
{
    return (int16_t)(uint16_t)(((uint32_t)((int32_t)a * b + INT32_C(16384)) << 1) >> 16);
}
#endif

/* A row's sum d in the next format: t = (d >> r) + b clamped to int16 (where the
   result has saturated already), then (t m + 2^13) >> 14 with 2^14 <= m < 2^15
   (|t m| < 2^30), saturated to int16. */
#if defined(NAME_AVR_MUL_)
/* ATmega: the same in assembly (about 80 cycles), called rather than inlined (inlined, its
   registers crowd the row sum's): d >> r in byte moves and at most 7 bit shifts, the int16
   clamp, y = t m from four 8x8 MULs less m 2^16 if t < 0 and t 2^16 if m < 0, + 2^13, then
   y << 2 twice, where V (bit 31 != 30, then 30 != 29) means |y| >= 2^29: saturate by the sign
   (C); else the result is y's top two bytes. All in the argument registers: nothing saved. */
static __attribute__((noinline, unused)) int16_t NAME_requant_(int32_t d, int16_t b, uint8_t r, int16_t m)
{
    uint8_t x, y;
REQUANT_ASM
        : [d] "+r"(d), [x] "=&r"(x), [y] "=&r"(y)
        : [b] "r"(b), [r] "r"(r), [m] "r"(m)
        : "r0");
    return (int16_t)(uint16_t)((uint32_t)d >> 16);
}
#else
NAME_INNER_ int16_t NAME_requant_(int32_t d, int16_t b, uint8_t r, int16_t m)
{
    int32_t t, y;
    if (r >= 16u) { d >>= 16; r = (uint8_t)(r - 16u); }
    if (r >= 8u) { d >>= 8; r = (uint8_t)(r - 8u); }
    t = (d >> r) + b;
    if (t > INT32_C(32767)) t = INT32_C(32767);
    else if (t < -INT32_C(32768)) t = -INT32_C(32768);
    y = (int32_t)(int16_t)t * m + INT32_C(8192);
    if (y >= INT32_C(536870912)) return 32767;   /* y >> 14 >= 2^15 */
    if (y < -INT32_C(536870912)) return -32768;
    return (int16_t)(uint16_t)(((uint32_t)y << 2) >> 16); /* y >> 14 */
}
#endif
"""

_DOT = {
    "int8": """\
/* The one-hot input's term, w * 32768 (w << 15 without shifting a negative
   number, and without a 15-step shift loop on AVR). */
#define NAME_column_(w) ((int32_t)((uint32_t)(uint16_t)(int16_t)(w) << 16) >> 1)
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_)
/* sum_j w[j] v[j], exact (|sum| < 2^30: checked at export); sv (sum_j v[j]) is not needed here.
   ATmega: 20 cycles a term (four terms per loop), in chunks of k <= 252 terms; a chunk's acc is
   its sum + k (2^15 + 2^24) mod 2^32 (see _AVR_TERM), exact because the true sum fits an int32. */
NAME_INNER_ int32_t NAME_dot_(const NAME_w_t *w, const int16_t *v, int n, int32_t sv)
{
    uint32_t s = 0;
    (void)sv;
    while (n > 0) {
        uint8_t k = (uint8_t)(n > 252 ? 252 : n), c = k, wj, vb, k80;
        uint32_t acc;
ASM_LOOP
            : [acc] "=&r"(acc), [wj] "=&a"(wj), [vb] "=&a"(vb), [k80] "=&d"(k80), [k] "+r"(c), [w] "+z"(w), [v] "+x"(v)
            :
            : "r0", "memory");
        s += acc - (uint32_t)k * UINT32_C(16809984); /* k (2^15 + 2^24) */
        n -= k;
    }
    return (int32_t)s;
}
#else
/* sum_j w[j] v[j]: int8 x int16 products, exact in int32 (|sum| < 2^30: checked at export). */
NAME_INNER_ int32_t NAME_dot_(const NAME_w_t *w, const int16_t *v, int n, int32_t sv)
{
    int32_t acc = 0;
    int j;
    (void)sv;
    for (j = 0; j < n; ++j) acc += (int32_t)NAME_RDW_(w + j) * v[j];
    return acc;
}
#endif
""",
    "int16": """\
/* The one-hot input's term, (w * 32768) >> 8 = w * 128. */
#define NAME_column_(w) ((int32_t)(w) * INT32_C(128))
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_)
/* sum_j (w[j] v[j]) >> 8, exact (|sum| < 2^30: checked at export); sv is not needed. ATmega:
   36 cycles a term (two terms per loop), in chunks of k <= 252 terms; a chunk's acc is its
   sum + k (3 2^15 + 2^25) mod 2^32 (see _AVR_TERM16). */
NAME_INNER_ int32_t NAME_dot_(const NAME_w_t *w, const int16_t *v, int n, int32_t sv)
{
    uint32_t s = 0;
    (void)sv;
    while (n > 0) {
        uint8_t k = (uint8_t)(n > 252 ? 252 : n), c = k, vb, k80;
        uint16_t wj;
        uint32_t acc;
ASM_LOOP16
            : [acc] "=&r"(acc), [wj] "=&a"(wj), [vb] "=&a"(vb), [k80] "=&d"(k80), [k] "+r"(c), [w] "+z"(w), [v] "+x"(v)
            :
            : "r0", "memory");
        s += acc - (uint32_t)k * UINT32_C(33652736); /* k (3 2^15 + 2^25) */
        n -= k;
    }
    return (int32_t)s;
}
#else
/* sum_j (w[j] v[j]) >> 8: int16 x int16 products (|p| < 2^30), each shifted right by 8 (floor). */
NAME_INNER_ int32_t NAME_dot_(const NAME_w_t *w, const int16_t *v, int n, int32_t sv)
{
    int32_t acc = 0;
    int j;
    (void)sv;
    for (j = 0; j < n; ++j) acc += ((int32_t)NAME_RDW_(w + j) * v[j]) >> 8;
    return acc;
}
#endif
""",
}

_STEP = """\
/* sum_j v[j] (|sum| < 2^30): NAME_dot_'s sv, which no NAME_dot_ reads any more. */
NAME_API_ int32_t NAME_sum_(const int16_t *v, int n)
{
    int32_t a = 0;
    int j;
    for (j = 0; j < n; ++j) a += v[j];
    return a;
}

NAME_API_ void NAME_reset(NAME_state_t *s)
{
    int i;
    for (i = 0; i < NAME_H_S; ++i) s->h[i] = 0;
}

/* h = tanh_q12(requant([Wxh | Whh] [x | h], b)); x NULL: the one-hot column `token`. */
NAME_LOOP_ void NAME_layer_(NAME_state_t *s, const int16_t *x, int token)
{
    int16_t hn[NAME_H_S];
    const NAME_w_t *w = NAME_W; /* row i: NAME_W + i (NAME_X_S + NAME_H_S), stepped, not multiplied */
    int i;
    for (i = 0; i < NAME_H_S; ++i, w += NAME_X_S + NAME_H_S) {
        int32_t d;
        if (x) d = NAME_dot_(w, x, NAME_X_S, 0); /* sv: no NAME_dot_ reads it */
        else d = NAME_column_(NAME_RDW_(w + token));
        d = (int32_t)((uint32_t)d << NAME_RD8_(NAME_kx + i)); /* the input part's scale: 2^kx times the row's */
        d += NAME_dot_(w + NAME_X_S, s->h, NAME_H_S, 0);
        hn[i] = NAME_tanh_q12(NAME_requant_(d, NAME_RD16_(NAME_b + i), NAME_RD8_(NAME_r + i), NAME_RD16_(NAME_m + i)));
    }
    for (i = 0; i < NAME_H_S; ++i) s->h[i] = hn[i];
}

/* z = requant(by + Wy h): NAME_Y_S int16 logits, z / 2^NAME_Z_SHIFT. */
NAME_LOOP_ void NAME_logits_(const NAME_state_t *s, int16_t *z)
{
    const NAME_w_t *w = NAME_Wy;
    int k;
    for (k = 0; k < NAME_Y_S; ++k, w += NAME_H_S) {
        int32_t d = NAME_dot_(w, s->h, NAME_H_S, 0);
        z[k] = NAME_requant_(d, NAME_RD16_(NAME_by + k), NAME_RD8_(NAME_ry + k), NAME_RD16_(NAME_my + k));
    }
}

/* One step with a dense input x (NAME_X_S int16: round(x * 2^NAME_X_SHIFT)). */
NAME_API_ void NAME_step(NAME_state_t *s, const int16_t *x, int16_t *z)
{
    NAME_layer_(s, x, 0);
    NAME_logits_(s, z);
}

/* One step with a one-hot input. Returns 0; for a token outside [0, NAME_X_S)
   returns -1, leaves *s unchanged and sets z to 0. */
NAME_API_ int NAME_step_token(NAME_state_t *s, int token, int16_t *z)
{
    int k;
    if (token < 0 || token >= NAME_X_S) {
        for (k = 0; k < NAME_Y_S; ++k) z[k] = 0;
        return -1;
    }
    NAME_layer_(s, 0, token);
    NAME_logits_(s, z);
    return 0;
}
""" + _ARGMAX.replace("const float *z", "const int16_t *z")  # the float header's NAME_argmax, over int16 logits

_OUTPUT = {
    "softmax": """\
/* y = softmax(z / 2^NAME_Z_SHIFT) in float (not part of the step). */
NAME_API_ void NAME_output(const int16_t *z, float *y)
{
    int k, best = NAME_argmax(z);
    float sum = 0.0f, inv;
    for (k = 0; k < NAME_Y_S; ++k) {
        y[k] = expf((float)(z[k] - z[best]) * (1.0f / (float)(1L << NAME_Z_SHIFT)));
        sum += y[k];
    }
    inv = 1.0f / sum;
    for (k = 0; k < NAME_Y_S; ++k) y[k] *= inv;
}
""",
    "sigmoid": """\
/* y = sigmoid(z / 2^NAME_Z_SHIFT) in float (not part of the step). */
NAME_API_ void NAME_output(const int16_t *z, float *y)
{
    int k;
    for (k = 0; k < NAME_Y_S; ++k) {
        float v = (float)z[k] * (1.0f / (float)(1L << NAME_Z_SHIFT));
        y[k] = v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
    }
}
""",
    "mse": """\
/* y = z / 2^NAME_Z_SHIFT in float (not part of the step). */
NAME_API_ void NAME_output(const int16_t *z, float *y)
{
    int k;
    for (k = 0; k < NAME_Y_S; ++k) y[k] = (float)z[k] * (1.0f / (float)(1L << NAME_Z_SHIFT));
}
""",
}

_SAMPLE = """\
/* A token drawn from softmax(z / 2^NAME_Z_SHIFT / temperature), the rule and stream of
   `tinyrnn sample --quant ... --seed S` (*rng = S) with float sums as in the float
   header; temperature <= 0 or NaN: NAME_argmax(z) without a draw (exactly Python's). */
NAME_API_ int NAME_sample(const int16_t *z, float temperature, uint64_t *rng)
{
    int k, best;
    float inv, u, sum = 0.0f, acc = 0.0f;
    if (!(temperature > 0.0f)) return NAME_argmax(z);
    inv = 1.0f / (temperature * (float)(1L << NAME_Z_SHIFT));
    if (!(inv <= 3.40282347e38f)) {
        (void)NAME_rng_next(rng);
        return NAME_argmax(z);
    }
    best = NAME_argmax(z);
    for (k = 0; k < NAME_Y_S; ++k) sum += expf((float)(z[k] - z[best]) * inv);
    u = (float)(uint32_t)(NAME_rng_next(rng) >> 40) * (1.0f / 16777216.0f) * sum;
    for (k = 0; k < NAME_Y_S; ++k) {
        acc += expf((float)(z[k] - z[best]) * inv);
        if (u < acc) return k;
    }
    return NAME_Y_S - 1;
}
"""


# ----------------------------------------------------------------- gated cells and stacked layers
# (the one-layer tanh model keeps _STEP above; these use the same kernels, signatures unchanged)
_FORMULAS = {
    "rnn": ["h (Q15) = tanh_q12(requant(b + W [x|h]))"],
    "gru": [
        "r, z (Q15) = sigmoid_q11(requant(b + W [x|h]))   nx, nh (Q12) = requant(b_in + W_in x), requant(b_hn + W_hn h)",
        "n = tanh_q12(sat16(nx + mul_q15(r, nh)))      h' = sat16(mul_q15(z, h) + mul_q15(32767 - z, n))",
    ],
    "lstm": [
        "i, f, o (Q15) = sigmoid_q11(requant(b + W [x|h]))   g (Q15) = tanh_q12(requant(b + W [x|h]))",
        "c' = sat16(mul_q15(f, c) + ((mul_q15(i, g) + 2^(14-cs)) >> (15-cs)))   h' = mul_q15(o, tanh_q12(c' in Q12))",
    ],
}
_BLOCKS = {"rnn": "tanh", "gru": "r | z", "lstm": "i | f | g | o"}


def _rows_tables(o: "List[str]", R: "Q.Rows", tag: str, what: str, out: str, kx: bool, width: str) -> None:
    """NAME_W<tag> (the weights), NAME_kx<tag> (if kx) and NAME_q<tag>: each row's constants in one
    5-byte record, read in one go: bias b (int16, little-endian), multiplier m (int16), shift r."""
    _table(o, "NAME_w_t", "NAME_W" + tag, R.W, "%s: %d x %d, %s, row-major" % (what, R.n, R.k, width), 16)
    if kx:
        _table(o, "uint8_t", "NAME_kx" + tag, R.kx, "%s: the input part's weights are in units of 2^kx of the row's" % what, 16)
    elif any(R.kx):
        raise ExportError("%s: rows without an input part scale have kx != 0" % what)
    rec = []  # type: List[int]
    for b, m, r in zip(R.b, R.m, R.r):
        rec += [b & 255, (b >> 8) & 255, m & 255, m >> 8, r]
    _table(o, "uint8_t", "NAME_q" + tag, rec, "%s, per row: b (units of 2^r of the row's sum), m (to %s): int16 "
           "little-endian; r: requant shift" % (what, out), 15)


def _layer_tables(o: "List[str]", qm: "Q.QModel", X: int, H: int) -> None:
    """Each layer's tables: rows over [x_l | h] (NAME_W<l> ...; gru also NAME_Wnx<l>, NAME_Wnh<l>)."""
    cell = qm.cell
    for l, L in enumerate(qm.layers):
        xl = "X" if l == 0 else "h of layer %d" % (l - 1)
        outs = {"rnn": "Q12", "gru": "Q11", "lstm": "Q11; g: Q12"}[cell]
        _rows_tables(o, L.rows, str(l), "layer %d, gates %s over [%s | h]" % (l, _BLOCKS[cell], xl), outs, True, qm.width)
        if isinstance(L, Q.Gated) and L.nx is not None and L.nh is not None:
            _rows_tables(o, L.nx, "nx%d" % l, "layer %d, n: W_in %s + b_in" % (l, xl), "Q12", False, qm.width)
            _rows_tables(o, L.nh, "nh%d" % l, "layer %d, n: W_hn h + b_hn" % l, "Q12", False, qm.width)


def _gated_step(qm: "Q.QModel", X: int, H: int) -> str:
    cell = qm.cell
    common = _GATED_COMMON.replace("DOTC_AVR", _DOTC_AVR[qm.width].replace("ASM_DOTC\n", _asm(_AVR_DOTC, True, 4)))
    common = common.replace("ROWQ_AVR", _ROWQ_AVR[qm.width].replace("ASM_ROWQ\n", _asm(_AVR_ROWQ, True, 4)))
    common = common.replace("TROWS_AVR\n", _TROWS_AVR.replace("ASM_TROWS\n", _asm(_avr_trows(qm.width), True, 4))
                            .replace("@NHMAX", "1020" if qm.width == "int8" else "510"))
    out = [common, _CELL_UPDATE[cell]]
    for l, L in enumerate(qm.layers):
        body = _LAYER_ROWS
        if cell == "gru":
            body += _GRU_N_ROWS + "    NAME_gru_(s->h[@LL], a);\n"
        elif cell == "lstm":
            body += "    NAME_lstm_(s->h[@LL], s->c[@LL], a, NAME_C_SHIFT_@LL);\n"
        else:
            body += "    for (j = 0; j < NAME_H_S; ++j) s->h[@LL][j] = NAME_tanh_q12(a[j]);\n"
        fn = _LAYER.replace("@BODY", body).replace("@LL", str(l)).replace("@AN", "NAME_H_S" if cell == "rnn" else "4 * NAME_H_S")
        fn = fn.replace("@DECL", "    int j;\n" if cell == "rnn" else "").replace("@ROWS", "%d * NAME_H_S" % {"rnn": 1, "gru": 2, "lstm": 4}[cell])
        fn = fn.replace("@XL", "NAME_X_S" if l == 0 else "NAME_H_S")
        out.append(fn.replace("@INPUT", "x (NULL: the one-hot `token`)" if l == 0 else "layer %d's new h" % (l - 1)))
    calls = "".join("    NAME_layer%d_(s, s->h[%d], 0);\n" % (l, l - 1) for l in range(1, len(qm.layers)))
    out.append(_GATED_ENTRY.replace("UPPER\n", calls).replace("RESETC", "        s->c[l][i] = 0;\n" if cell == "lstm" else ""))
    return "".join(out)


_DOTC_AVR = {
    "int8": """\
   ATmega: its own function (inlined into NAME_rows_, the assembly's registers crowd the row loop's),
   one assembly block (_AVR_DOTC) in the call-clobbered registers: 20 cycles a term, about 30 a call
   (at -O0 avr-gcc finds no registers for its operands: then NAME_dot_ as below). */
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_) && defined(__OPTIMIZE__)
static __attribute__((noinline, unused)) int32_t NAME_dotc_(const NAME_w_t *w, const int16_t *v, int n, int32_t d0)
{
    uint8_t wj, vb, k80;
ASM_DOTC
        : [acc] "+r"(d0), [wj] "=&a"(wj), [vb] "=&a"(vb), [k80] "=&d"(k80), [n] "+r"(n), [w] "+z"(w), [v] "+x"(v)
        :
        : "r0", "memory");
    return d0;
}
""",
    "int16": """\
   ATmega: NAME_dot_ in its own function (inlined into NAME_rows_, avr-gcc runs out of registers). */
#if defined(NAME_USE_PROGMEM) && defined(__GNUC__)
static __attribute__((noinline, unused)) int32_t NAME_dotc_(const NAME_w_t *w, const int16_t *v, int n, int32_t d0)
{
    return d0 + NAME_dot_(w, v, n, 0);
}
""",
}

_ROWQ_AVR = {
    "int8": """ATmega: one function, one
   assembly block (_AVR_ROWQ): the row sum of _AVR_DOTC and the requant of _AVR_REQUANT (not at -O0). */
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_) && defined(__OPTIMIZE__)
static __attribute__((noinline, unused)) int16_t NAME_rowq_(int32_t d0, int n, const NAME_w_t *w, const int16_t *h, const uint8_t *q)
{
    uint8_t wj, vb, k80;
ASM_ROWQ
        : [d] "+r"(d0), [wj] "=&a"(wj), [vb] "=&a"(vb), [k80] "=&d"(k80), [n] "+r"(n), [w] "+z"(w), [v] "+x"(h)
        : [q] "r"(q)
        : "r0", "memory");
    return (int16_t)(uint16_t)((uint32_t)d0 >> 16);
}
""",
    "int16": "*/\n#if 0 /* int16: the C below on every target */\n",
}


_TROWS_AVR = """\
/* NAME_rows_ without a dense input (a one-hot column or no input part) and nh <= NAME_TROWS_NH_ on the
   ATmega: one naked function in assembly (_avr_trows in tinyrnn/export/c_int_avr.py): no call, no C loop a row. */
#if defined(NAME_USE_PROGMEM) && defined(NAME_AVR_MUL_)
#define NAME_TROWS_ 1
#define NAME_TROWS_NH_ @NHMAX /* the pair / quad count is one byte */
static __attribute__((naked, noinline, unused)) void NAME_trows_(
    const NAME_w_t *w __attribute__((unused)), const uint8_t *q __attribute__((unused)), const uint8_t *kx __attribute__((unused)),
    int n __attribute__((unused)), int token __attribute__((unused)), int nx __attribute__((unused)),
    const int16_t *h __attribute__((unused)), int nh __attribute__((unused)), int16_t *out __attribute__((unused)))
{
ASM_TROWS
        );
}
#endif
"""

# NAME_sum_ is the tanh cell's own (the first function of _STEP), shared as it is
_GATED_COMMON = _STEP[: _STEP.index("NAME_API_ void NAME_reset(")] + """\
NAME_INNER_ int16_t NAME_sat16_(int32_t v)
{
    return (int16_t)(v > INT32_C(32767) ? INT32_C(32767) : v < -INT32_C(32768) ? -INT32_C(32768) : v);
}

/* sat16(a + b) in 16 bits: the wrapped sum, unless a and b have one sign and the sum the other. */
NAME_INNER_ int16_t NAME_add16_(int16_t a, int16_t b)
{
    uint16_t u = (uint16_t)((uint16_t)a + (uint16_t)b);
    if (((uint16_t)a ^ u) & ((uint16_t)b ^ u) & 0x8000u) return (int16_t)(a < 0 ? -32768 : 32767);
    return (int16_t)u;
}

/* d0 + NAME_dot_(w, v, n): the row sums of the gated cells and stacked layers.
DOTC_AVR#else
NAME_INNER_ int32_t NAME_dotc_(const NAME_w_t *w, const int16_t *v, int n, int32_t d0)
{
    return d0 + NAME_dot_(w, v, n, 0);
}
#endif

/* One row's end: requant(d0 + NAME_dot_(w, h, n), b, r, m) with the row's record q (b, m: int16
   little-endian, r); the argument order puts d0 and n in call-clobbered registers on AVR. ROWQ_AVR#else
NAME_INNER_ int16_t NAME_rowq_(int32_t d0, int n, const NAME_w_t *w, const int16_t *h, const uint8_t *q)
{
    int16_t b = (int16_t)(uint16_t)(NAME_RD8_(q) | (uint16_t)(NAME_RD8_(q + 1) << 8));
    int16_t m = (int16_t)(uint16_t)(NAME_RD8_(q + 2) | (uint16_t)(NAME_RD8_(q + 3) << 8));
    return NAME_requant_(NAME_dotc_(w, h, n, d0), b, NAME_RD8_(q + 4), m);
}
#endif

TROWS_AVR
/* out[i] = requant(((W_i,x . x) << kx_i) + W_i,h . h, b_i, r_i, m_i) (from the records q) for n rows of nx + nh
   weights: nx = 0 no input part, nh = 0 no hidden part; x NULL: the one-hot column `token`;
   kx NULL: no input scale (every row's kx is 0). Every sum is below 2^30 (checked at export).
   Pointers step row by row (no index arithmetic); a row's hidden part and requant is NAME_rowq_. */
NAME_API_ void NAME_rows_(const NAME_w_t *w, const uint8_t *q, const uint8_t *kx, int n,
                          const int16_t *x, int token, int nx, const int16_t *h, int nh, int16_t *out)
{
    const int16_t *end = out + n;
    const NAME_w_t *wh = w + nx; /* the row's hidden part */
    int stride = nx + nh;
#if defined(NAME_TROWS_)
    if ((!x || !nx) && nh <= NAME_TROWS_NH_) {
        if (n > 0) NAME_trows_(w, q, kx, n, token, nx, h, nh, out);
        return;
    }
#endif
    for (; out != end; ++out, wh += stride, q += 5) {
        int32_t d = 0;
        if (nx) {
            if (x) d = NAME_dotc_(wh - nx, x, nx, 0);
            else d = NAME_column_(NAME_RDW_(wh - nx + token));
            if (kx) d = (int32_t)((uint32_t)d << NAME_RD8_(kx++));
        }
        *out = NAME_rowq_(d, nh, wh, h, q);
    }
}
"""

_CELL_UPDATE = {
    "rnn": "",
    "gru": """
/* GRU: h (in place) from a = r | z (Q11) | nx | nh (Q12): n = tanh(nx + r nh), h' = z h + (1 - z) n
   with 1 - z as (32767 - z) / 2^15. The four parts of a are walked by pointers (no index arithmetic). */
NAME_LOOP_ void NAME_gru_(int16_t *h, const int16_t *a)
{
    const int16_t *ar = a, *az = a + NAME_H_S, *anx = a + 2 * NAME_H_S, *anh = a + 3 * NAME_H_S;
    const int16_t *end = h + NAME_H_S;
    for (; h != end; ++h) {
        int16_t n = NAME_tanh_q12(NAME_add16_(*anx++, NAME_mul_q15(NAME_sigmoid_q11(*ar++), *anh++)));
        int16_t z = NAME_sigmoid_q11(*az++);
        *h = NAME_add16_(NAME_mul_q15(z, *h), NAME_mul_q15((int16_t)(32767 - z), n));
    }
}
""",
    "lstm": """
/* LSTM: h, c (in place) from a = i | f | o (Q11) and g (Q12), c in Q(cs), 0 <= cs <= 14:
   c' = f c + i g (i g rounded to Q(cs)), h' = o tanh(c'). */
NAME_INNER_ void NAME_lstm_(int16_t *h, int16_t *c, const int16_t *a, uint8_t cs)
{
    const int16_t *ai = a, *af = a + NAME_H_S, *ag = a + 2 * NAME_H_S, *ao = a + 3 * NAME_H_S;
    const int16_t *end = h + NAME_H_S;
    for (; h != end; ++h, ++c) {
        int16_t ig = NAME_mul_q15(NAME_sigmoid_q11(*ai++), NAME_tanh_q12(*ag++));
        int16_t cn = NAME_add16_(NAME_mul_q15(NAME_sigmoid_q11(*af++), *c),
                                 (int16_t)(((int32_t)ig + (INT32_C(1) << (14u - cs))) >> (15u - cs)));
        int16_t p;
        *c = cn;
        if (cs >= 12u) p = (int16_t)(cn >> (cs - 12u));
        else p = NAME_sat16_((int32_t)((uint32_t)(int32_t)cn << (12u - cs)));
        *h = NAME_mul_q15(NAME_sigmoid_q11(*ao++), NAME_tanh_q12(p));
    }
}
""",
}

_LAYER = """
/* Layer @LL: the new h (and c) of s from @INPUT and the layer's h. */
NAME_API_ void NAME_layer@LL_(NAME_state_t *s, const int16_t *x, int token)
{
    int16_t a[@AN];
@DECL@BODY}
"""
_LAYER_ROWS = "    NAME_rows_(NAME_W@LL, NAME_q@LL, NAME_kx@LL, @ROWS, x, token, @XL, s->h[@LL], NAME_H_S, a);\n"
_GRU_N_ROWS = (
    "    NAME_rows_(NAME_Wnx@LL, NAME_qnx@LL, 0, NAME_H_S, x, token, @XL, s->h[@LL], 0, a + 2 * NAME_H_S);\n"
    "    NAME_rows_(NAME_Wnh@LL, NAME_qnh@LL, 0, NAME_H_S, 0, -1, 0, s->h[@LL], NAME_H_S, a + 3 * NAME_H_S);\n"
)

_GATED_ENTRY = """
NAME_API_ void NAME_reset(NAME_state_t *s)
{
    int l, i;
    for (l = 0; l < NAME_LAYERS; ++l)
        for (i = 0; i < NAME_H_S; ++i) {
            s->h[l][i] = 0;
RESETC        }
}

/* z = requant(by + Wy h_top): NAME_Y_S int16 logits, z / 2^NAME_Z_SHIFT. */
NAME_API_ void NAME_logits_(const NAME_state_t *s, int16_t *z)
{
    NAME_rows_(NAME_Wy, NAME_qy, 0, NAME_Y_S, 0, -1, 0, s->h[NAME_LAYERS - 1], NAME_H_S, z);
}

""" + (  # NAME_step, NAME_step_token and NAME_argmax: the tanh cell's, with the layers' calls
    _STEP[_STEP.index("/* One step with a dense input x") :]
    .replace("    NAME_layer_(s, x, 0);\n", "    NAME_layer0_(s, x, 0);\nUPPER\n")
    .replace("    NAME_layer_(s, 0, token);\n", "    NAME_layer0_(s, 0, token);\nUPPER\n")
)
