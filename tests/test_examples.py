"""The C programs in examples/ build against an exported header with the strict warning
set (gcc and clang, -Werror) and print what Python prints:

- generate.c: greedy text, and a sampled text with a fixed seed equal to
  ``tinyrnn sample --seed S -t T`` -- on a model/prime/seed where no cumulative
  probability lies within 1e-6 of a draw's uniform (asserted: the C sampler sums
  in float32, Python in double, so only such a margin makes the draws provably equal);
- classify.c: the class after every step of streamed series and per series;
- NAME_rng_next is Python's SplitMix64 stream; NAME_sample follows draw() on
  hand-made logits, including temperature 0, ties and the overflow guards.
"""

import json
import math
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import c_targets as ct  # noqa: E402
from support import require_program  # noqa: E402
from test_export_arduino import class_data  # noqa: E402

from tinyrnn import Rng  # noqa: E402
from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.core.model import argmax  # noqa: E402
from tinyrnn.workflow import checkpoint as ckpt_mod  # noqa: E402
from tinyrnn.workflow.datasets import Vocab  # noqa: E402
from tinyrnn.workflow.sample import draw, sample_text  # noqa: E402

EXAMPLES = os.path.join(ROOT, "examples")
MARGIN = 1e-6


def build(src, header_dir, out, cc="gcc"):
    require_program(cc)
    cmd = [cc] + ct.WARN + ["-O2", "-I", header_dir, os.path.join(EXAMPLES, src), "-o", out, "-lm"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    return out


def run(exe, args=(), stdin=""):
    return subprocess.run([exe] + list(args), input=stdin.encode("utf-8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def char_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("gen")
    assert cli_main(["train", "--steps", "200", "--hidden", "16", "--out", str(d), "--quiet"]) == 0
    assert cli_main(["export", str(d / "model.json"), "-o", str(d / "model.h")]) == 0
    return d


@pytest.fixture(scope="module", params=["gcc", "clang"])
def generate(request, char_model):
    return build("generate.c", str(char_model), str(char_model / ("generate-" + request.param)), request.param)


def cli_sample(ckpt, *args):
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "sample", ckpt] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_greedy_text_equals_python(char_model, generate):
    ck = ckpt_mod.load(str(char_model / "model.json"))
    for prime in ("First", "", "Cit"):
        r = run(generate, ["-n", "300", "-t", "0", prime])
        assert r.returncode == 0, r.stderr
        want = cli_sample(str(char_model / "model.json"), "-n", "300", "-t", "0", "--prime", prime)
        assert r.stdout == want
        assert r.stdout.decode("utf-8").rstrip("\n") == sample_text(ck.model, ck.vocab, 300, 0.0, prime or None, 0).rstrip("\n")


def draw_margin(model, prime_ids, n, temperature, seed):
    """Smallest |uniform - cumulative probability| over all draws of Python's sampler."""
    rng = Rng(seed)
    h, z = model.new_state(), [0.0] * model.Y
    for t in prime_ids:
        model.step(h, t, z)
    margin = 1.0
    for _ in range(n):
        probe = Rng(0)
        probe.state = rng.state
        u = probe.uniform()
        zmax = max(z)
        e = [math.exp((v - zmax) / temperature) for v in z]
        total, acc = sum(e), 0.0
        for ek in e[:-1]:
            acc += ek
            margin = min(margin, abs(u - acc / total))
        k = draw(z, temperature, rng)
        model.step(h, k, z)
    return margin


def test_sampled_text_equals_tinyrnn_sample_where_the_margin_allows(char_model, generate):
    ck = ckpt_mod.load(str(char_model / "model.json"))
    prime, n, T = "First Citizen", 300, 0.8
    ids = Vocab(ck.vocab).encode(prime)
    seed = next(s for s in range(20, 60) if draw_margin(ck.model, ids, n, T, s) > MARGIN)
    margin = draw_margin(ck.model, ids, n, T, seed)
    assert margin > MARGIN
    r = run(generate, ["-n", str(n), "-t", str(T), "-s", str(seed), prime])
    assert r.returncode == 0, r.stderr
    want = cli_sample(str(char_model / "model.json"), "-n", str(n), "-t", str(T), "--seed", str(seed), "--prime", prime)
    assert r.stdout == want
    greedy = run(generate, ["-n", str(n), "-t", "0", prime]).stdout
    assert r.stdout != greedy  # it really sampled


def test_generate_rejects_bad_arguments(generate):
    for args, needle in ((["-t", "-1"], b"-t"), (["-n", "x"], b"-n"), (["-t", "nan"], b"-t"), (["-q"], b"unknown"),
                         (["\u4e2d"], b"U+4E2D"), (["a", "b"], b"PRIME"), ([b"\xff".decode("latin-1")], b"")):
        r = subprocess.run([generate] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert r.returncode == 2 and needle in r.stderr, (args, r.stderr)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    d = tmp_path_factory.mktemp("cls")
    class_data(str(d / "series.jsonl"), n=60, T=8, seed=5)
    assert cli_main(["train", str(d / "series.jsonl"), "--head", "softmax", "--steps", "400", "--hidden", "8",
                     "--out", str(d), "--quiet"]) == 0
    assert cli_main(["export", str(d / "model.json"), "-o", str(d / "model.h")]) == 0
    return d


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_streaming_classification_equals_python(classifier, cc):
    exe = build("classify.c", str(classifier), str(classifier / ("classify-" + cc)), cc)
    m = ckpt_mod.load(str(classifier / "model.json")).model
    series = [json.loads(ln)["x"] for ln in (classifier / "series.jsonl").read_text().splitlines()]
    stdin, want, kept, classes = [], [], 0, set()
    for xs in series:
        h, z, lines = m.new_state(), [0.0] * m.Y, []
        ok = True
        for t, x in enumerate(xs):
            m.step(h, x, z)
            top = sorted(z)
            ok = ok and top[-1] - top[-2] > 1e-4  # no near-tie float32 could flip
            lines.append("%d %d" % (t, argmax(z)))
        if not ok:
            continue
        lines.append("series %d: %d after %d steps" % (kept, argmax(z), len(xs)))
        classes.add(argmax(z))
        want += lines
        stdin += [", ".join(repr(v) for v in x) for x in xs] + [""]
        kept += 1
    assert kept >= 30 and len(classes) == 3
    r = run(exe, stdin="\n".join(stdin) + "\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == want
    for bad, needle in (("1 2\n", b"line 1 has 2 numbers"), ("1 2 3\n1 x 3\n", b"line 2"), ("1 2 inf\n", b"line 1")):
        r = run(exe, stdin=bad)
        assert r.returncode == 2 and needle in r.stderr, (bad, r.stderr)


RNG_MAIN = r"""
#include <stdio.h>
#include "model.h"
int main(void)
{
    static const float zs[][4] = {{0.5f, -1.0f, 2.0f, 0.25f}, {1.0f, 1.0f, 1.0f, 1.0f}, {-80.0f, 80.0f, 0.0f, 79.99f}};
    static const float ts[] = {1.0f, 0.5f, 3.0f, 0.0f, -1.0f, 1e-39f};
    uint64_t r = 42, q;
    int i, a, b;
    for (i = 0; i < 4; ++i) printf("%llu\n", (unsigned long long)model_rng_next(&r));
    r = (uint64_t)-1;
    printf("%llu\n", (unsigned long long)model_rng_next(&r));
    for (a = 0; a < 3; ++a)
        for (b = 0; b < 6; ++b) {
            q = 7;
            for (i = 0; i < 20; ++i) printf("%d", model_sample(zs[a], ts[b], &q));
            printf(" %llu\n", (unsigned long long)q);
        }
    return 0;
}
"""


def test_rng_and_sample_follow_python(tmp_path):
    from tinyrnn import RNN
    from tinyrnn.export.c import f32, header

    (tmp_path / "model.h").write_text(header(RNN(4, 2, 4, 1), "model", vocab=list("abcd")))
    (tmp_path / "main.c").write_text(RNG_MAIN)
    require_program("gcc")
    r = subprocess.run(["gcc"] + ct.WARN[1:] + ["-std=gnu99", "-I", str(tmp_path), str(tmp_path / "main.c"), "-o", str(tmp_path / "m"), "-lm"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(tmp_path / "m")], stdout=subprocess.PIPE, universal_newlines=True).stdout.splitlines()
    rng = Rng(42)
    assert [int(v) for v in out[:4]] == [rng.next_u64() for _ in range(4)]
    assert int(out[4]) == Rng(-1).next_u64()
    zs = [[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, 1.0, 1.0], [-80.0, 80.0, 0.0, 79.99]]
    ts = [1.0, 0.5, 3.0, 0.0, -1.0, 1e-39]
    row = 5
    for z in zs:
        for t in ts:
            rng = Rng(7)
            if not t > 0:  # greedy, no draw
                want = str(argmax(z)) * 20
            elif 1.0 / f32(t) > 3.4028234663852886e38:  # 1/t overflows float32: argmax after one draw
                want = "".join(str(argmax(z)) for _ in range(20) if rng.next_u64() >= 0)
            else:
                want = "".join(str(draw([f32(v) for v in z], f32(t), rng)) for _ in range(20))
            assert out[row] == "%s %d" % (want, rng.state), (z, t)
            row += 1
