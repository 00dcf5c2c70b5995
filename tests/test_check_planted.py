"""`tinyrnn check` names each known BPTT mistake planted in a C trainer.

Each case takes the header ``tinyrnn export --train`` generates, plants one
mistake by patching one line of it (the patch must apply exactly once), builds
it with host gcc and the strict warning set, runs forward + backward twice on
one sequence (``passes 2``), prints the dump with ``tinyrnn_dump.h`` and
asserts that the checker's first diagnosis is that mistake -- and that the
unpatched trainer is reported correct.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.export.c_train import trainer_header  # noqa: E402
from tinyrnn.check.verdict import check, report  # noqa: E402
from tinyrnn.check.dump import helper_header, parse  # noqa: E402

# (old line, new line) patches of the generated header, per mistake
LOGITS_EXP = ("tr->z[k] = acc;", "tr->z[k] = expf(acc); /* BUG */")
LOGITS_AS_P = ("for (k = 0; k < NAME_Y_S; ++k) p_t[k] /= sum;", "for (k = 0; k < NAME_Y_S; ++k) p_t[k] = tr->z[k]; /* BUG */")
NO_ONEHOT = ("dz[y[t]] -= 1.0f;", "/* BUG: onehot never subtracted */")
SIGN = ("dz[k] = p_t[k] - y[t * NAME_Y_S + k]; /* dz = p - y */", "dz[k] = y[t * NAME_Y_S + k] - p_t[k]; /* BUG */")
NO_TANH = ("dh_raw[i] = (1.0f - h_t[i] * h_t[i]) * dh[i];", "dh_raw[i] = dh[i]; /* BUG */")
WHH_H = ("dWhh[i * NAME_H_S + j] += dh_raw[i] * h_prev[j];", "{ dWhh[i * NAME_H_S + j] += dh_raw[i] * h_t[j]; (void)h_prev; } /* BUG */")
WHY_H = ("dWhy[k * NAME_H_S + j] += dz[k] * h_t[j];", "dWhy[k * NAME_H_S + j] += dz[k] * h_prev[j]; /* BUG */")
NOT_ZEROED = ("for (k = 0; k < NAME_PARAMS; ++k) tr->grads[k] = 0.0f;", "/* BUG: gradients not zeroed */")
TANH_1_MINUS_H = ("dh_raw[i] = (1.0f - h_t[i] * h_t[i]) * dh[i];", "dh_raw[i] = (1.0f - h_t[i]) * dh[i]; /* BUG */")
NOT_RESET = ("for (i = 0; i < NAME_H_S; ++i) dh_next[i] = 0.0f;", "/* BUG: dh_next not reset */")

# name: (head, input, patches, clip code, declared clip, expected first diagnosis or None for correct)
CASES = {
    "correct_softmax": ("softmax", "token", [], "", None, None),
    "correct_sigmoid": ("sigmoid", "dense", [], "", None, None),
    "correct_mse_declared_norm": ("mse", "dense", [], "NORM", "norm", None),
    "softmax_of_exp": ("softmax", "token", [LOGITS_EXP], "", None, "softmax_of_exp"),
    "logits_as_probs": ("softmax", "dense", [LOGITS_AS_P], "", None, "logits_as_probs"),
    "no_onehot": ("softmax", "token", [NO_ONEHOT], "", None, "no_onehot"),
    "sign": ("sigmoid", "dense", [SIGN], "", None, "sign"),
    "no_tanh_derivative": ("mse", "dense", [NO_TANH], "", None, "no_tanh_derivative"),
    "whh_off_by_one": ("softmax", "token", [WHH_H], "", None, "whh_off_by_one"),
    "why_off_by_one": ("sigmoid", "dense", [WHY_H], "", None, "why_off_by_one"),
    "not_zeroed": ("softmax", "token", [NOT_ZEROED], "", None, "not_zeroed"),
    "dh_next_not_reset": ("mse", "dense", [NOT_RESET], "", None, "dh_next_not_reset"),
    "sigmoid_of_exp": ("sigmoid", "token", [LOGITS_EXP], "", None, "sigmoid_of_exp"),
    "tanh_derivative_1_minus_h": ("softmax", "dense", [TANH_1_MINUS_H], "", None, "tanh_derivative_1_minus_h"),
    "not_zeroed_and_not_reset": ("sigmoid", "token", [NOT_ZEROED, NOT_RESET], "", None, "not_zeroed_and_not_reset"),
    "clip_not_applied": ("mse", "token", [], "THRESHOLD", "norm", "clip_not_applied"),
    "clipped_elementwise": ("softmax", "token", [], "ELEMENTWISE", None, "clipped_elementwise"),
    "clipped_norm": ("sigmoid", "dense", [], "NORM", None, "clipped_norm"),
    "elementwise_declared_norm": ("mse", "dense", [], "ELEMENTWISE", "norm", "clipped_elementwise"),
}

MAIN = """\
#include "NAME_train.h"
#include "tinyrnn_dump.h"
static NAME_trainer_t tr;
static const XT x[] = {XS};
static const YT y[] = {YS};
int main(void)
{
    float loss, c = 0.0f, big = 0.0f;
    int pass, k;
    NAME_init(&tr);
    for (pass = 0; pass < 2; ++pass) {
        loss = NAME_forward(&tr, x, y, NN);
        NAME_backward(&tr, x, y);
    }
    for (k = 0; k < NAME_PARAMS; ++k)
        if (fabsf(tr.grads[k]) > big) big = fabsf(tr.grads[k]);
    CLIP
    tinyrnn_dump_begin(NAME_X_S, NAME_H_S, NAME_Y_S, NAME_HEAD, NAME_INPUT, NN, 2);
    DECLARE
    tinyrnn_dump_floats("Wxh", tr.params + NAME_OFF_WXH, NAME_H_S * NAME_X_S);
    tinyrnn_dump_floats("Whh", tr.params + NAME_OFF_WHH, NAME_H_S * NAME_H_S);
    tinyrnn_dump_floats("bh", tr.params + NAME_OFF_BH, NAME_H_S);
    tinyrnn_dump_floats("Why", tr.params + NAME_OFF_WHY, NAME_Y_S * NAME_H_S);
    tinyrnn_dump_floats("by", tr.params + NAME_OFF_BY, NAME_Y_S);
    DUMPX
    DUMPY
    tinyrnn_dump_floats("dWxh", tr.grads + NAME_OFF_WXH, NAME_H_S * NAME_X_S);
    tinyrnn_dump_floats("dWhh", tr.grads + NAME_OFF_WHH, NAME_H_S * NAME_H_S);
    tinyrnn_dump_floats("dbh", tr.grads + NAME_OFF_BH, NAME_H_S);
    tinyrnn_dump_floats("dWhy", tr.grads + NAME_OFF_WHY, NAME_Y_S * NAME_H_S);
    tinyrnn_dump_floats("dby", tr.grads + NAME_OFF_BY, NAME_Y_S);
    tinyrnn_dump_loss(loss);
    tinyrnn_dump_end();
    (void)c;
    return 0;
}
"""
CLIPS = {
    "": "",
    "ELEMENTWISE": "c = 0.3f * big;\n    NAME_clip_elementwise(&tr, c);",
    "NORM": "c = 0.5f * NAME_grad_norm(&tr);\n    (void)NAME_clip_global_norm(&tr, c);",
    "THRESHOLD": "c = 0.5f * NAME_grad_norm(&tr); /* BUG: declared below, never applied */",
}


def planted_source(name, head, kind, patches, clip, declared, seed):
    """(header text, main.c text) of one planted case."""
    rng = Rng(seed)
    X, H, Y, n = 3, 5, 3, 6
    m = RNN(X, H, Y, n, head)
    init_params(m, rng.next_u64(), "uniform", 0.8)
    for g in ("bh", "by"):
        off = m.layout.groups[g][0]
        for k in range(off, off + m.layout.group_size(g)):
            m.params[k] = rng.uniform(-0.5, 0.5)
    text = trainer_header(m, name, kind)
    for old, new in patches:
        old_n = old.replace("NAME", name)
        assert text.count(old_n) == 1, "patch %r applies %d times" % (old, text.count(old_n))
        text = text.replace(old_n, new.replace("NAME", name))
    if kind == "token":
        xs = ", ".join(str(rng.below(X)) for _ in range(n))
        dumpx = 'tinyrnn_dump_ints("x", x, NN);'
    else:
        xs = ", ".join("%.6ff" % rng.uniform(-1, 1) for _ in range(n * X))
        dumpx = 'tinyrnn_dump_floats("x", x, NN * NAME_X_S);'
    if head == "softmax":
        ys = ", ".join(str(rng.below(Y)) for _ in range(n))
        dumpy = 'tinyrnn_dump_ints("y", y, NN);'
    else:
        ys = ", ".join(("%.1ff" % rng.below(2)) if head == "sigmoid" else ("%.6ff" % rng.uniform(-1, 1)) for _ in range(n * Y))
        dumpy = 'tinyrnn_dump_floats("y", y, NN * NAME_Y_S);'
    main = (
        MAIN.replace("CLIP", CLIPS[clip])
        .replace("DECLARE", 'tinyrnn_dump_clip("%s", c);' % declared if declared else "")
        .replace("DUMPX", dumpx).replace("DUMPY", dumpy)
        .replace("XS", xs).replace("YS", ys)
        .replace("XT", "int" if kind == "token" else "float").replace("YT", "int" if head == "softmax" else "float")
        .replace("NN", str(n)).replace("NAME", name)
    )
    return text, main


def run_planted(name, spec, workdir, seed=7):
    head, kind, patches, clip, declared, _ = spec
    text, main = planted_source(name, head, kind, patches, clip, declared, seed)
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    for fname, body in ((name + "_train.h", text), ("tinyrnn_dump.h", helper_header()), ("main.c", main)):
        with open(os.path.join(d, fname), "w") as f:
            f.write(body)
    r = subprocess.run(["gcc"] + ct.WARN + ["-O2", "main.c", "-o", "prog", "-lm"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, "%s does not build:\n%s" % (name, r.stderr)
    out = subprocess.run([os.path.join(d, "prog")], cwd=d, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    with open(os.path.join(d, "dump.txt"), "w") as f:
        f.write(out)
    return out


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    require_program("gcc")
    work = str(tmp_path_factory.mktemp("planted"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(lambda kv: run_planted(kv[0], kv[1], work), CASES.items()))
    return {name: (out, os.path.join(work, name, "dump.txt")) for name, out in zip(CASES, outs)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_names_the_planted_mistake(name, dumps):
    text, path = dumps[name]
    d = parse(text, path)
    res = check(d)
    expected = CASES[name][5]
    rep = report(d, res)
    if expected is None:
        assert res["correct"], rep
        assert max(res["errors"].values()) < 1e-5, rep  # float32 C against float64: far inside the tolerance
        assert "correct" in rep
        return
    assert not res["correct"], rep
    assert res["matches"], rep
    assert res["matches"][0][0] == expected, rep
    assert res["matches"][0][4] <= 1e-5, rep
    assert "diagnosis:" in rep


def test_output_layer_reasoning_follows_the_review(dumps):
    """The review's example: by and Why wrong, the rest follows, softmax(exp(z))."""
    text, path = dumps["softmax_of_exp"]
    rep = report(parse(text, path), check(parse(text, path)))
    assert "by and Why wrong" in rep and "output layer" in rep, rep
    assert "softmax(exp(z))" in rep, rep
    text, path = dumps["whh_off_by_one"]
    res = check(parse(text, path))
    assert res["wrong"] == ["Whh"], res["errors"]
    assert "previous hidden" in res["pattern"]
    text, path = dumps["no_tanh_derivative"]
    res = check(parse(text, path))
    assert "by" not in res["wrong"] and "Why" not in res["wrong"] and "bh" in res["wrong"]
    assert "tanh backward" in res["pattern"]


def test_cli_exit_status(dumps):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    ok = subprocess.run([sys.executable, "-m", "tinyrnn", "check", dumps["correct_softmax"][1]], env=env, stdout=subprocess.PIPE, universal_newlines=True)
    assert ok.returncode == 0 and "your gradients are correct" in ok.stdout, ok.stdout
    bad = subprocess.run([sys.executable, "-m", "tinyrnn", "check", dumps["not_zeroed"][1]], env=env, stdout=subprocess.PIPE, universal_newlines=True)
    assert bad.returncode == 1 and "not zeroed" in bad.stdout, bad.stdout
