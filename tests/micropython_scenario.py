"""One fixed workload for the core, run on CPython and on MicroPython alike.

``run()`` returns a dict of sections -> values (nested lists/dicts of ints,
floats and strings). ``tests/test_micropython.py`` runs it in-process on
CPython and as a script under MicroPython (``tools/micropython/run.mjs``),
then compares the two section by section. Run as a script it prints the
result as JSON with every float written as the string ``"f" + repr(x)`` and
every string as ``"s" + text`` (JSON has no inf/nan, and repr round-trips a
double exactly on both interpreters).

Only the core API and the subset of Python that MicroPython 1.27 has may be
used here.
"""

import json
from array import array

from tinyrnn import (
    RNN,
    SGD,
    Adagrad,
    Adam,
    Rng,
    argmax,
    clip_elementwise,
    clip_global_norm,
    diagnostics,
    gradcheck,
    grad_norm,
    init_params,
    make_optimizer,
    update_ratio,
)

X, H, Y, T = 5, 6, 3, 8
N = 7  # steps used: shorter than T on purpose
SEED = 20261121


def _model(head, seed=SEED, scheme="xavier", scale=1.0, dims=None):
    x, h, y, t = dims or (X, H, Y, T)
    m = RNN(x, h, y, t, head)
    init_params(m, seed, scheme, scale)
    return m


def _sequence(rng, head, dense, n, x=X, y=Y):
    """Inputs and per-step targets drawn from ``rng`` (portable)."""
    if dense:
        xs = [[rng.uniform(-1.0, 1.0) for _ in range(x)] for _ in range(n)]
    else:
        xs = [rng.below(x) for _ in range(n)]
    if head == "softmax":
        ts = [rng.below(y) for _ in range(n)]
    elif head == "sigmoid":
        ts = [[float(rng.below(2)) if k else rng.uniform() for k in range(y)] for _ in range(n)]
    else:
        ts = [[rng.normal() for _ in range(y)] for _ in range(n)]
    return xs, ts


def _mode_args(rng, mode, ts, n):
    """(targets, weights, last_only) for many-to-many / many-to-one / masked."""
    if mode == "many2many":
        return ts, None, False
    if mode == "many2one":
        return [ts[-1]], None, True
    w = [0.0 if rng.below(3) == 0 else rng.uniform(0.5, 2.0) for _ in range(n)]
    w[-1] = 1.0
    return ts, w, False


def section_rng():
    out = {}
    for seed in (0, 1, 42, 2**63 + 5, -3):
        r = Rng(seed)
        out["u64_%s" % seed] = [r.next_u64() for _ in range(8)]
        out["uniform_%s" % seed] = [r.uniform() for _ in range(64)]
        out["uniform_ab_%s" % seed] = [r.uniform(-2.5, 0.75) for _ in range(16)]
        out["below_%s" % seed] = [r.below(k) for k in range(1, 40)]
        out["state_%s" % seed] = r.state
    return out


def section_normal():
    out = {}
    for seed in (0, 7, 123456789):
        r = Rng(seed)
        out["normal_%s" % seed] = [r.normal() for _ in range(64)]
        out["normal_ms_%s" % seed] = [r.normal(0.5, 3.0) for _ in range(16)]
    return out


def section_init():
    out = {}
    for scheme in ("xavier", "uniform"):
        for scale in (1.0, 0.1):
            m = RNN(X, H, Y, T, "softmax")
            rng = init_params(m, SEED, scheme, scale)
            out["%s_%s" % (scheme, scale)] = list(m.params)
            out["%s_%s_state" % (scheme, scale)] = rng.state
    return out


def section_init_normal():
    m = RNN(X, H, Y, T, "softmax")
    rng = init_params(m, SEED, "normal", 0.01)
    return {"normal_0.01": list(m.params), "normal_state": rng.state}


def section_forward_backward():
    out = {}
    case = 0
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            for mode in ("many2many", "many2one", "masked"):
                case += 1
                m = _model(head, SEED + case)
                rng = Rng(1000 + case)
                xs, ts = _sequence(rng, head, dense, N)
                targets, w, last = _mode_args(rng, mode, ts, N)
                h0 = [rng.uniform(-0.5, 0.5) for _ in range(H)] if case % 2 else None
                loss = m.forward(xs, targets, w, h0, last)
                m.backward()
                n = m.n
                out["%s_%s_%s" % (head, "dense" if dense else "token", mode)] = {
                    "loss": loss,
                    "grads": list(m.grads),
                    "h": m.h[0 : (n + 1) * H],
                    "z": m.z[0 : n * Y],
                    "p": m.p[0 : n * Y],
                    "dz": m.dz[0 : n * Y],
                    "dh": m.dh[0 : n * H],
                    "dh_raw": m.dh_raw[0 : n * H],
                    "dh0": list(m.dh0),
                    "final": m.final_state(),
                    "n": n,
                }
    return out


