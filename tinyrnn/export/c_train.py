"""Export a self-contained C99 *trainer*: forward, BPTT, clipping, SGD (Adam) in C.

``trainer_header(model, name=..., input_kind=...)`` returns the text of a
header that trains the vanilla tanh RNN on the device, written to be read as
a lesson in BPTT (the structure of the review in ``docs/checking.md``)::

    typedef struct { ... } NAME_trainer_t;     caller-owned: params, grads, h, p, z, dz, dh,
                                               dh_raw, dh_next, the instrument panel
    void  NAME_init(NAME_trainer_t *tr);       params = the exported weights, h[0] = 0, grads = 0
    float NAME_forward(tr, x, y, n);           h, p over n <= NAME_T steps; returns the loss
                                               (a sum over steps), or -1 for bad n / token / class
    void  NAME_backward(tr, x, y);             grads = dL/dparams of the last forward (zeroed first)
    float NAME_clip_global_norm(tr, c);        scale grads to norm <= c; returns the norm before
    void  NAME_clip_elementwise(tr, c);        grads to [-c, c]
    void  NAME_sgd(tr, lr);                    params -= lr * grads (and panel.update_ratio)
    void  NAME_adam(tr, lr, b1, b2, eps);      with -DNAME_ADAM=1 (twice the parameter RAM)
    float NAME_train_step(tr, x, y, n, lr, c); forward, backward, global-norm clip (c > 0), SGD
    void  NAME_carry(tr);                      h[0] = h[n]: the next chunk starts where this ended
    void  NAME_reset_state(tr);                h[0] = 0

``x`` is ``const int *`` (token ids, n of them) or ``const float *`` (n * X
floats, dense); ``y`` is ``const int *`` (class ids, softmax head) or
``const float *`` (n * Y floats, sigmoid and linear heads).

Same conventions as ``tinyrnn.core`` (docs/core.md): the loss is a **sum**
over steps; softmax + cross-entropy, sigmoid + binary cross-entropy from the
logits, linear + half squared error; ``grad_norm`` is taken before clipping;
the panel's numbers are those of ``tinyrnn.core.diagnostics``.

Only the vanilla cell exists today. A gated cell adds its own
``_CELL_FORWARD`` / ``_CELL_BACKWARD`` pieces and parameter groups (the
``CELLS`` table below); the head, clipping, optimiser and panel code is
shared.
"""

import math

from .. import __version__
from ..core.heads import HEADS
from ..core.model import RNN
from .c import MAX_DIM, ExportError, c_float, check_name, comment_text, progmem_guard, shape_defines, weights_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional

INT_MAX_AVR = 32767  # buffer indices are int: 16 bits on AVR
CELLS = ("vanilla",)


def ram_floats(X: int, H: int, Y: int, T: int, adam: bool = False) -> "Dict[str, int]":
    """Floats of each part of NAME_trainer_t (see the struct in the header)."""
    P = H * X + H * H + H + Y * H + Y
    parts = {
        "params": P,
        "grads": P,
        "h": (T + 1) * H,
        "p": T * Y,
        "z+dz": 2 * Y,
        "dh+dh_raw+dh_next": 3 * H,
        "panel": 7,
    }
    if adam:
        parts["adam m+v"] = 2 * P + 2
    return parts


def ram_bytes(X: int, H: int, Y: int, T: int, adam: bool = False) -> int:
    """An upper bound of sizeof(NAME_trainer_t) on every target (checked at compile time)."""
    return 4 * sum(ram_floats(X, H, Y, T, adam).values()) + 16  # n, padding


def _types(head: str, input_kind: str) -> "tuple[str, str]":
    return ("int" if input_kind == "token" else "float"), ("int" if head == "softmax" else "float")


