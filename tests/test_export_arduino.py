"""``tinyrnn export CKPT --arduino DIR``: the library's files, and its demo sketch built
for the Arduino Uno (Debian's arduino-core-avr + arduino-builder) and run under simavr
(ATmega328P, 16 MHz): its Serial output equals the Python model's -- the greedy text
of a char model, the predicted classes of a classifier."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import arduino as ard  # noqa: E402  (tools/arduino.py)
from support import require_program  # noqa: E402

from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.core.model import argmax  # noqa: E402
from tinyrnn.export.arduino import DEMO_LENGTH  # noqa: E402
from tinyrnn.workflow import checkpoint as ckpt_mod  # noqa: E402
from tinyrnn.workflow.sample import sample_text  # noqa: E402

REQUIRED = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url", "architectures")
CATEGORIES = ("Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
              "Data Storage", "Data Processing", "Other")


@pytest.fixture(scope="module")
def char_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("char")
    assert cli_main(["train", "--steps", "150", "--hidden", "12", "--out", str(d), "--quiet"]) == 0
    return str(d / "model.json")


def class_data(path, n=40, T=6, seed=3):
    """Three channels; the class is the channel with the largest sum."""
    from tinyrnn import Rng

    rng = Rng(seed)
    with open(path, "w") as f:
        for _ in range(n):
            xs = [[round(rng.uniform(-1, 1), 3) for _ in range(3)] for _ in range(T)]
            sums = [sum(x[c] for x in xs) for c in range(3)]
            f.write(json.dumps({"x": xs, "y_final": sums.index(max(sums))}) + "\n")


@pytest.fixture(scope="module")
def class_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("cls")
    class_data(str(d / "series.jsonl"))
    assert cli_main(["train", str(d / "series.jsonl"), "--head", "softmax", "--steps", "300", "--hidden", "8",
                     "--out", str(d / "out"), "--quiet"]) == 0
    return str(d / "out" / "model.json"), str(d / "series.jsonl")


def props(path):
    out = {}
    for line in open(path, encoding="ascii").read().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k] = v
    return out


def test_library_has_every_file_and_field(char_ckpt, tmp_path):
    lib = tmp_path / "libs" / "shakes"
    assert cli_main(["export", char_ckpt, "--arduino", str(lib), "--name", "shakes"]) == 0
    files = sorted(os.path.relpath(os.path.join(dp, f), str(lib)) for dp, _, fs in os.walk(str(lib)) for f in fs)
    assert files == ["examples/shakes_demo/shakes_demo.ino", "keywords.txt", "library.json", "library.properties", "src/shakes.h"]
    p = props(str(lib / "library.properties"))
    for k in REQUIRED:
        assert p.get(k), k
    assert p["name"] == "shakes" and p["category"] in CATEGORIES and p["includes"] == "shakes.h"
    assert p["version"].count(".") == 2 and all(v.isdigit() for v in p["version"].split("."))
    manifest = json.loads((lib / "library.json").read_text())
    assert manifest["name"] == "shakes" and manifest["version"] == p["version"] and manifest["headers"] == "shakes.h"
    kw = [ln.split("\t") for ln in (lib / "keywords.txt").read_text().splitlines() if not ln.startswith("#")]
    assert ["shakes_state_t", "KEYWORD1"] in kw and ["shakes_sample", "KEYWORD2"] in kw and ["shakes_token_of", "KEYWORD2"] in kw
    h = (lib / "src" / "shakes.h").read_text()
    assert h.startswith("/* shakes.h -- ") and "#define shakes_USE_PROGMEM 1 /* exported with --progmem */" in h
    ino = (lib / "examples" / "shakes_demo" / "shakes_demo.ino").read_text()
    assert "#include <shakes.h>" in ino and "shakes_sample(z, shakes_DEMO_TEMPERATURE, &rng)" in ino


def test_bad_arduino_targets_are_one_line_errors(char_ckpt, tmp_path):
    def run(*args, usage=False):
        r = subprocess.run([sys.executable, "-m", "tinyrnn", "export", char_ckpt] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.strip().splitlines()
        if usage:  # argparse: the usage, then one error line
            assert lines[0].startswith("usage:"), r.stderr
        else:
            assert len(lines) == 1, r.stderr
        return lines[-1]
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert "not empty" in run("--arduino", str(full))
    assert (full / "keep.txt").read_text() == "mine" and os.listdir(str(full)) == ["keep.txt"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "not a directory" in run("--arduino", str(afile))
    assert "not a directory" in run("--arduino", str(afile / "lib"))
    assert "C identifier" in run("--arduino", str(tmp_path / "new"), "--name", "my-lib")
    assert "keyword" in run("--arduino", str(tmp_path / "new"), "--name", "int")
    assert "not allowed with" in run("--arduino", str(tmp_path / "new"), "-o", str(tmp_path / "m.h"), usage=True)
    assert "required" in run(usage=True)
    (tmp_path / "bad.json").write_text("{")
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "export", str(tmp_path / "bad.json"), "--arduino", str(tmp_path / "new")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 2 and "bad.json" in r.stderr
    assert not (tmp_path / "new").exists() and [f for f in os.listdir(str(tmp_path)) if f.startswith(".")] == []
    empty = tmp_path / "empty"
    empty.mkdir()  # an existing empty directory is fine
    assert cli_main(["export", char_ckpt, "--arduino", str(empty)]) == 0
    assert (empty / "src" / "model.h").exists()


def _simavr_lines(lib, tmp_path):
    for prog in ard.PROGRAMS:
        require_program(prog)
    name = os.path.basename(str(lib))
    ino = os.path.join(str(lib), "examples", name + "_demo", name + "_demo.ino")
    elf = ard.build(ino, os.path.dirname(str(lib)), str(tmp_path / "build"))
    return ard.run(elf, b"[send")


def test_char_sketch_on_simavr_prints_the_python_greedy_text(char_ckpt, tmp_path):
    lib = tmp_path / "libs" / "tiny"
    assert cli_main(["export", char_ckpt, "--arduino", str(lib), "--name", "tiny"]) == 0
    got = _simavr_lines(lib, tmp_path)
    ck = ckpt_mod.load(char_ckpt)
    text = sample_text(ck.model, ck.vocab, DEMO_LENGTH, 0.0, None, 0)
    assert len(set(text)) > 3  # a real text, not one repeated character
    want = ard.display(text.encode("utf-8") + b"\n" + b"[send a line: it becomes the prime]\r\n")
    assert got == want


def test_classifier_sketch_on_simavr_prints_the_python_classes(class_ckpt, tmp_path):
    path, data = class_ckpt
    lib = tmp_path / "libs" / "cls"
    assert cli_main(["export", path, "--arduino", str(lib), "--name", "cls"]) == 0
    ck = ckpt_mod.load(path)
    m = ck.model
    want = []
    for k, line in enumerate(open(data).read().splitlines()[:3]):
        h, z = m.new_state(), [0.0] * m.Y
        for x in json.loads(line)["x"]:
            m.step(h, x, z)
        top = sorted(z)
        assert top[-1] - top[-2] > 1e-4  # no near-tie that float32 could flip
        want.append(b"sample %d: class %d.." % (k, argmax(z)))
    got = _simavr_lines(lib, tmp_path)
    assert got[:-1] == want
    assert got[-1] == b"[send a series: one step per line, 3 numbers; an empty line ends it].."


# ---------------------------------------------- the sketches' Serial input, on the host
FAKE_ARDUINO = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#define F(s) (s)
struct FakeSerial {  /* the part of Arduino's Serial the demo sketches use; input from a buffer */
    const char *in;
    size_t pos;
    void begin(long) {}
    int available() { return in[pos] ? 1 : 0; }
    int read() { return in[pos] ? (unsigned char)in[pos++] : -1; }
    size_t write(uint8_t c) { putchar(c); return 1; }
    size_t print(const char *s) { return (size_t)fputs(s, stdout); }
    size_t print(char c) { putchar(c); return 1; }
    size_t print(int v) { return (size_t)printf("%d", v); }
    size_t print(double v, int d) { return (size_t)printf("%.*f", d, v); }
    size_t println() { return (size_t)fputs("\r\n", stdout); }
    size_t println(const char *s) { return print(s) + println(); }
    size_t println(int v) { return print(v) + println(); }
};
extern FakeSerial Serial;
void setup();
void loop();
"""

