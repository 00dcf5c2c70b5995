"""Build and run the generated C *trainer* on the host and on simulated MCUs.

Uses the harnesses of ``tools/c_targets.py`` (host gcc/clang, Cortex-M4F and
M3 under QEMU, ATmega328P under simavr). For each ``TrainCase`` the firmware

1. runs NAME_forward + NAME_backward on sequence 0 from the initial weights
   and prints the loss, every gradient and the panel (hex bits of float32);
2. then takes ``steps`` SGD training steps (NAME_train_step: global-norm clip
   at ``clip``, learning rate ``lr``), cycling through the sequences, and
   prints each step's loss and the last update ratio.

``reference`` computes the same in float64 Python (``tinyrnn.core``) from the
float32 weights and inputs; ``grad_error_bounds`` is the a-priori float32
rounding bound for step 1 (see its docstring).

Used by tests/test_c_trainer_targets.py and tools/bench_c.py.
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import c_targets as ct  # noqa: E402

from tinyrnn.core.diagnostics import diagnostics, update_ratio  # noqa: E402
from tinyrnn.core.model import RNN  # noqa: E402
from tinyrnn.core.optim import SGD, clip_global_norm  # noqa: E402
from tinyrnn.export.c import c_float, f32  # noqa: E402
from tinyrnn.export.c_train import ram_bytes, trainer_header  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Sequence, Tuple

U = 2.0 ** -24  # float32 unit roundoff
LIBM_ULPS = 8  # allowance for tanhf / expf / logf of any of the libms (glibc, newlib, avr-libc)
PANEL = ("mean_abs_h", "sat_ratio", "dh_norm", "dh_raw_norm", "grad_norm")


class TrainCase:
    """A model (its weights are the trainer's initial weights), input kind and sequences.

    ``seqs``: list of (xs, ys): xs token ids or X-float vectors, ys class ids
    or Y-float vectors, all of length ``n`` (<= model.T).
    """

    def __init__(self, model: RNN, name: str, dense: bool, seqs: "List[Tuple[List[Any], List[Any]]]", steps: int, lr: float, clip: float) -> None:
        self.model = model
        self.name = name
        self.dense = dense
        self.seqs = seqs
        self.n = len(seqs[0][0])
        self.steps = steps
        self.lr = lr
        self.clip = clip

    def header(self) -> str:
        return trainer_header(self.model, self.name, "dense" if self.dense else "token", progmem=True)


_RUN = """\
void run_NAME(void);
void run_NAME(void)
{
    NAME_trainer_t tr;
    XT x[NAME_T * XW];
    YT y[NAME_T * YW];
    float loss, panel[6];
    int s, k;
    NAME_init(&tr);
    plat_write("M\\n");
    for (s = 0; s <= STEPS; ++s) {
        int q = s == 0 ? 0 : (s - 1) % NSEQ;
        for (k = 0; k < NN * XW; ++k) x[k] = XCONV(RD32(NAME_xs + (uint32_t)q * (NN * XW) + (uint32_t)k));
        for (k = 0; k < NN * YW; ++k) y[k] = YCONV(RD32(NAME_ys + (uint32_t)q * (NN * YW) + (uint32_t)k));
        if (s == 0) {
            loss = NAME_forward(&tr, x, y, NN);
            NAME_backward(&tr, x, y);
            put_words(&loss, 1);
            put_words(tr.grads, NAME_PARAMS);
            panel[0] = tr.panel.mean_abs_h;
            panel[1] = tr.panel.sat_ratio;
            panel[2] = tr.panel.dh_norm;
            panel[3] = tr.panel.dh_raw_norm;
            panel[4] = tr.panel.grad_norm;
            panel[5] = tr.panel.loss;
            put_words(panel, 6);
        } else {
            loss = NAME_train_step(&tr, x, y, NN, LRf, CLIPf);
            put_words(&loss, 1);
            if (s == 1) put_words(&tr.panel.update_ratio, 1);
        }
    }
}
"""


def render_case(c: TrainCase) -> str:
    N, X, Y = c.name, c.model.X, c.model.Y
    softmax = c.model.head == "softmax"
    xs, ys = [], []  # type: List[int], List[int]
    for x, y in c.seqs:
        for v in x:
            xs += [ct.f32_bits(f32(a)) for a in v] if c.dense else [int(v) & 0xFFFFFFFF]
        for v in y:
            ys += [int(v) & 0xFFFFFFFF] if softmax else [ct.f32_bits(f32(a)) for a in v]
    out = [ct._PRELUDE, '#include "%s_train.h"' % N]
    out.append("static const uint32_t %s_xs[%d] DATA_ = {\n%s\n};" % (N, len(xs), ct._words(xs)))
    out.append("static const uint32_t %s_ys[%d] DATA_ = {\n%s\n};" % (N, len(ys), ct._words(ys)))
    body = (
        _RUN.replace("XT", "float" if c.dense else "int")
        .replace("YT", "int" if softmax else "float")
        .replace("XW", str(X) if c.dense else "1")
        .replace("YW", "1" if softmax else str(Y))
        .replace("XCONV", "float_of" if c.dense else "(int)(int32_t)")
        .replace("YCONV", "(int)(int32_t)" if softmax else "float_of")
        .replace("STEPS", str(c.steps))
        .replace("NSEQ", str(len(c.seqs)))
        .replace("NN", str(c.n))
        .replace("LRf", c_float(c.lr))
        .replace("CLIPf", c_float(c.clip))
        .replace("NAME", N)
    )
    out.append(body)
    return "\n".join(out)


AVR_STACK_BUDGET = 1400  # bytes of the 2 KB left for one case's trainer and buffers (run_NAME's frame)


def build(target: str, workdir: str, cases: "Sequence[TrainCase]", opt: str = "") -> str:
    if target == "avr":
        for c in cases:
            m = c.model
            need = ram_bytes(m.X, m.H, m.Y, m.T) + 4 * m.T * (m.X + m.Y)
            if need > AVR_STACK_BUDGET:
                raise ValueError("%s: trainer and buffers need %d bytes of stack, more than %d on the ATmega328P" % (c.name, need, AVR_STACK_BUDGET))
    os.makedirs(workdir, exist_ok=True)
    for c in cases:
        with open(os.path.join(workdir, c.name + "_train.h"), "w") as f:
            f.write(c.header())
    units = {c.name + "_run": render_case(c) for c in cases}
    main = ['#include "platform.h"']
    main += ["void run_%s(void);" % c.name for c in cases]
    main.append("int main(void)\n{\n    plat_init();")
    main += ["    run_%s();" % c.name for c in cases]
    main.append('    plat_write("E\\n");\n    plat_exit(0);\n    return 0;\n}\n')
    return ct.build(target, workdir, [], main="\n".join(main), units=units, opt=opt)


def parse(text: str, cases: "Sequence[TrainCase]") -> "List[Dict[str, Any]]":
    words = text.split()
    if "E" not in words:
        raise RuntimeError("firmware output has no end marker:\n" + text[-2000:])
    pos = 0
    out = []

    def take(k: int) -> "List[float]":
        nonlocal pos
        v = [ct.bits_f32(int(w, 16)) for w in words[pos : pos + k]]
        pos += k
        return v

    for c in cases:
        while words[pos] != "M":
            pos += 1
        pos += 1
        r = {"loss0": take(1)[0], "grads": take(c.model.num_params)}  # type: Dict[str, Any]
        panel = take(6)
        r["panel"] = dict(zip(PANEL, panel[:5]))
        r["panel_loss"] = panel[5]
        losses = []
        for s in range(c.steps):
            losses.append(take(1)[0])
            if s == 0:
                r["update_ratio"] = take(1)[0]
        r["losses"] = losses
        out.append(r)
    return out


def f32_model(c: TrainCase) -> RNN:
    m = RNN(c.model.X, c.model.H, c.model.Y, c.model.T, c.model.head)
    m.params[:] = [f32(v) for v in c.model.params]
    return m


def f32_seq(c: TrainCase, q: int) -> "Tuple[List[Any], List[Any]]":
    x, y = c.seqs[q]
    xs = [[f32(a) for a in v] for v in x] if c.dense else list(x)
    ys = list(y) if c.model.head == "softmax" else [[f32(a) for a in v] for v in y]
    return xs, ys


def reference(c: TrainCase) -> "Dict[str, Any]":
    """What the C computes, in float64 Python with float32 weights and inputs."""
    m = f32_model(c)
    xs, ys = f32_seq(c, 0)
    r = {"loss0": m.forward(xs, ys)}  # type: Dict[str, Any]
    m.backward()
    r["grads"] = list(m.grads)
    d = diagnostics(m)
    r["panel"] = {k: d[k] for k in PANEL}
    opt = SGD(m.num_params, c.lr)
    losses = []
    for s in range(c.steps):
        xs, ys = f32_seq(c, s % len(c.seqs))
        losses.append(m.forward(xs, ys))
        m.backward()
        clip_global_norm(m.grads, c.clip)
        before = list(m.params)
        opt.step(m.params, m.grads)
        if s == 0:
            r["update_ratio"] = update_ratio(before, m.params)
    r["losses"] = losses
    return r


def _g(n: int) -> float:
    return n * U / (1.0 - n * U)


def grad_error_bounds(c: TrainCase) -> "Tuple[float, List[float]]":
    """A-priori bound (first order in u = 2^-24) on |C float32 - exact| for the loss and every
    gradient of step 1 (sequence 0, the initial weights).

    The C evaluates the exact formulas with float32 operations in a fixed order.
    Standard error analysis (Higham, Accuracy and Stability of Numerical
    Algorithms, 2nd ed., 3.1): a sum of n float32 terms computed left to right
    errs by at most gamma_n * sum|terms|, gamma_n = n u / (1 - n u); a product
    by u |result|; tanhf, expf, logf by LIBM_ULPS ulps. Errors already present
    in an operand propagate with the operation's derivative. The bound is
    carried through the forward pass (pre-activations, h, z, p, loss) and the
    backward pass (dz, dh, dh_raw, dh_next) and into each gradient sum over
    time, evaluated along the exact trajectory -- so it grows with the sums'
    lengths (X + H + 1, H + 1, Y + 1, H and T) and with T through dh_next,
    as the float32 error does.
    """
    m = f32_model(c)
    xs, ys = f32_seq(c, 0)
    m.forward(xs, ys)
    m.backward()
    X, H, Y, n, L, P = m.X, m.H, m.Y, c.n, m.layout, m.params
    lu = LIBM_ULPS * U
    head = m.head
    Wxh = lambda i, j: P[L.Wxh + i * X + j]  # noqa: E731
    Whh = lambda i, j: P[L.Whh + i * H + j]  # noqa: E731
    Why = lambda k, j: P[L.Why + k * H + j]  # noqa: E731
    h = [m.h[t * H : (t + 1) * H] for t in range(n + 1)]
    eh = [[0.0] * H for _ in range(n + 1)]  # h[0] exact
    ez, ep, loss_err = [], [], 0.0  # type: List[List[float]], List[List[float]], float
    for t in range(n):
        x = xs[t]
        for i in range(H):
            terms = abs(P[L.bh + i]) + sum(abs(Whh(i, j) * h[t][j]) for j in range(H))
            if c.dense:
                terms += sum(abs(Wxh(i, j) * x[j]) for j in range(X))
                nterms = X + H + 1
            else:
                terms += abs(Wxh(i, x))
                nterms = H + 2
            e_pre = _g(nterms) * terms + sum(abs(Whh(i, j)) * eh[t][j] for j in range(H))
            hv = h[t + 1][i]
            eh[t + 1][i] = (1.0 - hv * hv) * e_pre + lu * max(abs(hv), U)
        z = m.z[t * Y : (t + 1) * Y]
        p = m.p[t * Y : (t + 1) * Y]
        ezt = []
        for k in range(Y):
            terms = abs(P[L.by + k]) + sum(abs(Why(k, j) * h[t + 1][j]) for j in range(H))
            ezt.append(_g(H + 1) * terms + sum(abs(Why(k, j)) * eh[t + 1][j] for j in range(H)))
        ez.append(ezt)
        mz = max(ezt)
        if head == "softmax":
            # p_k = exp(z_k - m) / sum: d p_k <= p_k (2 max dz) + rounding of exp, sum, division
            ep.append([pk * (2.0 * mz + lu + _g(Y) + 2 * U) for pk in p])
            lse = max(z) + math.log(sum(math.exp(v - max(z)) for v in z))
            loss_err += 2.0 * mz + (lu + _g(Y)) + 4 * U * (abs(lse) + abs(z[ys[t]]) + abs(max(z)))
        elif head == "sigmoid":
            ep.append([pk * (1.0 - pk) * ezt[k] + (lu + 3 * U) * pk for k, pk in enumerate(p)])
            for k in range(Y):
                loss_err += ezt[k] * (1.0 + abs(ys[t][k])) + (lu + 4 * U) * (abs(z[k]) * (1.0 + abs(ys[t][k])) + 1.0)
        else:
            ep.append(list(ezt))
            for k in range(Y):
                d = z[k] - ys[t][k]
                loss_err += abs(d) * ezt[k] + 3 * U * d * d
    loss_err += _g(n * Y) * abs(m.loss)  # the sum over steps
    # backward
    dz = [m.dz[t * Y : (t + 1) * Y] for t in range(n)]
    dr = [m.dh_raw[t * H : (t + 1) * H] for t in range(n)]
    dh = [m.dh[t * H : (t + 1) * H] for t in range(n)]
    edz = [[ep[t][k] + U * abs(dz[t][k]) for k in range(Y)] for t in range(n)]
    edr = [[0.0] * H for _ in range(n)]
    e_next = [0.0] * H
    nxt = [0.0] * H  # exact dh_next flowing into step t
    for t in range(n - 1, -1, -1):
        for i in range(H):
            terms = abs(nxt[i]) + sum(abs(Why(k, i) * dz[t][k]) for k in range(Y))
            e_dh = _g(Y + 1) * terms + sum(abs(Why(k, i)) * edz[t][k] for k in range(Y)) + e_next[i]
            hv = h[t + 1][i]
            edr[t][i] = abs(1.0 - hv * hv) * e_dh + abs(dh[t][i]) * (2.0 * abs(hv) * eh[t + 1][i] + 3 * U)
        e_next = [_g(H) * sum(abs(Whh(i, j) * dr[t][i]) for i in range(H)) + sum(abs(Whh(i, j)) * edr[t][i] for i in range(H)) for j in range(H)]
        nxt = [sum(Whh(i, j) * dr[t][i] for i in range(H)) for j in range(H)]
    gT = _g(n)
    b = [0.0] * L.size
    for i in range(H):
        b[L.bh + i] = gT * sum(abs(dr[t][i]) for t in range(n)) + sum(edr[t][i] for t in range(n))
        for j in range(H):
            b[L.Whh + i * H + j] = sum((gT + U) * abs(dr[t][i] * h[t][j]) + edr[t][i] * abs(h[t][j]) + abs(dr[t][i]) * eh[t][j] for t in range(n))
        for j in range(X):
            if c.dense:
                b[L.Wxh + i * X + j] = sum((gT + U) * abs(dr[t][i] * xs[t][j]) + edr[t][i] * abs(xs[t][j]) for t in range(n))
            else:
                ts = [t for t in range(n) if xs[t] == j]
                b[L.Wxh + i * X + j] = _g(len(ts)) * sum(abs(dr[t][i]) for t in ts) + sum(edr[t][i] for t in ts)
    for k in range(Y):
        b[L.by + k] = gT * sum(abs(dz[t][k]) for t in range(n)) + sum(edz[t][k] for t in range(n))
        for j in range(H):
            b[L.Why + k * H + j] = sum((gT + U) * abs(dz[t][k] * h[t + 1][j]) + edz[t][k] * abs(h[t + 1][j]) + abs(dz[t][k]) * eh[t + 1][j] for t in range(n))
    return loss_err, b


# ------------------------------------------------------------------ echo task
ECHO_T, ECHO_H = 25, 8
ECHO_LR, ECHO_CLIP, ECHO_SEED = 0.05, 1.0, 1
ECHO_EVAL = 20  # fresh sequences for the bit accuracy (500 bits)
XS32_SEED = 2463534242

_ECHO_MAIN = """\
#include "platform.h"
#include "echo_train.h"

echo_trainer_t tr;              /* global, so that avr-size counts it */
static float buf[echo_T + 1];   /* buf[0] = 0; x = buf + 1, y = buf: the target at t is the input at t-1 */
static uint32_t rng_s = SEEDu;  /* xorshift32: the same bits as the Python reference */
#if defined(__AVR__)
extern uint8_t __bss_end;       /* avr-libc: first byte after .bss; the stack grows down to it */
#endif

static void fill(void)
{
    int t;
    buf[0] = 0.0f;
    for (t = 1; t <= echo_T; ++t) {
        rng_s ^= rng_s << 13;
        rng_s ^= rng_s >> 17;
        rng_s ^= rng_s << 5;
        buf[t] = (float)(rng_s >> 31);
    }
}

PUT_U32

int main(void)
{
    uint32_t cycles = 0, overhead, ok = 0, free_bytes = 0;
    float loss = 0.0f;
    int s, t;
#if defined(__AVR__)
    uint8_t *p = &__bss_end, *top = (uint8_t *)SP - 48;
    while (p < top) *p++ = 0xA5; /* paint the free RAM; the lowest byte still 0xA5 afterwards bounds the stack */
#endif
    plat_init();
    plat_timer_start();
    overhead = plat_timer_stop();
    echo_init(&tr);
    for (s = 0; s < STEPS; ++s) {
        uint32_t c;
        fill();
        plat_timer_start();
        loss = echo_train_step(&tr, buf + 1, buf, echo_T, LRf, CLIPf);
        c = plat_timer_stop();
        cycles += c - overhead;
        if (s % 10 == 9) {
            plat_write("L ");
            put_words(&loss, 1);
        }
    }
    for (s = 0; s < EVAL; ++s) {
        fill();
        (void)echo_forward(&tr, buf + 1, buf, echo_T);
        for (t = 0; t < echo_T; ++t) ok += (tr.p[t] > 0.5f) == (buf[t] > 0.5f);
    }
#if defined(__AVR__)
    for (p = &__bss_end; p < top && *p == 0xA5; ++p) {
    }
    free_bytes = (uint32_t)(p - &__bss_end);
#endif
    plat_write("C ");
    put_u32(cycles);
    plat_write("A ");
    put_u32(ok);
    plat_write("F ");
    put_u32(free_bytes);
    plat_write("S ");
    put_u32((uint32_t)sizeof tr);
    plat_write("E\\n");
    plat_exit(0);
    return 0;
}
"""


def echo_model() -> RNN:
    from tinyrnn.core.init import init_params

    m = RNN(1, ECHO_H, 1, ECHO_T, "sigmoid")
    init_params(m, ECHO_SEED, "xavier")
    return m


def _xs32(s: int) -> int:
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    return s


def echo_reference(steps: int) -> "Dict[str, Any]":
    """The same training run in float64 Python: losses every 10 steps, bit accuracy."""
    m = f32_model(TrainCase(echo_model(), "echo", True, [([[0.0]], [[0.0]])], 0, ECHO_LR, ECHO_CLIP))
    opt = SGD(m.num_params, f32(ECHO_LR))
    s = XS32_SEED

    def seq() -> "Tuple[List[List[float]], List[List[float]]]":
        nonlocal s
        b = [0.0]
        for _ in range(ECHO_T):
            s = _xs32(s)
            b.append(float(s >> 31))
        return [[v] for v in b[1:]], [[v] for v in b[:ECHO_T]]

    losses = []
    for k in range(steps):
        xs, ys = seq()
        loss = m.forward(xs, ys)
        m.backward()
        clip_global_norm(m.grads, f32(ECHO_CLIP))
        opt.step(m.params, m.grads)
        if k % 10 == 9:
            losses.append(loss)
    ok = 0
    for _ in range(ECHO_EVAL):
        xs, ys = seq()
        m.forward(xs, ys)
        ok += sum((m.p[t] > 0.5) == (ys[t][0] > 0.5) for t in range(ECHO_T))
    return {"losses": losses, "correct": ok, "bits": ECHO_EVAL * ECHO_T}


def echo_build(target: str, workdir: str, steps: int) -> str:
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "echo_train.h"), "w") as f:
        f.write(trainer_header(echo_model(), "echo", "dense", progmem=True, source="echo task, xavier init seed %d" % ECHO_SEED))
    main = (
        ct._PRELUDE + _ECHO_MAIN.replace("PUT_U32", ct.PUT_U32).replace("STEPS", str(steps)).replace("EVAL", str(ECHO_EVAL)).replace("SEED", str(XS32_SEED))
        .replace("LRf", c_float(ECHO_LR)).replace("CLIPf", c_float(ECHO_CLIP))
    )
    with open(os.path.join(workdir, "main.c"), "w") as f:
        f.write(main)
    # not ct.build: its AVR rule (600 bytes kept for the stack) is for the inference harness; this
    # firmware is meant to fill the RAM, and measures its stack itself (painted RAM)
    cc, cflags, ldflags = ct.flags(target)
    plat = "arm" if target in ct.ARM_FLAGS else "host" if target.startswith("host") else target
    sources = ["main.c", os.path.join(ct.HERE, plat, "platform.c")]
    if target in ct.ARM_FLAGS:
        sources.append(os.path.join(ct.HERE, "arm", "startup.c"))
    exe = os.path.join(workdir, "main.elf" if target in ("m4f", "m3", "avr") else "main")
    ct._check([cc] + cflags + sources + ["-o", exe] + ldflags, workdir)
    return exe


def echo_run(target: str, workdir: str, steps: int, timeout: float = 1800) -> "Dict[str, Any]":
    """Train the echo task on ``target``: losses every 10 steps, bit accuracy, cycles, RAM."""
    exe = echo_build(target, workdir, steps)
    out = ct.run(target, exe, timeout=timeout)
    words = out.split()
    if "E" not in words:
        raise RuntimeError("echo firmware output has no end marker:\n" + out[-2000:])
    losses = [ct.bits_f32(int(words[i + 1], 16)) for i, w in enumerate(words) if w == "L"]
    val = {w: int(words[i + 1]) for i, w in enumerate(words) if w in ("C", "A", "F", "S")}
    r = {"losses": losses, "correct": val["A"], "bits": ECHO_EVAL * ECHO_T, "cycles_per_step": val["C"] / steps, "exe": exe,
         "sizeof": val["S"]}  # type: Dict[str, Any]
    if target == "avr":
        text, data, bss = ct.sizes("avr", exe)
        r.update(flash=text + data, data=data, bss=bss, free_stack_min=val["F"],
                 ram_peak=ct.AVR_RAM - val["F"])  # .data + .bss + the deepest stack the run reached
    return r