def trainer_header(
    model: RNN,
    name: str = "model",
    input_kind: str = "dense",
    T: "Optional[int]" = None,
    progmem: bool = False,
    source: "Optional[str]" = None,
    cell: str = "vanilla",
) -> str:
    """The C99 trainer header for ``model`` (its weights become the initial weights)."""
    N = check_name(name)
    if cell not in CELLS:
        raise ExportError("cell %r has no C trainer yet (have: %s)" % (cell, ", ".join(CELLS)))
    if not model.vanilla:
        raise ExportError("the C trainer is for one-layer tanh models; this model is %s x %d layers" % (model.cell, model.layers))
    X, H, Y = model.X, model.H, model.Y
    T = model.T if T is None else T
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ExportError("T must be a positive integer, got %r" % (T,))
    if model.head not in HEADS:
        raise ExportError("unknown head %r" % (model.head,))
    if input_kind not in ("token", "dense"):
        raise ExportError("input kind %r is not 'token' or 'dense'" % (input_kind,))
    L = model.layout
    for what, size in (("X", X), ("H", H), ("Y", Y), ("T", T), ("parameters", L.size), ("(T+1)*H", (T + 1) * H), ("T*Y", T * Y), ("T*X", T * X)):
        if size > min(MAX_DIM, INT_MAX_AVR):
            raise ExportError("%s = %d is too large for the C trainer (int indices, limit %d)" % (what, size, INT_MAX_AVR))
    if len(model.params) != L.size:
        raise ExportError("model has %d parameters, expected %d" % (len(model.params), L.size))
    for k, v in enumerate(model.params):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ExportError("parameter %d = %r is not a finite number" % (k, v))
    P = [float(v) for v in model.params]
    xt, yt = _types(model.head, input_kind)
    G = N.upper()
    parts = ram_floats(X, H, Y, T)
    parts_adam = ram_floats(X, H, Y, T, True)

    o = []  # type: List[str]
    o.append("/* %s_train.h -- tinyrnn %s C trainer for a vanilla tanh RNN. Generated file." % (N, __version__))
    o.append(" *")
    if source is not None:
        o.append(" * initial weights from: %s" % comment_text(source))
    o.append(" * head: %s   input: %s   X=%d H=%d Y=%d T=%d   parameters: %d" % (model.head, input_kind, X, H, Y, T, L.size))
    o.append(" * initial weights hash: 0x%016x (FNV-1a 64, as in the inference header)" % weights_hash(P))
    o.append(" *")
    o.append(" * Forward, t = 0 .. n-1 (h[0] is the initial state):")
    o.append(" *   h[t+1] = tanh(Wxh x[t] + Whh h[t] + bh)      z = Why h[t+1] + by      p[t] = %s(z)"
             % {"softmax": "softmax", "sigmoid": "sigmoid", "mse": "identity"}[model.head])
    o.append(" *   loss   = sum over t of %s" % {
        "softmax": "logsumexp(z) - z[y[t]]          (cross-entropy, stable)",
        "sigmoid": "max(z,0) - z y + log1p(exp(-|z|))   (binary cross-entropy from the logits)",
        "mse": "1/2 (z - y[t])^2                 (squared error)"}[model.head])
    o.append(" * Backward (BPTT), t = n-1 .. 0, gradients zeroed first, dh_next = 0 first:")
    o.append(" *   dz      = %s" % {"softmax": "p[t] - onehot(y[t])", "sigmoid": "p[t] - y[t]", "mse": "z - y[t]  (= p[t] - y[t])"}[model.head])
    o.append(" *   dWhy   += dz h[t+1]^T        dby += dz")
    o.append(" *   dh      = Why^T dz + dh_next")
    o.append(" *   dh_raw  = (1 - h[t+1]^2) * dh                     (tanh')")
    o.append(" *   dWxh   += dh_raw x[t]^T      dWhh += dh_raw h[t]^T      dbh += dh_raw")
    o.append(" *   dh_next = Whh^T dh_raw")
    o.append(" * Every += sums over time: the weights are shared by all steps.")
    o.append(" *")
    o.append(" * API (all static; no malloc, no VLA, no global mutable state; include in one .c file):")
    o.append(" *   void  %s_init(%s_trainer_t *tr);            params = initial weights, h[0] = 0" % (N, N))
    o.append(" *   float %s_forward(tr, x, y, n);              loss (sum over n <= %s_T steps); -1 on bad input" % (N, N))
    o.append(" *   void  %s_backward(tr, x, y);                tr->grads = dL/dparams of the last forward" % N)
    o.append(" *   float %s_clip_global_norm(tr, c);           returns the norm before clipping" % N)
    o.append(" *   void  %s_clip_elementwise(tr, c);" % N)
    o.append(" *   void  %s_sgd(tr, lr);                       (%s_adam with -D%s_ADAM=1)" % (N, N, N))
    o.append(" *   float %s_train_step(tr, x, y, n, lr, c);    all of the above, global-norm clip at c > 0" % N)
    o.append(" *   void  %s_carry(tr);  %s_reset_state(tr);    h[0] = h[n] / h[0] = 0" % (N, N))
    o.append(" *   x: const %s * (%s), y: const %s * (%s)" % (
        xt, "n token ids" if input_kind == "token" else "n * X floats", yt, "n class ids" if yt == "int" else "n * Y floats"))
    o.append(" *   tr->panel: loss, mean_abs_h, sat_ratio, dh_norm, dh_raw_norm, grad_norm, update_ratio")
    o.append(" * RAM: sizeof(%s_trainer_t) <= %s_RAM_BYTES (checked when compiling); stack: a few locals." % (N, N))
    o.append(" * AVR: define %s_USE_PROGMEM to keep the initial weights in flash." % N)
    o.append(" */")
    o.append("#ifndef TINYRNN_%s_TRAIN_H" % G)
    o.append("#define TINYRNN_%s_TRAIN_H" % G)
    o.append("")
    o.append("#include <math.h>")
    o.append("")
    o += shape_defines(N, X, H, Y, model.head, input_kind)
    o.append("#define %s_T %d /* most steps per forward/backward (BPTT length) */" % (N, T))
    o.append('#define %s_CELL "%s"' % (N, cell))
    o.append("#define %s_PARAMS %d /* floats: Wxh | Whh | bh | Why | by */" % (N, L.size))
    o.append("#define %s_OFF_WXH %d /* H x X */" % (N, L.Wxh))
    o.append("#define %s_OFF_WHH %d /* H x H */" % (N, L.Whh))
    o.append("#define %s_OFF_BH %d /* H */" % (N, L.bh))
    o.append("#define %s_OFF_WHY %d /* Y x H */" % (N, L.Why))
    o.append("#define %s_OFF_BY %d /* Y */" % (N, L.by))
    o.append("#ifndef %s_ADAM" % N)
    o.append("#define %s_ADAM 0 /* 1: add Adam's m and v (2 x %d floats more RAM) */" % (N, L.size))
    o.append("#endif")
    o.append("#if %s_ADAM" % N)
    o.append("#define %s_RAM_BYTES %dL /* upper bound of sizeof(%s_trainer_t), with Adam */" % (N, ram_bytes(X, H, Y, T, True), N))
    o.append("#else")
    o.append("#define %s_RAM_BYTES %dL /* upper bound of sizeof(%s_trainer_t): %s */" % (
        N, ram_bytes(X, H, Y, T), N, ", ".join("%s %d" % (k, 4 * v) for k, v in parts.items())))
    o.append("#endif")
    o.append("#define %s_RAM_BYTES_SGD %dL" % (N, ram_bytes(X, H, Y, T)))
    o.append("#define %s_RAM_BYTES_ADAM %dL" % (N, ram_bytes(X, H, Y, T, True)))
    o.append("#define %s_FLASH_BYTES %dL /* initial weights */" % (N, 4 * L.size))
    o.append("#define %s_SATURATION 0.95f /* |h| above this counts as saturated */" % N)
    o.append("")
    o += progmem_guard(N, progmem)
    o.append("#if defined(%s_USE_PROGMEM)" % N)
    o.append("#include <avr/pgmspace.h>")
    o.append("#define %s_TFLASH_ PROGMEM" % N)
    o.append("#define %s_TRD_(p) pgm_read_float(p)" % N)
    o.append("#else")
    o.append("#define %s_TFLASH_" % N)
    o.append("#define %s_TRD_(p) (*(p))" % N)
    o.append("#endif")
    o.append("#if defined(__GNUC__)")
    o.append("#define %s_TAPI_ static __attribute__((unused, noinline)) /* no warning for the functions you do not call; not inlined: separate frames keep the deepest stack small */" % N)
    o.append("#else")
    o.append("#define %s_TAPI_ static" % N)
    o.append("#endif")
    o.append("")
    o.append("/* initial weights, layout Wxh | Whh | bh | Why | by (row-major); float32, exact */")
    o.append("static const float %s_init_params[%d] %s_TFLASH_ = {" % (N, L.size, N))
    vals = [c_float(v) for v in P]
    for k in range(0, len(vals), 6):
        o.append("    " + ", ".join(vals[k : k + 6]) + ",")
    o.append("};")
    o.append("")
    body = _RUNTIME
    body = body.replace("HEAD_FORWARD", _HEAD_FORWARD[model.head]).replace("HEAD_DZ", _HEAD_DZ[model.head])
    body = body.replace("INPUT_FORWARD", _INPUT_FORWARD[input_kind]).replace("INPUT_BACKWARD", _INPUT_BACKWARD[input_kind])
    body = body.replace("INPUT_CHECK", _INPUT_CHECK[input_kind]).replace("TARGET_CHECK", _TARGET_CHECK[model.head])
    body = body.replace("@XT@", xt).replace("@YT@", yt).replace("NAME", N)
    o.append(body)
    o.append("#endif /* TINYRNN_%s_TRAIN_H */" % G)
    return "\n".join(o) + "\n"


