"""tools/bench_train.py must not rot: its correctness checks and a tiny run.

No timing is asserted here (speed goals are read from the benchmark's own
ratios); these tests check that the benchmark's NumPy and PyTorch references
compute what tinyrnn computes, that the check would catch a difference, and
that the command line runs end to end.
"""

import importlib.util
import os
import sys

import pytest

from support import ROOT, require_module

spec = importlib.util.spec_from_file_location("bench_train", os.path.join(ROOT, "tools", "bench_train.py"))
bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(bench)  # type: ignore[union-attr]


def test_generated_corpus_has_65_symbols_and_is_deterministic():
    text = bench.make_corpus()
    assert len(text) == bench.CORPUS_CHARS
    assert set(text) == set(bench.ALPHABET) and len(bench.ALPHABET) == 65
    assert bench.make_corpus() == text
    V, chunks = bench.make_chunks(text)
    assert V == 65
    assert len(chunks) == (len(text) - 1) // bench.T
    xs, ys = chunks[3]
    assert len(xs) == len(ys) == 25 and xs[1:] == ys[:-1]


@pytest.mark.parametrize("H", [3, 8])
def test_numpy_reference_matches_tinyrnn(H):
    require_module("numpy")
    V, chunks = bench.make_chunks(bench.make_corpus())
    err = bench.check_numpy(V, H, chunks[:3], bench.initial_params(V, H))
    assert err <= bench.TOL


def test_numpy_reference_matches_with_clipping_active():
    """Gradients beyond [-5, 5] (a repetitive text, large weights) are clipped identically."""
    require_module("numpy")
    V, chunks = bench.make_chunks("aaaaaaaaab" * 30)
    big = [50.0 * w for w in bench.initial_params(V, 8)]
    big[-2:] = [-10.0, 10.0]  # by: predict 'b' where the text says 'a' -> dby[a] ~ -22
    assert bench.check_numpy(V, 8, chunks[:3], big) <= bench.TOL
    t = bench.TinyTrainer(V, 8, chunks, big)
    t.step()
    assert max(map(abs, t.m.grads)) == bench.CLIP  # clipping was active


@pytest.mark.parametrize(
    "trainer, group, name",
    [("NumpyTrainer", 1, "numpy"), ("NumpyMatmulTrainer", 3, "numpy-matmul")],  # dWhh; dWhy (a product over the chunk)
)
def test_numpy_check_catches_a_difference(monkeypatch, trainer, group, name):
    require_module("numpy")
    V, chunks = bench.make_chunks(bench.make_corpus())
    cls = getattr(bench, trainer)
    real = cls.lossFun

    def off_by_a_little(self, inputs, targets, hprev):  # type: ignore[no-untyped-def]
        loss, grads, h = real(self, inputs, targets, hprev)
        grads[group][0, 1] += 1e-7  # one element
        return loss, grads, h

    monkeypatch.setattr(cls, "lossFun", off_by_a_little)
    with pytest.raises(AssertionError, match="%s iteration 1: grads differs" % name):
        bench.check_numpy(V, 4, chunks[:3], bench.initial_params(V, 4))


def test_torch_reference_matches_tinyrnn():
    torch = require_module("torch")
    V, chunks = bench.make_chunks(bench.make_corpus())
    for H in (3, 8):
        assert bench.check_torch(torch, V, H, chunks[:3], bench.initial_params(V, H)) <= bench.TOL


def test_trainers_learn():
    """A few hundred iterations on a tiny repetitive corpus lower the loss (sanity of the loop)."""
    V, chunks = bench.make_chunks("abcdefgh" * 40)
    t = bench.TinyTrainer(V, 8, chunks, bench.initial_params(V, 8))
    t.step()
    first = t.loss
    t.run(150)
    assert first > 40.0 and t.loss < 0.2 * first


def test_quick_run_prints_a_table(tmp_path, capsys):
    md = tmp_path / "table.md"
    rc = bench.main(["--hidden", "4", "--seconds", "0.01", "--rounds", "2", "--no-torch", "--markdown", str(md)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "PyTorch: left out (--no-torch)" in out
    row = [line for line in out.splitlines() if line.startswith("| 4 |")]
    assert len(row) == 1
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert float(cells[1]) > 0  # tinyrnn it/s
    text = md.read_text()
    assert "| H |" in text and "| 4 |" in text


def test_floor_row_times_the_primitives_and_prints_its_ratio(capsys):
    """--floor adds the pure-Python floor: its it/s column, floor / NumPy and tinyrnn / floor."""
    require_module("numpy")
    rc = bench.main(["--hidden", "4", "--seconds", "0.01", "--rounds", "2", "--no-torch", "--no-onehot", "--floor"])
    assert rc == 0
    out = capsys.readouterr().out
    head = [line for line in out.splitlines() if line.startswith("| H |")][0]
    row = [line for line in out.splitlines() if line.startswith("| 4 |")][0]
    cells = dict(zip([c.strip() for c in head.strip("|").split("|")], [c.strip() for c in row.strip("|").split("|")]))
    assert float(cells["pure-Python floor it/s"]) > 0
    assert cells["floor / NumPy (paired)"].endswith("x)")
    assert "floor/numpy" in out and "tinyrnn/floor" in out


def test_quick_run_with_torch_worker(tmp_path, capsys):
    """--torch-python runs PyTorch in a worker process (here: this interpreter)."""
    require_module("torch")
    require_module("numpy")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(bench.make_corpus()[:600])  # a short corpus: quick set-up
    args = ["--hidden", "3", "--seconds", "0.01", "--rounds", "1", "--no-onehot", "--corpus", str(corpus)]
    rc = bench.main(args + ["--torch-python", sys.executable])
    assert rc == 0
    out = capsys.readouterr().out
    assert "worker process" in out
    row = [line for line in out.splitlines() if line.startswith("| 3 |")][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[-1].endswith("x)") and cells[-2].endswith("x)")  # both ratios present, with the paired median
    assert float(cells[4]) > 0  # PyTorch f32 1 thread


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--hidden", "8,x"])
    assert e.value.code == 2
    assert "--hidden" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        bench.main(["--corpus", "/nonexistent/corpus.txt"])
    assert "cannot read corpus /nonexistent/corpus.txt" in str(e.value.code)


def test_profile_core_in_loop_knocks_out_every_kernel_it_names(capsys):
    """tools/profile_core.py --in-loop: one line per kernel, and the kernels are restored after."""
    spec2 = importlib.util.spec_from_file_location("profile_core", os.path.join(ROOT, "tools", "profile_core.py"))
    prof = importlib.util.module_from_spec(spec2)  # type: ignore[arg-type]
    spec2.loader.exec_module(prof)  # type: ignore[union-attr]
    before = dict(vars(prof.k))
    prof.in_loop(2, rounds=1, iters=2)
    out = capsys.readouterr().out
    for name in ("mm", "softmax_rows", "steps", "mtm", "dsteps", "outer_time", "add_col", "clamp", "adagrad"):
        assert any(line.split()[:1] == [name] for line in out.splitlines()), name
    assert "whole iteration (median)" in out
    assert dict(vars(prof.k)) == before  # no kernel left replaced by its no-op
