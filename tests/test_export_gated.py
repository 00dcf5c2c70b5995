"""The C header of a GRU, an LSTM or a stack of layers: #defines, the state struct, several models in
one translation unit, PROGMEM, input normalisation, and PyTorch -> C end to end (host)."""

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

import gated_ref as gr  # noqa: E402
from support import require_module, require_program  # noqa: E402

import c_targets as ct  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.export.c import ExportError, f32, fold_normalization, header  # noqa: E402

SHAPES = [("gru", 1), ("gru", 2), ("lstm", 1), ("lstm", 2), ("rnn", 2), ("lstm", 3)]
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def model(cell, layers, X=3, H=5, Y=4, head="softmax", seed=1, scale=0.5):
    m = gr.make(X, H, Y, head, cell, layers)
    gr.random_params(m, Rng(seed), scale)
    return m


def defines(text):
    return {k: v for k, v in re.findall(r"#define (\w+) (\S+)", text)}


def compile_run(tmp_path, headers, main_c, cc="gcc", run=True):
    require_program(cc)
    for name, text in headers.items():
        (tmp_path / (name + ".h")).write_text(text)
    (tmp_path / "main.c").write_text(main_c)
    exe = str(tmp_path / "main")
    r = subprocess.run([cc] + ct.WARN + ["-Wvla", "-O2", "main.c", "-o", exe, "-lm"], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert r.returncode == 0 and r.stdout == "", r.stdout
    return subprocess.run([exe], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout if run else ""


def python_steps(m, xs, dense=True):
    """Logits of ``m`` with float32 weights (float64 math) over inputs ``xs`` from the zero state."""
    f = ct.f32_model(m)
    s, z, out = f.new_state(), [0.0] * m.Y, []
    for x in xs:
        f.step(s, [f32(v) for v in x] if dense else x, z)
        out.append(list(z))
    return out


@pytest.mark.parametrize("cell,layers", SHAPES)
def test_defines_state_size_and_macs(cell, layers, tmp_path):
    X, H, Y = 3, 5, 4
    m = model(cell, layers, X, H, Y)
    d = defines(header(m, "g", "dense"))
    G = GATES[cell]
    assert d["g_CELL"] == '"%s"' % cell and d["g_CELL_ID"] == str({"rnn": 0, "gru": 1, "lstm": 2}[cell])
    assert d["g_LAYERS"] == str(layers) and d["g_GATES"] == str(G)
    macs_token = G * H * H + (layers - 1) * 2 * G * H * H + Y * H
    assert d["g_MACS_PER_STEP_TOKEN"] == "%dL" % macs_token
    assert d["g_MACS_PER_STEP_DENSE"] == d["g_MACS_PER_STEP"] == "%dL" % (macs_token + G * H * X)
    assert d["g_PARAMS"] == "%dL" % m.layout.size and d["g_FLASH_BYTES"] == "%dL" % (4 * m.layout.size)
    state = layers * H * (2 if cell == "lstm" else 1)
    assert d["g_STATE_RAM_BYTES"] == str(4 * state)
    assert d["g_SCRATCH_BYTES"] == str(4 * (G * H + (H if cell == "gru" else 0)))
    out = compile_run(tmp_path, {"g": header(m, "g", "dense")},
                      '#include <stdio.h>\n#include "g.h"\nint main(void) { printf("%d\\n", (int)sizeof(g_state_t)); return 0; }\n')
    assert int(out) == 4 * state


def test_vanilla_one_layer_header_is_unchanged_by_the_cell_arguments():
    a, b = RNN(3, 4, 2, 5, "sigmoid"), RNN(3, 4, 2, 5, "sigmoid", cell="rnn", layers=1)
    init_params(a, 3, "uniform", 0.5)
    b.params[:] = a.params
    assert header(a, "v", "dense") == header(b, "v", "dense")
    assert "v_CELL" not in header(a, "v", "dense") and "float h[v_H_S];" in header(a, "v", "dense")


def test_every_weight_table_is_a_layout_group_in_layout_order():
    m = model("lstm", 2)
    text = header(m, "q", "dense")
    names = re.findall(r"static const float q_(\w+)\[(\d+)\]", text)
    groups = sorted(m.layout.groups.items(), key=lambda kv: kv[1][0])
    assert [n for n, _ in names] == [g for g, _ in groups]
    assert [int(n) for _, n in names] == [m.layout.group_size(g) for g, _ in groups]


HOST_MAIN = """\
#include <stdio.h>
#include <string.h>
#include <stdint.h>
HEADERS
static void put(const float *z, int n)
{
    int k;
    for (k = 0; k < n; ++k) {
        uint32_t u;
        memcpy(&u, &z[k], sizeof u);
        printf("%08x%c", (unsigned)u, k == n - 1 ? '\\n' : ' ');
    }
}
int main(void)
{
    static const float xs[STEPS][3] = { XS };
    int t;
BODY
    return 0;
}
"""


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_models_of_different_cells_share_one_translation_unit(cc, tmp_path):
    """A GRU, a 2-layer LSTM, a 3-layer tanh stack and a vanilla RNN in one .c file: all compile
    warning-free together and each steps as its Python model does."""
    rng = Rng(5)
    models = {"gru1": model("gru", 1, seed=2), "lstm2": model("lstm", 2, seed=3), "rnn3": model("rnn", 3, seed=4),
              "van": model("rnn", 1, seed=6)}
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    body = []
    for n in models:
        body.append("    { %s_state_t s; float z[%s_Y_S]; %s_reset(&s);" % (n, n, n))
        body.append("      for (t = 0; t < %d; ++t) { %s_step(&s, xs[t], z); put(z, %s_Y_S); } }" % (len(xs), n, n))
    main = (HOST_MAIN.replace("HEADERS", "\n".join('#include "%s.h"' % n for n in models))
            .replace("STEPS", str(len(xs))).replace("XS", ", ".join("{%s}" % ", ".join("%.9gf" % f32(v) for v in x) for x in xs))
            .replace("BODY", "\n".join(body)))
    out = compile_run(tmp_path, {n: header(m, n, "dense") for n, m in models.items()}, main, cc).split("\n")
    k = 0
    for n, m in models.items():
        for t, want in enumerate(python_steps(m, xs)):
            got = [ct.bits_f32(int(w, 16)) for w in out[k].split()]
            k += 1
            assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5, (n, t, got, want)


@pytest.mark.parametrize("compiler", ["arm-none-eabi-gcc", "avr-gcc"])
def test_models_of_different_cells_share_one_translation_unit_on_mcu_compilers(compiler, tmp_path):
    require_program(compiler)
    hs = {"gru1": model("gru", 1), "lstm2": model("lstm", 2), "rnn2": model("rnn", 2)}
    for n, m in hs.items():
        (tmp_path / (n + ".h")).write_text(header(m, n, "token", progmem=True))
    calls = "\n".join("    { %s_state_t s; float z[%s_Y_S]; %s_reset(&s); sink += %s_step_token(&s, 1, z) + %s_argmax(z); }"
                      % ((n,) * 5) for n in hs)
    (tmp_path / "use.c").write_text("".join('#include "%s.h"\n' % n for n in hs) + "volatile int sink;\nint main(void)\n{\n%s\n    return 0;\n}\n" % calls)
    target = {"arm-none-eabi-gcc": [["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"], ["-mcpu=cortex-m3", "-mthumb"]],
              "avr-gcc": [["-mmcu=atmega328p"]]}[compiler]
    for flags in target:
        r = subprocess.run([compiler] + flags + ct.WARN + ["-Wvla", "-Os", "-c", "use.c", "-o", "x.o"], cwd=str(tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        assert r.returncode == 0 and r.stdout == "", (flags, r.stdout)


def test_progmem_keeps_gated_weights_out_of_ram(tmp_path):
    """A 2-layer LSTM char model (H = 16, V = 40: 20 KB of weights) runs on the ATmega328P's 2 KB of RAM from flash."""
    require_program("avr-gcc")
    require_program("avr-size")
    m = model("lstm", 2, X=40, H=16, Y=40)
    (tmp_path / "big.h").write_text(header(m, "big", vocab=[chr(48 + k) for k in range(40)], progmem=True))
    (tmp_path / "main.c").write_text("""#include "big.h"
volatile int sink;
int main(void)
{
    big_state_t s;
    float z[big_Y_S];
    big_reset(&s);
    sink = big_step_token(&s, 1, z);
    sink += big_argmax(z) + (int)big_vocab_at(2);
    return 0;
}
""")
    subprocess.run(["avr-gcc", "-mmcu=atmega328p"] + ct.WARN + ["-Os", "main.c", "-o", "m.elf", "-lm"], cwd=str(tmp_path), check=True)
    text, data, bss = ct.sizes("avr", str(tmp_path / "m.elf"))
    assert data + bss < 100
    assert text > 4 * m.layout.size


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 1), ("rnn", 2)])
def test_channel_normalisation_is_folded_into_the_first_layer(cell, layers):
    """The exported model takes raw inputs: on raw x it gives what the trained model gives on (x - mean) / std."""
    m = model(cell, layers, X=3)
    norm = {"mode": "channel", "mean": [10.0, -2.0, 0.5], "std": [4.0, 0.25, 1.0]}
    folded = fold_normalization(m, norm, "dense")
    assert (folded.cell, folded.layers) == (cell, layers)
    rng = Rng(9)
    s1, s2, z1, z2 = m.new_state(), folded.new_state(), [0.0] * m.Y, [0.0] * m.Y
    for _ in range(5):
        x = [norm["mean"][j] + norm["std"][j] * rng.uniform(-2, 2) for j in range(3)]
        m.step(s1, [(x[j] - norm["mean"][j]) / norm["std"][j] for j in range(3)], z1)
        folded.step(s2, x, z2)
        assert max(abs(a - b) for a, b in zip(z1, z2)) < 1e-12
    assert "g_NORMALIZE" in header(m, "g", "dense", normalize=norm)


def test_too_many_gate_rows_is_a_clear_error():
    m = RNN(1, 11000, 1, 1, "softmax", cell="lstm", layers=1)
    with pytest.raises(ExportError, match="gates x H = 44000"):
        header(m, "big", "dense")


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 2)])
def test_pytorch_weights_run_in_c_as_in_pytorch(cell, layers, tmp_path):
    """nn.GRU / nn.LSTM (num_layers 2) + nn.Linear -> the flat layout -> C: the C logits equal PyTorch's (float64)
    to 1e-5 over 20 steps (PyTorch gets the float32-rounded weights)."""
    torch = require_module("torch")
    torch.manual_seed(1)
    X, H, Y, T = 3, 6, 4, 20
    rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](X, H, num_layers=layers, batch_first=True).double()
    lin = torch.nn.Linear(H, Y).double()
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(lin.parameters()):
            p.copy_(p.float().double())
    m = gr.make(X, H, Y, "mse", cell, layers)
    gr.from_torch(m, rnn, lin)
    rng = Rng(4)
    xs = [[f32(rng.uniform(-2, 2)) for _ in range(X)] for _ in range(T)]
    with torch.no_grad():
        want = lin(rnn(torch.tensor([xs], dtype=torch.float64))[0][0]).tolist()
    body = "    { m_state_t s; float z[m_Y_S]; m_reset(&s);\n      for (t = 0; t < %d; ++t) { m_step(&s, xs[t], z); put(z, m_Y_S); } }" % T
    main = (HOST_MAIN.replace("HEADERS", '#include "m.h"').replace("STEPS", str(T))
            .replace("XS", ", ".join("{%s}" % ", ".join("%.9gf" % v for v in x) for x in xs)).replace("BODY", body))
    out = compile_run(tmp_path, {"m": header(m, "m", "dense")}, main).split("\n")
    for t in range(T):
        got = [ct.bits_f32(int(w, 16)) for w in out[t].split()]
        assert max(abs(a - b) for a, b in zip(got, want[t])) < 1e-5, (t, got, want[t])