_RUNTIME = """\
/* The instrument panel (tinyrnn.core.diagnostics): read it after NAME_sgd. */
typedef struct {
    float loss;         /* forward: sum of the per-step losses */
    float mean_abs_h;   /* forward: mean |h| over h[1..n] */
    float sat_ratio;    /* forward: fraction of those with |h| > NAME_SATURATION */
    float dh_norm;      /* backward: ||dL/dh|| over all steps */
    float dh_raw_norm;  /* backward: ||dL/d pre-activation||; << dh_norm: tanh is saturated */
    float grad_norm;    /* backward: global gradient norm, before clipping */
    float update_ratio; /* sgd/adam: ||params after - before|| / ||params before|| */
} NAME_panel_t;

/* Everything the trainer needs; the caller owns it (static, global or on the stack). */
typedef struct {
    float params[NAME_PARAMS];  /* Wxh | Whh | bh | Why | by, offsets NAME_OFF_* */
    float grads[NAME_PARAMS];   /* dL/dparams, same layout */
#if NAME_ADAM
    float m[NAME_PARAMS];       /* Adam: first moment */
    float v[NAME_PARAMS];       /* Adam: second moment */
    float b1t, b2t;             /* Adam: beta1^t, beta2^t (bias correction) */
#endif
    float h[(NAME_T + 1) * NAME_H_S]; /* h[t*H + i]: state t; h[0] is the initial state */
    float p[NAME_T * NAME_Y_S];       /* p[t*Y + k]: probabilities (softmax, sigmoid) or outputs (linear) */
    float z[NAME_Y_S];                /* logits of the step being computed (kept apart from p) */
    float dz[NAME_Y_S];               /* dL/dz of the step being back-propagated */
    float dh[NAME_H_S];               /* dL/dh[t+1]: from the output and from step t+1 */
    float dh_raw[NAME_H_S];           /* dL/d(pre-activation) = (1 - h[t+1]^2) * dh */
    float dh_next[NAME_H_S];          /* dL/dh[t], handed to step t-1 */
    int n;                            /* steps of the last forward (0: none yet) */
    NAME_panel_t panel;
} NAME_trainer_t;

/* compile-time check that NAME_RAM_BYTES bounds the struct on this target */
typedef char NAME_ram_bytes_bound_[(sizeof(NAME_trainer_t) <= (unsigned long)NAME_RAM_BYTES) ? 1 : -1];

/* log(1 + x) without log1pf (avr-libc has none): exact to a few ulps (Goldberg). */
NAME_TAPI_ float NAME_log1p_(float x)
{
    float u = 1.0f + x;
    if (u == 1.0f) return x;
    return logf(u) * x / (u - 1.0f);
}

/* params = the initial weights; h[0] = 0; grads and optimiser state 0. */
NAME_TAPI_ void NAME_init(NAME_trainer_t *tr)
{
    int k;
    for (k = 0; k < NAME_PARAMS; ++k) {
        tr->params[k] = NAME_TRD_(NAME_init_params + k);
        tr->grads[k] = 0.0f;
#if NAME_ADAM
        tr->m[k] = 0.0f;
        tr->v[k] = 0.0f;
#endif
    }
#if NAME_ADAM
    tr->b1t = tr->b2t = 1.0f;
#endif
    for (k = 0; k < (NAME_T + 1) * NAME_H_S; ++k) tr->h[k] = 0.0f;
    for (k = 0; k < NAME_H_S; ++k) tr->dh_next[k] = 0.0f;
    tr->n = 0;
    tr->panel.loss = tr->panel.mean_abs_h = tr->panel.sat_ratio = 0.0f;
    tr->panel.dh_norm = tr->panel.dh_raw_norm = tr->panel.grad_norm = tr->panel.update_ratio = 0.0f;
}

/* h[0] = 0: the next sequence starts from rest. */
NAME_TAPI_ void NAME_reset_state(NAME_trainer_t *tr)
{
    int i;
    for (i = 0; i < NAME_H_S; ++i) tr->h[i] = 0.0f;
}

/* h[0] = h[n]: the next chunk continues this one (truncated BPTT, min-char-rnn's hprev). */
NAME_TAPI_ void NAME_carry(NAME_trainer_t *tr)
{
    int i;
    for (i = 0; i < NAME_H_S; ++i) tr->h[i] = tr->h[tr->n * NAME_H_S + i];
}

/* Forward over n steps (1 <= n <= NAME_T): fills h[1..n] and p[0..n-1] and returns
   the loss, a sum over steps. Returns -1 (nothing computed) if n, a token or a
   class id is out of range. */
NAME_TAPI_ float NAME_forward(NAME_trainer_t *tr, const @XT@ *x, const @YT@ *y, int n)
{
    /* named views of the flat parameter block */
    const float *Wxh = tr->params + NAME_OFF_WXH; /* H x X */
    const float *Whh = tr->params + NAME_OFF_WHH; /* H x H */
    const float *bh = tr->params + NAME_OFF_BH;   /* H */
    const float *Why = tr->params + NAME_OFF_WHY; /* Y x H */
    const float *by = tr->params + NAME_OFF_BY;   /* Y */
    float loss = 0.0f, abs_h = 0.0f;
    int t, i, j, k, sat = 0;
    (void)Wxh;
    tr->n = 0;
    if (n < 1 || n > NAME_T) return -1.0f;
    for (t = 0; t < n; ++t) {
        INPUT_CHECK
        TARGET_CHECK
    }
    for (t = 0; t < n; ++t) {
        const float *h_prev = tr->h + t * NAME_H_S;  /* h[t] */
        float *h_t = tr->h + (t + 1) * NAME_H_S;     /* h[t+1] */
        float *p_t = tr->p + t * NAME_Y_S;           /* p[t] */
        /* h[t+1] = tanh(Wxh x[t] + Whh h[t] + bh) */
        for (i = 0; i < NAME_H_S; ++i) {
            float acc = bh[i];
            INPUT_FORWARD
            for (j = 0; j < NAME_H_S; ++j) acc += Whh[i * NAME_H_S + j] * h_prev[j];
            h_t[i] = tanhf(acc);
            abs_h += fabsf(h_t[i]);
            if (fabsf(h_t[i]) > NAME_SATURATION) ++sat;
        }
        /* z = Why h[t+1] + by: the logits, never overwritten by probabilities */
        for (k = 0; k < NAME_Y_S; ++k) {
            float acc = by[k];
            for (j = 0; j < NAME_H_S; ++j) acc += Why[k * NAME_H_S + j] * h_t[j];
            tr->z[k] = acc;
        }
HEAD_FORWARD
    }
    tr->n = n;
    tr->panel.loss = loss;
    tr->panel.mean_abs_h = abs_h / (float)(n * NAME_H_S);
    tr->panel.sat_ratio = (float)sat / (float)(n * NAME_H_S);
    return loss;
}

/* Global L2 norm of the gradients (rescaled if the squares overflow). */
NAME_TAPI_ float NAME_grad_norm(const NAME_trainer_t *tr)
{
    float s = 0.0f, big = 0.0f, inv;
    int k;
    for (k = 0; k < NAME_PARAMS; ++k) s += tr->grads[k] * tr->grads[k];
    if (s <= 3.40282347e38f) return sqrtf(s); /* finite (a NaN fails the test too) */
    for (k = 0; k < NAME_PARAMS; ++k)
        if (fabsf(tr->grads[k]) > big) big = fabsf(tr->grads[k]);
    if (!(big <= 3.40282347e38f)) return s;   /* inf or NaN gradients: no direction */
    inv = 1.0f / big;
    s = 0.0f;
    for (k = 0; k < NAME_PARAMS; ++k) s += (tr->grads[k] * inv) * (tr->grads[k] * inv);
    return big * sqrtf(s);
}

/* BPTT over the last forward (same x and y): tr->grads = dL/dparams. */
NAME_TAPI_ void NAME_backward(NAME_trainer_t *tr, const @XT@ *x, const @YT@ *y)
{
    const float *Whh = tr->params + NAME_OFF_WHH;
    const float *Why = tr->params + NAME_OFF_WHY;
    float *dWxh = tr->grads + NAME_OFF_WXH, *dWhh = tr->grads + NAME_OFF_WHH, *dbh = tr->grads + NAME_OFF_BH;
    float *dWhy = tr->grads + NAME_OFF_WHY, *dby = tr->grads + NAME_OFF_BY;
    float *dz = tr->dz, *dh = tr->dh, *dh_raw = tr->dh_raw, *dh_next = tr->dh_next;
    float sum_dh = 0.0f, sum_dh_raw = 0.0f;
    int t, i, j, k, n = tr->n;
    (void)dWxh;
    (void)x;
    (void)y;
    /* the += below sums over time, so every backward starts from zero gradients */
    for (k = 0; k < NAME_PARAMS; ++k) tr->grads[k] = 0.0f;
    /* nothing flows back into the last step from the future */
    for (i = 0; i < NAME_H_S; ++i) dh_next[i] = 0.0f;
    for (t = n - 1; t >= 0; --t) {
        const float *h_prev = tr->h + t * NAME_H_S;  /* h[t]: the state this step read */
        const float *h_t = tr->h + (t + 1) * NAME_H_S; /* h[t+1]: the state it wrote */
        const float *p_t = tr->p + t * NAME_Y_S;
        /* 1. output gradient */
HEAD_DZ
        /* 2. output layer: dby += dz, dWhy += dz h[t+1]^T */
        for (k = 0; k < NAME_Y_S; ++k) {
            dby[k] += dz[k];
            for (j = 0; j < NAME_H_S; ++j) dWhy[k * NAME_H_S + j] += dz[k] * h_t[j];
        }
        /* 3. into h[t+1]: dh = Why^T dz + dh_next */
        for (i = 0; i < NAME_H_S; ++i) {
            float acc = dh_next[i];
            for (k = 0; k < NAME_Y_S; ++k) acc += Why[k * NAME_H_S + i] * dz[k];
            dh[i] = acc;
        }
        /* 4. through tanh: dh_raw = (1 - h[t+1]^2) * dh */
        for (i = 0; i < NAME_H_S; ++i) {
            dh_raw[i] = (1.0f - h_t[i] * h_t[i]) * dh[i];
            dbh[i] += dh_raw[i];
            sum_dh += dh[i] * dh[i];
            sum_dh_raw += dh_raw[i] * dh_raw[i];
        }
        /* 5. input and recurrent weights: dWxh += dh_raw x[t]^T, dWhh += dh_raw h[t]^T */
        for (i = 0; i < NAME_H_S; ++i) {
            INPUT_BACKWARD
            for (j = 0; j < NAME_H_S; ++j) dWhh[i * NAME_H_S + j] += dh_raw[i] * h_prev[j];
        }
        /* 6. to step t-1: dh_next = Whh^T dh_raw */
        for (j = 0; j < NAME_H_S; ++j) {
            float acc = 0.0f;
            for (i = 0; i < NAME_H_S; ++i) acc += Whh[i * NAME_H_S + j] * dh_raw[i];
            dh_next[j] = acc;
        }
    }
    tr->panel.dh_norm = sqrtf(sum_dh);
    tr->panel.dh_raw_norm = sqrtf(sum_dh_raw);
    tr->panel.grad_norm = NAME_grad_norm(tr);
}

/* Scale all gradients by c / norm if their global norm exceeds c (keeps the
   direction); returns the norm before. Non-finite gradients are left alone. */
NAME_TAPI_ float NAME_clip_global_norm(NAME_trainer_t *tr, float c)
{
    float norm = NAME_grad_norm(tr), scale;
    int k;
    if (norm <= 3.40282347e38f && norm > c) {
        scale = c / norm;
        for (k = 0; k < NAME_PARAMS; ++k) tr->grads[k] *= scale;
    }
    return norm;
}

/* Clip every gradient to [-c, c] (min-char-rnn's np.clip: changes the direction). */
NAME_TAPI_ void NAME_clip_elementwise(NAME_trainer_t *tr, float c)
{
    int k;
    for (k = 0; k < NAME_PARAMS; ++k) {
        if (tr->grads[k] > c) tr->grads[k] = c;
        else if (tr->grads[k] < -c) tr->grads[k] = -c;
    }
}

/* params -= lr * grads; panel.update_ratio = ||step|| / ||params before||. */
NAME_TAPI_ void NAME_sgd(NAME_trainer_t *tr, float lr)
{
    float sw = 0.0f, sd = 0.0f;
    int k;
    for (k = 0; k < NAME_PARAMS; ++k) {
        float w = tr->params[k], w1 = w - lr * tr->grads[k];
        sw += w * w;
        sd += (w1 - w) * (w1 - w);
        tr->params[k] = w1;
    }
    tr->panel.update_ratio = sw > 0.0f ? sqrtf(sd) / sqrtf(sw) : 0.0f;
}

#if NAME_ADAM
/* Adam with bias correction (tinyrnn.core.optim.Adam). */
NAME_TAPI_ void NAME_adam(NAME_trainer_t *tr, float lr, float beta1, float beta2, float eps)
{
    float sw = 0.0f, sd = 0.0f, a, s;
    int k;
    tr->b1t *= beta1;
    tr->b2t *= beta2;
    a = lr / (1.0f - tr->b1t);
    s = 1.0f / (1.0f - tr->b2t);
    for (k = 0; k < NAME_PARAMS; ++k) {
        float g = tr->grads[k], w = tr->params[k], w1;
        tr->m[k] = beta1 * tr->m[k] + (1.0f - beta1) * g;
        tr->v[k] = beta2 * tr->v[k] + (1.0f - beta2) * g * g;
        w1 = w - a * tr->m[k] / (sqrtf(tr->v[k] * s) + eps);
        sw += w * w;
        sd += (w1 - w) * (w1 - w);
        tr->params[k] = w1;
    }
    tr->panel.update_ratio = sw > 0.0f ? sqrtf(sd) / sqrtf(sw) : 0.0f;
}
#endif

/* One SGD training step on one sequence: forward, backward, global-norm clip
   at c (none if c <= 0), update. Returns the loss before the update, -1 on bad input. */
NAME_TAPI_ float NAME_train_step(NAME_trainer_t *tr, const @XT@ *x, const @YT@ *y, int n, float lr, float c)
{
    float loss = NAME_forward(tr, x, y, n);
    if (loss < 0.0f) return loss;
    NAME_backward(tr, x, y);
    if (c > 0.0f) (void)NAME_clip_global_norm(tr, c);
    NAME_sgd(tr, lr);
    return loss;
}
"""