def section_gradcheck():
    out = {}
    case = 0
    dims = (3, 4, 2, 4)
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            case += 1
            m = _model(head, 77 + case, dims=dims)
            rng = Rng(500 + case)
            xs, ts = _sequence(rng, head, dense, 4, x=3, y=2)
            errs = gradcheck(m, xs, ts)
            out["%s_%s" % (head, "dense" if dense else "token")] = {
                "max_rel_err": max(errs.values()),
                "groups": sorted(errs.keys()),
                "grads": list(m.grads),
            }
    return out


def _grads_for_optim(head="mse"):
    m = _model(head, SEED + 99)
    rng = Rng(99)
    xs, ts = _sequence(rng, head, True, N)
    m.forward(xs, ts)
    m.backward()
    return m


def section_optim():
    out = {}
    m = _grads_for_optim()
    g = list(m.grads)
    start = list(m.params)
    for name, opt in (
        ("sgd", SGD(len(start), 0.1, 0.0)),
        ("sgd_momentum", SGD(len(start), 0.1, 0.9)),
        ("adagrad", Adagrad(len(start), 0.1)),
        ("adam", Adam(len(start), 0.01, 0.9, 0.999, 1e-8)),
    ):
        p = list(start)
        traj = []
        for k in range(3):  # three steps, the gradient scaled each time
            gk = [gi * (1.0 + 0.5 * k) for gi in g]
            opt.step(p, gk)
            traj.append(list(p))
        sd = opt.state_dict()
        out[name] = {
            "params": traj,
            "update_ratio": update_ratio(start, p),
            "state": {k: sd[k] for k in sorted(sd)},
        }
    # clipping: a copy of the gradient, blown up so both clips bite
    big = [gi * 1000.0 for gi in g]
    c1 = list(big)
    norm_before = clip_global_norm(c1, 5.0)
    c2 = list(big)
    clip_elementwise(c2, 0.25)
    c3 = list(g)
    small_norm = clip_global_norm(c3, 1e6)  # below the bound: unchanged
    out["clip"] = {
        "grad_norm": grad_norm(g),
        "global_norm_before": norm_before,
        "global_after": c1,
        "global_norm_after": grad_norm(c1),
        "elementwise": c2,
        "untouched_norm": small_norm,
        "untouched_same": c3 == g,
    }
    return out


def section_step():
    out = {}
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            m = _model(head, SEED + 7)
            rng = Rng(4242)
            xs, _ = _sequence(rng, head, dense, N)
            s = m.new_state()
            z = [0.0] * Y
            yv = [0.0] * Y
            states, logits, outs, picks = [], [], [], []
            for x in xs:
                m.step(s, x, z)
                m.output(z, yv)
                states.append(list(s))
                logits.append(list(z))
                outs.append(list(yv))
                picks.append(argmax(z))
            # the same sequence through forward(): h[n] must match the stepped state
            tgt = [0] * N if head == "softmax" else [[0.0] * Y] * N
            m.forward(xs, tgt)
            out["%s_%s" % (head, "dense" if dense else "token")] = {
                "states": states,
                "z": logits,
                "y": outs,
                "argmax": picks,
                "forward_final": m.final_state(),
            }
    return out


def section_diagnostics():
    out = {}
    for name, scale in (("normal", 1.0), ("saturated", 6.0)):
        m = _model("softmax", SEED + 3, "uniform", scale)
        rng = Rng(3)
        xs, ts = _sequence(rng, "softmax", False, N)
        m.forward(xs, ts)
        m.backward()
        d = diagnostics(m)
        out[name] = {k: d[k] for k in sorted(d)}
    return out


def section_trouble():
    """Huge logits (exp would overflow) and saturation: finite, and the same."""
    out = {}
    for head in ("softmax", "sigmoid", "mse"):
        m = _model(head, SEED + 11)
        m.set("by", [1000.0, -1000.0, 750.0])
        rng = Rng(11)
        xs, ts = _sequence(rng, head, False, N)
        loss = m.forward(xs, ts)
        m.backward()
        out[head] = {"loss": loss, "p": m.p[0 : N * Y], "grads": list(m.grads)}
    errors = []
    m = _model("softmax")
    for args in (
        ([], []),
        ([0] * (T + 1), [0] * (T + 1)),
        ([0, 1], [0]),
        ([0, X], [0, 0]),
        ([[0.0] * X, [float("nan")] * X], [0, 0]),
        ([0, 1], [0, Y]),
    ):
        try:
            m.forward(args[0], args[1])
            errors.append("no error")
        except ValueError as e:
            errors.append("ValueError: %s" % e)
    out["errors"] = errors
    return out


