"""The per-cell step code of the C header: vanilla tanh, GRU and LSTM, L >= 1 layers.

``export/c.py`` writes everything a header shares (the #defines, PROGMEM,
output/argmax/vocab/sample/labels); this module writes what depends on the
cell and depth: the state struct, the weight tables (one per layout group, in
layout order, named after the group) and the step functions. The single-layer
vanilla RNN keeps its original runtime (c.py's ``_VANILLA``), so headers of
existing models do not change; every other model gets the code below.

Math (PyTorch conventions; docs/export.md, "Gated cells and stacked layers"), layer l
reading x (l = 0) or the new h of layer l - 1::

    rnn:  h' = tanh(Wxh x + bh + Whh h)
    gru:  r, z = sigmoid(Wxh x + bxh + Whh h + bhh) (blocks r, z)
          n = tanh(Wxh_n x + bxh_n + r * (Whh_n h + bhh_n));  h' = (1 - z) n + z h
    lstm: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (Wxh x + bxh + Whh h + bhh)
          c' = f c + i g;  h' = o tanh(c')

One step uses one scratch vector ``pre`` of G*H floats (G = 1, 3, 4 gates),
reused layer by layer: it receives the input part (bias + Wxh x, or the
gathered column for a token), then the cell adds the recurrent part. The GRU
also keeps Whh_n h + bhh_n apart (H floats), as r multiplies it.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Tuple

CELLS = ("rnn", "gru", "lstm")
CELL_ID = {"rnn": 0, "gru": 1, "lstm": 2}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
GATE_NAMES = {"rnn": "", "gru": "r, z, n", "lstm": "i, f, g, o"}
CELL_TITLE = {"rnn": "vanilla tanh RNN", "gru": "GRU", "lstm": "LSTM"}


def cell_of(model: "Any") -> "Tuple[str, int]":
    """(cell, layers) of ``model``; a model without them is a one-layer vanilla RNN."""
    cell = getattr(model, "cell", "rnn")
    layers = getattr(model, "layers", 1)
    if cell not in CELLS:
        raise ValueError("unknown cell %r (expected one of %s)" % (cell, ", ".join(CELLS)))
    if not isinstance(layers, int) or isinstance(layers, bool) or layers < 1:
        raise ValueError("layers must be a positive integer, got %r" % (layers,))
    return cell, layers


def is_vanilla(model: "Any") -> bool:
    return cell_of(model) == ("rnn", 1)


def title(model: "Any") -> str:
    """'vanilla tanh RNN', '2-layer GRU', ..."""
    cell, L = cell_of(model)
    return CELL_TITLE[cell] if L == 1 else "%d-layer %s" % (L, CELL_TITLE[cell])


def macs_per_step(model: "Any", dense: bool) -> int:
    """Multiply-accumulates in one step: G*H*X (dense input only; a token is a column
    gather) + G*H*H + (L - 1) * 2*G*H*H (upper layers: input and recurrent) + Y*H."""
    cell, L = cell_of(model)
    G, X, H, Y = GATES[cell], model.X, model.H, model.Y
    return int((G * H * X if dense else 0) + G * H * H + (L - 1) * 2 * G * H * H + Y * H)


def state_floats(model: "Any") -> int:
    """Floats in NAME_state_t: h of every layer, and c of every layer for the LSTM."""
    cell, L = cell_of(model)
    return int(L * model.H * (2 if cell == "lstm" else 1))


def scratch_floats(model: "Any") -> int:
    """Floats on the stack during a step: pre (G*H), and for the GRU Whh_n h + bhh_n (H)."""
    cell, _ = cell_of(model)
    return int(GATES[cell] * model.H + (model.H if cell == "gru" else 0))


def blank_like(model: "Any", T: int = 1) -> "Any":
    """A new model of ``model``'s class, dimensions, head, cell and depth."""
    if is_vanilla(model):
        return type(model)(model.X, model.H, model.Y, T, model.head)
    cell, L = cell_of(model)
    return type(model)(model.X, model.H, model.Y, T, model.head, cell=cell, layers=L)


def input_bias(model: "Any", layer: int = 0) -> str:
    """Name of the bias group added with Wxh x: bh{l} (rnn) or bxh{l}."""
    return ("bh" if cell_of(model)[0] == "rnn" else "bxh") + (str(layer) if layer else "")


def groups_in_order(model: "Any") -> "List[Tuple[str, int, int, int]]":
    """(name, offset, rows, cols) of every layout group, by offset."""
    return sorted(((g, o, r, c) for g, (o, r, c) in model.layout.groups.items()), key=lambda t: t[1])