_INPUT_CHECK = {
    "token": "if (x[t] < 0 || x[t] >= NAME_X_S) return -1.0f;",
    "dense": "(void)x;",
}
_TARGET_CHECK = {
    "softmax": "if (y[t] < 0 || y[t] >= NAME_Y_S) return -1.0f;",
    "sigmoid": "(void)y;",
    "mse": "(void)y;",
}
_INPUT_FORWARD = {
    "token": "acc += Wxh[i * NAME_X_S + x[t]]; /* one-hot x[t]: a column of Wxh */",
    "dense": "for (j = 0; j < NAME_X_S; ++j) acc += Wxh[i * NAME_X_S + j] * x[t * NAME_X_S + j];",
}
_INPUT_BACKWARD = {
    "token": "dWxh[i * NAME_X_S + x[t]] += dh_raw[i]; /* one-hot x[t]: only that column */",
    "dense": "for (j = 0; j < NAME_X_S; ++j) dWxh[i * NAME_X_S + j] += dh_raw[i] * x[t * NAME_X_S + j];",
}
_HEAD_FORWARD = {
    "softmax": """\
        /* p = softmax(z), stable: exp(z - max z); loss += logsumexp(z) - z[y] */
        {
            float m = tr->z[0], sum = 0.0f;
            for (k = 1; k < NAME_Y_S; ++k)
                if (tr->z[k] > m) m = tr->z[k];
            for (k = 0; k < NAME_Y_S; ++k) {
                p_t[k] = expf(tr->z[k] - m);
                sum += p_t[k];
            }
            for (k = 0; k < NAME_Y_S; ++k) p_t[k] /= sum;
            loss += logf(sum) + m - tr->z[y[t]];
        }""",
    "sigmoid": """\
        /* p = sigmoid(z), stable; loss += max(z,0) - z y + log1p(exp(-|z|)) */
        for (k = 0; k < NAME_Y_S; ++k) {
            float zk = tr->z[k], yk = y[t * NAME_Y_S + k];
            if (zk >= 0.0f) {
                p_t[k] = 1.0f / (1.0f + expf(-zk));
                loss += zk - zk * yk + NAME_log1p_(expf(-zk));
            } else {
                float e = expf(zk);
                p_t[k] = e / (1.0f + e);
                loss += -zk * yk + NAME_log1p_(e);
            }
        }""",
    "mse": """\
        /* p = z (linear head); loss += 1/2 (z - y)^2 */
        for (k = 0; k < NAME_Y_S; ++k) {
            float d = tr->z[k] - y[t * NAME_Y_S + k];
            p_t[k] = tr->z[k];
            loss += 0.5f * d * d;
        }""",
}
_HEAD_DZ = {
    "softmax": """\
        for (k = 0; k < NAME_Y_S; ++k) dz[k] = p_t[k]; /* dz = p - onehot(y[t]) */
        dz[y[t]] -= 1.0f;""",
    "sigmoid": """\
        for (k = 0; k < NAME_Y_S; ++k) dz[k] = p_t[k] - y[t * NAME_Y_S + k]; /* dz = p - y */""",
    "mse": """\
        for (k = 0; k < NAME_Y_S; ++k) dz[k] = p_t[k] - y[t * NAME_Y_S + k]; /* dz = z - y (p = z) */""",
}