def section_api():
    """Views, layout, optimiser state round trip (resume = continue)."""
    m = _model("sigmoid", SEED + 5)
    out = {"groups": dict((k, list(v)) for k, v in m.layout.groups.items())}
    out["Whh"] = m.get("Whh")
    out["by"] = m.get("by")
    m.set("Whh", [[0.25 * (i - j) for j in range(H)] for i in range(H)])
    m.set("bh", [0.5] * H)
    out["params_after_set"] = list(m.params)
    rng = Rng(5)
    xs, ts = _sequence(rng, "sigmoid", False, N)
    m.forward(xs, ts)
    m.backward()
    out["Why_grad"] = m.get("Why", m.grads)
    for name in ("sgd", "adagrad", "adam"):
        a = make_optimizer(name, len(m.params), 0.05)
        pa = list(m.params)
        a.step(pa, m.grads)
        b = make_optimizer(name, len(m.params), 0.05)
        b.load_state_dict(a.state_dict())
        pb = list(pa)
        a.step(pa, m.grads)
        b.step(pb, m.grads)
        out["resume_" + name] = {"continued": pa, "resumed_same": pa == pb}
    return out


def section_gated():
    """GRU and LSTM, 1 and 2 layers: forward, backward, step, an optimiser step, diagnostics."""
    out = {}
    case = 0
    for cell in ("gru", "lstm"):
        for layers in (1, 2):
            for head, dense, mode in (("softmax", False, "masked"), ("mse", True, "many2one"), ("sigmoid", True, "many2many")):
                case += 1
                m = RNN(X, H, Y, T, head, cell, layers)
                init_params(m, SEED + 50 + case, "uniform", 0.9)
                rng = Rng(3000 + case)
                xs, ts = _sequence(rng, head, dense, N)
                targets, w, last = _mode_args(rng, mode, ts, N)
                s0 = [rng.uniform(-0.5, 0.5) for _ in range(m.S)]
                loss = m.forward(xs, targets, w, s0, last)
                m.backward()
                d = diagnostics(m)
                opt = Adagrad(m.num_params, 0.05) if not dense else Adam(m.num_params, 0.01)
                p = list(m.params)
                opt.step(p, m.grads, m.grad_ranges())
                st, z, zs = list(s0), [0.0] * Y, []
                for x in xs:
                    m.step(st, x, z)
                    zs.append(list(z))
                out["%s%d_%s_%s_%s" % (cell, layers, head, "dense" if dense else "token", mode)] = {
                    "loss": loss,
                    "grads": list(m.grads),
                    "d0": list(m.dh0),
                    "final": m.final_state(),
                    "stepped": st,
                    "z": zs,
                    "gates": m.a[0 : len(m.a)],
                    "updated": p,
                    "diagnostics": {k: d[k] for k in sorted(d)},
                }
    return out


def section_gated_gradcheck():
    out = {}
    for cell in ("gru", "lstm"):
        m = RNN(3, 2, 2, 3, "softmax", cell, 2)
        init_params(m, 9, "uniform", 0.9)
        rng = Rng(9)
        xs, ts = _sequence(rng, "softmax", False, 3, x=3, y=2)
        errs = gradcheck(m, xs, ts, h0=[rng.uniform(-0.5, 0.5) for _ in range(m.S)])
        out[cell] = {"max_rel_err": max(errs.values()), "groups": sorted(errs.keys()), "grads": list(m.grads)}
    return out


SECTIONS = (
    ("rng", section_rng),
    ("rng_normal", section_normal),
    ("init", section_init),
    ("init_normal", section_init_normal),
    ("forward_backward", section_forward_backward),
    ("gradcheck", section_gradcheck),
    ("optim", section_optim),
    ("step", section_step),
    ("diagnostics", section_diagnostics),
    ("trouble", section_trouble),
    ("api", section_api),
    ("gated", section_gated),
    ("gated_gradcheck", section_gated_gradcheck),
)


def run():
    return dict((name, fn()) for name, fn in SECTIONS)


def encode(v):
    """Floats -> "f" + repr (exact round trip), strings -> "s" + text, recursively."""
    if isinstance(v, float):
        return "f" + repr(v)
    if isinstance(v, str):
        return "s" + v
    if isinstance(v, dict):
        return dict((k, encode(x)) for k, x in v.items())
    if isinstance(v, (list, tuple, array)):  # the core's buffers are arrays on MicroPython
        return [encode(x) for x in v]
    return v


if __name__ == "__main__":
    print(json.dumps(encode(run())))