FAKE_MAIN = r"""
FakeSerial Serial;
static char input[1 << 16];
int main(void)
{
    size_t n = fread(input, 1, sizeof input - 1, stdin);
    input[n] = 0;
    Serial.in = input;
    setup();
    while (Serial.available()) loop();
    return 0;
}
"""


def host_sketch(lib, tmp_path, stdin, flags=()):
    require_program("g++")
    name = os.path.basename(str(lib))
    (tmp_path / "fake_arduino.h").write_text(FAKE_ARDUINO)
    (tmp_path / "main.cpp").write_text(FAKE_MAIN)
    ino = os.path.join(str(lib), "examples", name + "_demo", name + "_demo.ino")
    exe = str(tmp_path / "sketch")
    cmd = ["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-I", os.path.join(str(lib), "src"),
           "-include", str(tmp_path / "fake_arduino.h"), "-x", "c++", ino, "-x", "c++", str(tmp_path / "main.cpp"), "-o", exe, "-lm"]
    r = subprocess.run(cmd + list(flags), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    return subprocess.run([exe], input=stdin.encode("utf-8"), stdout=subprocess.PIPE, check=True).stdout


def test_char_sketch_takes_primes_over_serial(char_ckpt, tmp_path):
    lib = tmp_path / "libs" / "tiny"
    assert cli_main(["export", char_ckpt, "--arduino", str(lib), "--name", "tiny"]) == 0
    ck = ckpt_mod.load(char_ckpt)
    absent = next(c for c in "~#@%$" if c not in ck.vocab)
    got = host_sketch(lib, tmp_path, "First\nCit\r\n\n%s%s\nth%se\n" % (absent, absent, absent))
    gen = lambda prime: sample_text(ck.model, ck.vocab, DEMO_LENGTH, 0.0, prime, 0)  # noqa: E731
    want = (gen(None) + "\n[send a line: it becomes the prime]\r\n" + gen("First") + "\n" + gen("Cit") + "\n"
            + absent * 2 + "\r\n[no character of that line is in the vocabulary]\r\n"
            + "th" + absent + gen("the")[2:] + "\n")  # a character outside the vocabulary is echoed and skipped
    assert got.decode("utf-8") == want


def test_classifier_sketch_takes_a_series_over_serial(class_ckpt, tmp_path):
    path, data = class_ckpt
    lib = tmp_path / "libs" / "cls"
    assert cli_main(["export", path, "--arduino", str(lib), "--name", "cls"]) == 0
    m = ckpt_mod.load(path).model
    rows = [json.loads(line)["x"] for line in open(data).read().splitlines()[5:9]]
    stdin, want = "", []
    for xs in rows:
        h, z = m.new_state(), [0.0] * m.Y
        for x in xs:
            m.step(h, x, z)
        stdin += "".join("%r, %r %r\n" % tuple(x) for x in xs) + "\r\n"
        want.append("class %d" % argmax(z))
    stdin += "1 2\n\n"
    got = host_sketch(lib, tmp_path, stdin).decode().split("\r\n")
    assert got[3] == "[send a series: one step per line, 3 numbers; an empty line ends it]"
    assert got[4:8] == want
    assert got[8] == "[expected 3 numbers on the line; step ignored]"


def test_sampled_sketch_on_simavr_matches_tinyrnn_sample(char_ckpt, tmp_path):
    """The demo built with a temperature and a seed: the AVR draws what Python draws
    (on a seed where every draw's uniform is more than 1e-5 from every cumulative probability)."""
    from test_examples import draw_margin
    from tinyrnn.workflow.datasets import Vocab
    from tinyrnn.workflow.sample import default_prime

    for prog in ard.PROGRAMS:
        require_program(prog)
    ck = ckpt_mod.load(char_ckpt)
    ids = Vocab(ck.vocab).encode(default_prime(ck.vocab))
    seed = next(s for s in range(1, 40) if draw_margin(ck.model, ids, DEMO_LENGTH, 0.8, s) > 1e-5)
    assert draw_margin(ck.model, ids, DEMO_LENGTH, 0.8, seed) > 1e-5
    lib = tmp_path / "libs" / "tiny"
    assert cli_main(["export", char_ckpt, "--arduino", str(lib), "--name", "tiny"]) == 0
    ino = os.path.join(str(lib), "examples", "tiny_demo", "tiny_demo.ino")
    flags = "-DDECIMAL_DIG=17 -Dtiny_DEMO_TEMPERATURE=0.8f -Dtiny_DEMO_SEED=%d" % seed
    got = ard.run(ard.build(ino, os.path.dirname(str(lib)), str(tmp_path / "build"), flags), b"[send")
    text = sample_text(ck.model, ck.vocab, DEMO_LENGTH, 0.8, None, seed)
    assert text != sample_text(ck.model, ck.vocab, DEMO_LENGTH, 0.0, None, 0)
    assert got == ard.display(text.encode("utf-8") + b"\n" + b"[send a line: it becomes the prime]\r\n")


@pytest.mark.parametrize("head,kind", [("softmax", "token"), ("sigmoid", "dense"), ("mse", "dense"), ("sigmoid", "token")])
def test_series_sketch_for_every_head_and_input_without_samples(tmp_path, head, kind):
    """No training file to take samples from: the sketch still builds, and reads a series over Serial."""
    from tinyrnn import RNN, init_params

    m = RNN(3, 4, 2, 1, head)
    init_params(m, 5, "uniform", 0.8)
    ckpt_mod.save(str(tmp_path / "m.json"), ckpt_mod.Checkpoint(m, kind, None, step=1))
    lib = tmp_path / "libs" / "net"
    assert cli_main(["export", str(tmp_path / "m.json"), "--arduino", str(lib), "--name", "net"]) == 0
    xs = [2, 0, 1] if kind == "token" else [[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]]
    h, z = m.new_state(), [0.0] * m.Y
    for x in xs:
        m.step(h, x, z)
    stdin = "".join(("%d\n" % x) if kind == "token" else ("%r %r %r\n" % tuple(x)) for x in xs) + "\n"
    got = host_sketch(lib, tmp_path, stdin).decode().split("\r\n")
    width = 1 if kind == "token" else 3
    assert got[0] == "[send a series: one step per line, %d numbers; an empty line ends it]" % width
    if head == "softmax":
        assert got[1] == "class %d" % argmax(z)
    elif head == "sigmoid":
        assert got[1] == "class " + " ".join("1" if v > 0 else "0" for v in z)
    else:
        assert got[1].startswith("output ") and [float(v) for v in got[1].split()[1:]] == pytest.approx(z, abs=2e-6)
