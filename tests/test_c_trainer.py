"""The generated C trainer header on the host: hygiene, CLI, Adam, clipping, saturation, bad input.

(Agreement with Python on every target: tests/test_c_trainer_targets.py; the
echo task on the ATmega328P: tests/test_c_trainer_echo.py.)
"""

import os
import re
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402

from tinyrnn import RNN, Adam, Rng, clip_elementwise, clip_global_norm, diagnostics, init_params  # noqa: E402
from tinyrnn.export.c import ExportError, c_float, f32  # noqa: E402
from tinyrnn.export.c_train import parse_spec, ram_bytes, trainer_header  # noqa: E402
from tinyrnn.workflow.checkpoint import Checkpoint, save  # noqa: E402

COMBOS = [(h, k) for h in ("softmax", "sigmoid", "mse") for k in ("token", "dense")]


def model(head="softmax", X=4, H=5, Y=3, T=6, seed=1, scale=0.5):
    m = RNN(X, H, Y, T, head)
    init_params(m, seed, "uniform", scale)
    return m


def build_run(tmp_path, header_text, main, cc="gcc", defines=()):
    require_program(cc)
    (tmp_path / "m_train.h").write_text(header_text)
    (tmp_path / "main.c").write_text(main)
    r = subprocess.run([cc] + ct.WARN + list(defines) + ["-O2", "main.c", "-o", "prog", "-lm"], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(tmp_path / "prog")], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return out


def floats(out, key):
    """Values printed as 'key hex hex ...' (float32 bits)."""
    for line in out.splitlines():
        if line.startswith(key + " "):
            return [struct.unpack("<f", struct.pack("<I", int(w, 16)))[0] for w in line.split()[1:]]
    raise AssertionError("no line %r in output:\n%s" % (key, out))


PRINT = """\
#include <stdio.h>
#include <string.h>
#include "m_train.h"
static m_trainer_t tr;
static void put(const char *key, const float *v, int n)
{
    int k;
    printf("%s", key);
    for (k = 0; k < n; ++k) {
        unsigned int u;
        memcpy(&u, v + k, sizeof u);
        printf(" %08x", u);
    }
    printf("\\n");
}
"""


def seq(m, kind, rng, n=None):
    n = n or m.T
    xs = [rng.below(m.X) for _ in range(n)] if kind == "token" else [[f32(rng.uniform(-1, 1)) for _ in range(m.X)] for _ in range(n)]
    if m.head == "softmax":
        ys = [rng.below(m.Y) for _ in range(n)]  # type: list
    elif m.head == "sigmoid":
        ys = [[float(rng.below(2)) for _ in range(m.Y)] for _ in range(n)]
    else:
        ys = [[f32(rng.uniform(-1, 1)) for _ in range(m.Y)] for _ in range(n)]
    return xs, ys


def c_arrays(m, kind, xs, ys):
    if kind == "token":
        cx = "static const int x[] = {%s};" % ", ".join(map(str, xs))
    else:
        cx = "static const float x[] = {%s};" % ", ".join(c_float(v) for row in xs for v in row)
    if m.head == "softmax":
        cy = "static const int y[] = {%s};" % ", ".join(map(str, ys))
    else:
        cy = "static const float y[] = {%s};" % ", ".join(c_float(v) for row in ys for v in row)
    return cx + "\n" + cy + "\n"


def f32_copy(m):
    c = RNN(m.X, m.H, m.Y, m.T, m.head)
    c.params[:] = [f32(v) for v in m.params]
    return c


# ------------------------------------------------------------------ hygiene
@pytest.mark.parametrize("head,kind", COMBOS)
def test_header_is_self_contained_and_strict_clean(head, kind, tmp_path):
    m = model(head)
    text = trainer_header(m, "m", kind)
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    assert "malloc" not in code and "alloca" not in code
    for line in code.splitlines():  # file scope: only static functions, types, the const weights
        if line and not line[0].isspace():
            assert line.startswith(("#", "m_TAPI_", "typedef", "}", "{", "static const float m_init_params")), line
    assert "float z[m_Y_S];" in text and "float p[m_T * m_Y_S];" in text  # logits and probabilities apart
    assert "#define m_RAM_BYTES" in text and "#define m_T 6" in text
    main = '#include "m_train.h"\nint main(void)\n{\n    static m_trainer_t tr;\n    m_init(&tr);\n    return (int)sizeof tr > m_RAM_BYTES;\n}\n'
    for cc in ("gcc", "clang"):
        build_run(tmp_path, text, main, cc)
        build_run(tmp_path, text, main, cc, ["-Dm_ADAM=1"])