def parse_spec(spec: str) -> "tuple[int, int, int, int, str, str]":
    """``X,H,Y,T,HEAD[,INPUT]`` -> (X, H, Y, T, head, input kind); ExportError naming the field."""
    parts = [s.strip() for s in spec.split(",")]
    if len(parts) not in (5, 6):
        raise ExportError("--spec %r: expected X,H,Y,T,HEAD[,INPUT], e.g. 1,8,1,25,sigmoid,dense" % spec)
    dims = []
    for label, s in zip("XHYT", parts[:4]):
        try:
            v = int(s)
        except ValueError:
            raise ExportError("--spec %r: %s = %r is not an integer" % (spec, label, s))
        if v < 1:
            raise ExportError("--spec %r: %s = %d must be at least 1" % (spec, label, v))
        dims.append(v)
    X, H, Y, T = dims
    for what, size in (("H*X + H*H + H + Y*H + Y parameters", H * X + H * H + H + Y * H + Y), ("(T+1)*H", (T + 1) * H), ("T*Y", T * Y), ("T*X", T * X)):
        if size > INT_MAX_AVR:  # checked before anything is allocated
            raise ExportError("--spec %r: %s = %d is too large for the C trainer (limit %d)" % (spec, what, size, INT_MAX_AVR))
    head = parts[4]
    if head not in HEADS:
        raise ExportError("--spec %r: head %r is not one of %s" % (spec, head, ", ".join(HEADS)))
    kind = parts[5] if len(parts) == 6 else "dense"
    if kind not in ("token", "dense"):
        raise ExportError("--spec %r: input %r is not token or dense" % (spec, kind))
    return dims[0], dims[1], dims[2], dims[3], head, kind