def math_lines(model: "Any", output: str) -> "List[str]":
    """The header comment's lines of math."""
    cell, L = cell_of(model)
    layer = " *   layer l reads x (l = 0) or the new h of layer l - 1; suffix l on the weights of layer l >= 1"
    tail = " *   z = Why h'[%d] + by    y = %s(z)" % (L - 1, output)
    if cell == "rnn":
        body = [" *   h' = tanh(Wxh x + bh + Whh h)"]
    elif cell == "gru":
        body = [
            " *   r = sigmoid(Wxh_r x + bxh_r + Whh_r h + bhh_r)   z = sigmoid(... z ...)   (row blocks r, z, n)",
            " *   n = tanh(Wxh_n x + bxh_n + r * (Whh_n h + bhh_n))   h' = (1 - z) * n + z * h",
        ]
    else:
        body = [
            " *   i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (Wxh x + bxh + Whh h + bhh)   (row blocks i, f, g, o)",
            " *   c' = f * c + i * g   h' = o * tanh(c')",
        ]
    return ([layer] if L > 1 else []) + body + [tail]


def state_typedef(N: str, model: "Any") -> str:
    cell, _ = cell_of(model)
    c = " float c[%s_LAYERS][%s_H_S];" % (N, N) if cell == "lstm" else ""
    return "typedef struct { float h[%s_LAYERS][%s_H_S];%s } %s_state_t;" % (N, N, c, N)


def shape_comment(model: "Any", g: str, rows: int, cols: int) -> str:
    """'Wxh1: 48 x 16 (3H x H, row blocks r, z, n), row-major' and the like."""
    cell, _ = cell_of(model)
    G = GATES[cell]
    base = g.rstrip("0123456789")
    rsym = "Y" if base in ("Why", "by") else ("%dH" % G if G > 1 else "H")
    blocks = ", row blocks %s" % GATE_NAMES[cell] if G > 1 and rsym != "Y" else ""
    if not cols:
        return "%s: %d (%s%s)" % (g, rows, rsym, blocks)
    csym = "X" if g == "Wxh" else "H"
    return "%s: %d x %d (%s x %s%s), row-major" % (g, rows, cols, rsym, csym, blocks)


def runtime(N: str, model: "Any") -> str:
    """reset, the kernels, the cell, the layer stack, logits, step and step_token."""
    cell, L = cell_of(model)
    parts = [_RESET_LSTM if cell == "lstm" else _RESET, _KERNELS]
    if cell != "rnn":
        parts.append(_SIGMOID)
    parts.append(_CELL[cell])
    calls = {
        "rnn": "NAME_rnn_(s->h[%d], pre, NAME_Whh%s);",
        "gru": "NAME_gru_(s->h[%d], pre, NAME_Whh%s, NAME_bhh%s);",
        "lstm": "NAME_lstm_(s->h[%d], s->c[%d], pre, NAME_Whh%s, NAME_bhh%s);",
    }[cell]
    body = []
    for layer in range(L):
        sfx = str(layer) if layer else ""
        if layer:
            body.append("    /* layer %d reads the new h of layer %d */" % (layer, layer - 1))
            body.append("    NAME_bias_(pre, NAME_%s, NAME_GATES * NAME_H_S);" % input_bias(model, layer))
            body.append("    NAME_mv_(pre, NAME_Wxh%s, s->h[%d], NAME_GATES * NAME_H_S, NAME_H_S);" % (sfx, layer - 1))
        args = (layer, layer, sfx, sfx) if cell == "lstm" else (layer, sfx, sfx)
        body.append("    " + calls % args[: calls.count("%")])
    parts.append(_STACK.replace("BODY", "\n".join(body)))
    parts.append(_STEP.replace("BIAS0", "NAME_" + input_bias(model, 0)))
    return "\n".join(parts).replace("NAME", N)


_RESET = """\
NAME_API_ void NAME_reset(NAME_state_t *s)
{
    int l, i;
    for (l = 0; l < NAME_LAYERS; ++l)
        for (i = 0; i < NAME_H_S; ++i) s->h[l][i] = 0.0f;
}
"""

_RESET_LSTM = """\
NAME_API_ void NAME_reset(NAME_state_t *s)
{
    int l, i;
    for (l = 0; l < NAME_LAYERS; ++l)
        for (i = 0; i < NAME_H_S; ++i) s->h[l][i] = s->c[l][i] = 0.0f;
}
"""

_KERNELS = """\
/* out[r] = b[r] for r < n (b in flash with NAME_USE_PROGMEM) */
NAME_API_ void NAME_bias_(float *out, const float *b, int n)
{
    int r;
    for (r = 0; r < n; ++r) out[r] = NAME_RD_(b + r);
}

/* out[r] += W[r][:] v for r < rows; W is rows x cols, row-major */
NAME_API_ void NAME_mv_(float *out, const float *W, const float *v, int rows, int cols)
{
    int r, j;
    for (r = 0; r < rows; ++r) {
        const float *w = W + (long)r * cols;
        float acc = out[r];
        for (j = 0; j < cols; ++j) acc += NAME_RD_(w + j) * v[j];
        out[r] = acc;
    }
}
"""