@pytest.mark.parametrize("target", ["m4f", "m3", "avr"])
def test_cross_compilers_strict_clean_with_and_without_adam(target, tmp_path):
    """Compile only: every head and input kind, SGD and Adam, -Werror with the cross compilers."""
    cc, cflags, _ = ct.flags(target)
    require_program(cc)
    main = '#include "m_train.h"\nvoid go(void);\nvoid go(void)\n{\n    static m_trainer_t tr;\n    m_init(&tr);\n}\n'
    for head, kind in COMBOS:
        (tmp_path / "m_train.h").write_text(trainer_header(model(head), "m", kind, progmem=True))
        (tmp_path / "u.c").write_text(main)
        for extra in ([], ["-Dm_ADAM=1"]):
            r = subprocess.run([cc] + cflags + extra + ["-c", "u.c", "-o", "u.o"], cwd=str(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
            assert r.returncode == 0, (head, kind, extra, r.stderr)


def test_ram_bytes_define_matches_sizeof(tmp_path):
    m = RNN(1, 8, 1, 25, "sigmoid")
    main = '#include <stdio.h>\n#include "m_train.h"\nint main(void)\n{\n    printf("%lu\\n", (unsigned long)sizeof(m_trainer_t));\n    return 0;\n}\n'
    out = build_run(tmp_path, trainer_header(m, "m", "dense"), main)
    size = int(out)
    assert size <= ram_bytes(1, 8, 1, 25) <= size + 16
    assert ram_bytes(1, 8, 1, 25) < 2048 - 200  # the echo trainer leaves room on an ATmega328P
    assert ram_bytes(1, 8, 1, 25, adam=True) > 2048  # Adam does not fit there: behind a #define


def test_name_dims_and_spec_errors():
    m = model()
    for bad in ("1abc", "int", "__x", "a*/b", "x" * 41):
        with pytest.raises(ExportError):
            trainer_header(m, bad)
    with pytest.raises(ExportError):
        trainer_header(m, "m", "sparse")
    with pytest.raises(ExportError, match="too large"):
        trainer_header(RNN(2, 200, 2, 200, "mse"), "m", "dense")
    assert parse_spec("1,8,1,25,sigmoid") == (1, 8, 1, 25, "sigmoid", "dense")
    assert parse_spec("65, 32, 65, 25, softmax, token") == (65, 32, 65, 25, "softmax", "token")
    for bad, msg in (("1,8,1", "expected X,H,Y,T"), ("1,8,1,x,mse", "T = 'x'"), ("1,0,1,2,mse", "H = 0"),
                     ("1,8,1,25,relu", "head 'relu'"), ("1,8,1,25,mse,sparse", "input 'sparse'"),
                     ("1,100000,1,2,mse", "too large"), ("1,8,1,100000,mse", "(T+1)*H = 800008")):
        with pytest.raises(ExportError, match=re.escape(msg)):
            parse_spec(bad)


def _cli(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "tinyrnn"] + list(args), env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_cli_export_train_from_checkpoint_and_spec(tmp_path):
    m = model("softmax", X=5, H=4, Y=5, T=7)
    save(str(tmp_path / "ck.json"), Checkpoint(m, "token", vocab=list("abcde")))
    r = _cli("export", str(tmp_path / "ck.json"), "--train", "-o", str(tmp_path / "t.h"), "--name", "kws")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "t.h").read_text()
    assert "#define kws_T 7" in text and "kws_HEAD_SOFTMAX 1" in text and "kws_INPUT_TOKEN 1" in text
    assert text == trainer_header(m, "kws", "token", source="ck.json")
    r = _cli("export", str(tmp_path / "ck.json"), "--train", "--t", "3", "-o", str(tmp_path / "t3.h"))
    assert r.returncode == 0 and "#define model_T 3" in (tmp_path / "t3.h").read_text()
    r = _cli("export", "--train", "--spec", "1,8,1,25,sigmoid,dense", "--seed", "1", "-o", str(tmp_path / "e.h"), "--name", "echo")
    assert r.returncode == 0, r.stderr
    assert "RAM <= %d bytes (SGD)" % ram_bytes(1, 8, 1, 25) in r.stdout
    e = RNN(1, 8, 1, 25, "sigmoid")
    init_params(e, 1, "xavier")
    assert (tmp_path / "e.h").read_text() == trainer_header(e, "echo", "dense", source="spec 1,8,1,25,sigmoid,dense, xavier init, seed 1, scale 1")
    for args, msg in (
        (["--train", "-o", "x.h"], "exactly one of CKPT or --spec"),
        ([str(tmp_path / "ck.json"), "--train", "--spec", "1,1,1,1,mse", "-o", "x.h"], "exactly one of CKPT or --spec"),
        (["--train", "--spec", "1,8,1", "-o", "x.h"], "expected X,H,Y,T"),
        (["--train", "--spec", "1,8,1,25,mse", "--name", "int", "-o", "x.h"], "C keyword"),
        ([str(tmp_path / "missing.json"), "--train", "-o", "x.h"], "missing.json"),
        (["--spec", "1,8,1,25,mse", "-o", "x.h"], "CKPT is required"),
        ([str(tmp_path / "ck.json"), "--train", "--arduino", "lib"], "give -o FILE, without --arduino"),
        ([str(tmp_path / "ck.json"), "--train", "--format", "micropython", "-o", "x.py"], "without --arduino or --format micropython"),
        ([str(tmp_path / "ck.json"), "--train", "-o", str(tmp_path / "ck.json")], "ck.json"),
    ):
        r = _cli("export", *args, cwd=str(tmp_path))
        assert r.returncode == 2 and msg in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
    assert not (tmp_path / "x.h").exists()


# ------------------------------------------------------------ the arithmetic
def test_adam_clipping_and_panel_match_python(tmp_path):
    """5 Adam steps (with -Dm_ADAM=1), then elementwise clipping, against tinyrnn.core."""
    rng = Rng(9)
    m = model("sigmoid", X=3, H=4, Y=2, T=5, seed=3, scale=0.8)
    xs, ys = seq(m, "dense", rng)
    main = PRINT + c_arrays(m, "dense", xs, ys) + """\
int main(void)
{
    float loss = 0.0f, norm;
    int s;
    m_init(&tr);
    for (s = 0; s < 5; ++s) {
        loss = m_forward(&tr, x, y, 5);
        m_backward(&tr, x, y);
        m_adam(&tr, 0.01f, 0.9f, 0.999f, 1e-8f);
    }
    put("adam", tr.params, m_PARAMS);
    put("ratio", &tr.panel.update_ratio, 1);
    loss = m_forward(&tr, x, y, 5);
    m_backward(&tr, x, y);
    put("loss", &loss, 1);
    put("panel", &tr.panel.mean_abs_h, 5);
    m_clip_elementwise(&tr, 0.05f);
    put("clipped", tr.grads, m_PARAMS);
    m_backward(&tr, x, y);
    norm = m_clip_global_norm(&tr, 0.1f);
    put("norm", &norm, 1);
    put("scaled", tr.grads, m_PARAMS);
    return 0;
}
"""
    out = build_run(tmp_path, trainer_header(m, "m", "dense"), main, defines=["-Dm_ADAM=1"])
    p = f32_copy(m)
    opt = Adam(p.num_params, f32(0.01), 0.9, 0.999, 1e-8)
    for _ in range(5):
        p.forward(xs, ys)
        p.backward()
        before = list(p.params)
        opt.step(p.params, p.grads)
    got = floats(out, "adam")
    assert max(abs(a - b) for a, b in zip(got, p.params)) <= 1e-5
    ratio = sum((a - b) ** 2 for a, b in zip(p.params, before)) ** 0.5 / sum(b * b for b in before) ** 0.5
    assert abs(floats(out, "ratio")[0] - ratio) <= 1e-4 * ratio
    p.params[:] = [f32(v) for v in got]  # continue from the C weights
    loss = p.forward(xs, ys)
    p.backward()
    assert abs(floats(out, "loss")[0] - loss) <= 1e-5 * max(1.0, loss)
    d = diagnostics(p)
    for k, v in zip(("mean_abs_h", "sat_ratio", "dh_norm", "dh_raw_norm", "grad_norm"), floats(out, "panel")):
        assert abs(v - d[k]) <= 1e-5 * max(1.0, abs(d[k])), (k, v, d[k])
    g = list(p.grads)
    clip_elementwise(g, f32(0.05))
    assert max(abs(a - b) for a, b in zip(floats(out, "clipped"), g)) <= 1e-6
    assert max(abs(v) for v in floats(out, "clipped")) == f32(0.05)
    g = list(p.grads)
    norm = clip_global_norm(g, f32(0.1))
    assert abs(floats(out, "norm")[0] - norm) <= 1e-5 * norm and norm > 0.1
    scaled = floats(out, "scaled")
    assert abs(sum(v * v for v in scaled) ** 0.5 - f32(0.1)) <= 1e-6
    assert max(abs(a - b) for a, b in zip(scaled, g)) <= 1e-6


def test_saturation_and_exploding_gradients_on_the_panel(tmp_path):
    """Weights of +-10: the tanh sits on its rails (sat_ratio 1, dh_raw << dh); huge targets make a
    huge gradient that global-norm clipping brings back to c."""
    rng = Rng(4)
    m = model("mse", X=3, H=6, Y=2, T=8, seed=6, scale=10.0)
    xs, _ = seq(m, "dense", rng)
    ys = [[1e6, -1e6] for _ in range(8)]
    main = PRINT + c_arrays(m, "dense", xs, ys) + """\
int main(void)
{
    float loss, norm;
    m_init(&tr);
    loss = m_forward(&tr, x, y, 8);
    m_backward(&tr, x, y);
    put("loss", &loss, 1);
    put("panel", &tr.panel.mean_abs_h, 5);
    norm = m_clip_global_norm(&tr, 5.0f);
    put("norm", &norm, 1);
    put("clipped", tr.grads, m_PARAMS);
    return 0;
}
"""
    out = build_run(tmp_path, trainer_header(m, "m", "dense"), main)
    p = f32_copy(m)
    p.forward(xs, ys)
    p.backward()
    d = diagnostics(p)
    panel = dict(zip(("mean_abs_h", "sat_ratio", "dh_norm", "dh_raw_norm", "grad_norm"), floats(out, "panel")))
    assert abs(panel["sat_ratio"] - d["sat_ratio"]) <= 1e-7 and panel["sat_ratio"] > 0.9
    assert panel["mean_abs_h"] > 0.9
    assert panel["dh_raw_norm"] < 0.05 * panel["dh_norm"]  # the rails kill the gradient
    for k in panel:
        assert abs(panel[k] - d[k]) <= 1e-4 * max(1.0, abs(d[k])), (k, panel[k], d[k])
    assert floats(out, "norm")[0] > 1e6
    assert abs(sum(v * v for v in floats(out, "clipped")) ** 0.5 - 5.0) <= 1e-5


def test_bad_input_returns_minus_one_and_carry(tmp_path):
    m = model("softmax", X=4, H=3, Y=3, T=4)
    main = PRINT + """\
int main(void)
{
    static const int x[] = {0, 1, 2, 3}, y[] = {0, 1, 2, 0};
    static const int bad_x[] = {0, 4, 1, 1}, bad_y[] = {0, 1, -1, 0};
    float r[6];
    float h4[m_H_S];
    m_init(&tr);
    r[0] = m_forward(&tr, x, y, 0);
    r[1] = m_forward(&tr, x, y, 5);
    r[2] = m_forward(&tr, bad_x, y, 4);
    r[3] = m_forward(&tr, x, bad_y, 4);
    r[4] = (float)tr.n;
    r[5] = m_forward(&tr, x, y, 4);
    put("r", r, 6);
    memcpy(h4, tr.h + 4 * m_H_S, sizeof h4);
    m_carry(&tr);
    put("h0", tr.h, m_H_S);
    put("h4", h4, m_H_S);
    m_reset_state(&tr);
    put("h0r", tr.h, m_H_S);
    return 0;
}
"""
    out = build_run(tmp_path, trainer_header(m, "m", "token"), main)
    r = floats(out, "r")
    assert r[:4] == [-1.0, -1.0, -1.0, -1.0] and r[4] == 0.0
    p = f32_copy(m)
    assert abs(r[5] - p.forward([0, 1, 2, 3], [0, 1, 2, 0])) <= 1e-5
    assert floats(out, "h0") == floats(out, "h4") and any(v != 0.0 for v in floats(out, "h4"))
    assert floats(out, "h0r") == [0.0] * 3

