"""tools/bench_step.py must not rot: its reference step, its checks and a tiny run.

No speed is asserted (goals are read from the benchmark's own same-run
ratios); these tests check that the bench's copy of the pre-issue-8 step, its
NumPy step and the core compute the same logits, that the check would catch a
difference, and that the command line runs end to end on CPython and
MicroPython.
"""

import importlib.util
import os

import pytest

from support import ROOT, missing, require_module, require_program
from test_micropython import PACKAGE

spec = importlib.util.spec_from_file_location("bench_step", os.path.join(ROOT, "tools", "bench_step.py"))
bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(bench)  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(bench.MODELS))
def test_old_step_and_numpy_agree_with_the_core(name):
    require_module("numpy")
    params, inputs = bench.make_model(name)
    assert bench.check_cpython(name, params, inputs) <= bench.CHECK_TOL


def test_shipped_old_step_is_self_contained():
    ns = {"__name__": "shipped"}
    exec(bench.old_step_source(), ns)
    X, H, Y, _, _ = bench.MODELS["sensor"]
    params, inputs = bench.make_model("sensor")
    a, b = ns["OldStep"](X, H, Y, params), bench.OldStep(X, H, Y, params)
    sa, sb, za, zb = [0.0] * H, [0.0] * H, [0.0] * Y, [0.0] * Y
    for x in inputs[:5]:
        a.step(sa, x, za)
        b.step(sb, x, zb)
    assert za == zb and max(map(abs, za)) > 1e-3


def test_check_catches_a_difference(monkeypatch):
    params, inputs = bench.make_model("char8")
    real = bench.OldStep.step

    def off(self, state, x, z):  # type: ignore[no-untyped-def]
        real(self, state, x, z)
        z[3] += 1e-9

    monkeypatch.setattr(bench.OldStep, "step", off)
    with pytest.raises(SystemExit, match="disagree"):
        bench.check_cpython("char8", params, inputs)


def test_macs_per_step():
    assert bench.macs(65, 32, 65, "token") == 32 * 32 + 65 * 32 == 3104
    assert bench.macs(3, 16, 4, "dense") == 16 * 16 + 4 * 16 + 16 * 3


def test_quick_run_prints_both_tables(tmp_path, capsys):
    require_program("node")
    if not os.path.isdir(PACKAGE):
        missing("npm package @micropython/micropython-webassembly-pyscript", "it is not installed (run `npm ci` in tools/micropython)")
    md = tmp_path / "steps.md"
    args = ["--models", "char8,sensor", "--seconds", "0.02", "--rounds", "2", "--alloc-steps", "3", "--markdown", str(md)]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    cp = [line for line in out.splitlines() if line.startswith("| char8 (65, 8, 65, token) |")]
    assert len(cp) == 1
    cells = [c.strip() for c in cp[0].strip("|").split("|")]
    assert cells[1] == "584" and float(cells[2]) > 0 and float(cells[3]) > 0 and float(cells[4]) > 0
    mp = [line for line in out.splitlines() if line.startswith("| sensor |")]
    assert len(mp) == 1
    cells = [c.strip() for c in mp[0].strip("|").split("|")]
    assert float(cells[1]) > 0 and float(cells[2]) > 0 and cells[5].endswith(")") and cells[6].endswith(")")
    old_bytes = float(cells[10].split()[0].replace(",", ""))
    assert old_bytes > 368 * 16  # the old step allocates at least one float per multiply-accumulate
    text = md.read_text()
    assert "MicroPython 1.27" in text and "| char8 |" in text


def test_bad_arguments_exit_2(capsys):
    for bad in (["--models", "char8,nope"], ["--seconds", "0"], ["--rounds", "x"]):
        with pytest.raises(SystemExit) as e:
            bench.main(bad)
        assert e.value.code == 2
    assert "--models" in capsys.readouterr().err