_SIGMOID = """\
/* sigmoid(a), stable for any a (expf never sees a positive argument) */
NAME_API_ float NAME_sigmoid_(float a)
{
    float e;
    if (a >= 0.0f) return 1.0f / (1.0f + expf(-a));
    e = expf(a);
    return e / (1.0f + e);
}
"""

_CELL = {
    "rnn": """\
/* One tanh layer: pre (H) holds bh + Wxh x; h = tanh(pre + Whh h). */
NAME_API_ void NAME_rnn_(float *h, float *pre, const float *Whh)
{
    int i;
    NAME_mv_(pre, Whh, h, NAME_H_S, NAME_H_S);
    for (i = 0; i < NAME_H_S; ++i) h[i] = tanhf(pre[i]);
}
""",
    "gru": """\
/* One GRU layer: pre (3H, blocks r, z, n) holds bxh + Wxh x; h is updated in place. */
NAME_API_ void NAME_gru_(float *h, float *pre, const float *Whh, const float *bhh)
{
    float hn[NAME_H_S]; /* Whh_n h + bhh_n: r scales it */
    int i;
    for (i = 0; i < 2 * NAME_H_S; ++i) pre[i] += NAME_RD_(bhh + i);
    NAME_mv_(pre, Whh, h, 2 * NAME_H_S, NAME_H_S);
    NAME_bias_(hn, bhh + 2 * NAME_H_S, NAME_H_S);
    NAME_mv_(hn, Whh + 2L * NAME_H_S * NAME_H_S, h, NAME_H_S, NAME_H_S);
    for (i = 0; i < NAME_H_S; ++i) {
        float r = NAME_sigmoid_(pre[i]);
        float z = NAME_sigmoid_(pre[NAME_H_S + i]);
        float n = tanhf(pre[2 * NAME_H_S + i] + r * hn[i]);
        h[i] = (1.0f - z) * n + z * h[i];
    }
}
""",
    "lstm": """\
/* One LSTM layer: pre (4H, blocks i, f, g, o) holds bxh + Wxh x; h and c are updated in place. */
NAME_API_ void NAME_lstm_(float *h, float *c, float *pre, const float *Whh, const float *bhh)
{
    int i;
    for (i = 0; i < 4 * NAME_H_S; ++i) pre[i] += NAME_RD_(bhh + i);
    NAME_mv_(pre, Whh, h, 4 * NAME_H_S, NAME_H_S);
    for (i = 0; i < NAME_H_S; ++i) {
        float ig = NAME_sigmoid_(pre[i]);
        float f = NAME_sigmoid_(pre[NAME_H_S + i]);
        float g = tanhf(pre[2 * NAME_H_S + i]);
        float o = NAME_sigmoid_(pre[3 * NAME_H_S + i]);
        c[i] = f * c[i] + ig * g;
        h[i] = o * tanhf(c[i]);
    }
}
""",
}

_STACK = """\
/* pre holds layer 0's input part; run every layer, bottom up, reusing pre. */
NAME_API_ void NAME_layers_(NAME_state_t *s, float *pre)
{
BODY
}
"""

_STEP = """\
/* z = Why h + by, h the top layer's state */
NAME_API_ void NAME_logits_(const float *h, float *z)
{
    NAME_bias_(z, NAME_by, NAME_Y_S);
    NAME_mv_(z, NAME_Why, h, NAME_Y_S, NAME_H_S);
}

/* One step with a dense input x (NAME_X_S floats); z receives NAME_Y_S logits. */
NAME_API_ void NAME_step(NAME_state_t *s, const float *x, float *z)
{
    float pre[NAME_GATES * NAME_H_S];
    NAME_bias_(pre, BIAS0, NAME_GATES * NAME_H_S);
    NAME_mv_(pre, NAME_Wxh, x, NAME_GATES * NAME_H_S, NAME_X_S);
    NAME_layers_(s, pre);
    NAME_logits_(s->h[NAME_LAYERS - 1], z);
}

/* One step with a one-hot input: gathers column `token` of Wxh.
   Returns 0; for a token outside [0, NAME_X_S) returns -1, leaves *s
   unchanged, sets z to 0 and reads nothing out of bounds. */
NAME_API_ int NAME_step_token(NAME_state_t *s, int token, float *z)
{
    float pre[NAME_GATES * NAME_H_S];
    int r;
    if (token < 0 || token >= NAME_X_S) {
        for (r = 0; r < NAME_Y_S; ++r) z[r] = 0.0f;
        return -1;
    }
    for (r = 0; r < NAME_GATES * NAME_H_S; ++r)
        pre[r] = NAME_RD_(BIAS0 + r) + NAME_RD_(NAME_Wxh + (long)r * NAME_X_S + token);
    NAME_layers_(s, pre);
    NAME_logits_(s->h[NAME_LAYERS - 1], z);
    return 0;
}
"""