def test_arduino_library_of_a_trained_gru_prints_the_python_greedy_text(tmp_path):
    """The Arduino library (export/arduino.py) only swaps the header: the demo sketch of the trained GRU
    (tests/data/gated_trained.json) built by arduino-builder prints on simavr what Python's greedy sampling gives."""
    import arduino as ard  # tools/arduino.py

    import gated_cases as gcs
    from tinyrnn.export.arduino import DEMO_LENGTH, write_library
    from tinyrnn.workflow.checkpoint import Checkpoint
    from tinyrnn.workflow.sample import sample_text

    for prog in ard.PROGRAMS:
        require_program(prog)
    m, vocab = [(m, v) for m, v in gcs.trained_models() if m.cell == "gru"][0]
    ck = Checkpoint(m, "token", vocab=vocab, step=400)
    lib = tmp_path / "libs" / "gru"
    write_library(ck, str(lib), "gru")
    assert '#define gru_CELL "gru"' in (lib / "src" / "gru.h").read_text()
    ino = os.path.join(str(lib), "examples", "gru_demo", "gru_demo.ino")
    got = ard.run(ard.build(ino, str(tmp_path / "libs"), str(tmp_path / "build")), b"[send")
    text = sample_text(m, vocab, DEMO_LENGTH, 0.0, None, 0)
    assert len(set(text)) > 3
    assert got == ard.display(text.encode("utf-8") + b"\n" + b"[send a line: it becomes the prime]\r\n")
