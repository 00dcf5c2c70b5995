"""`tinyrnn check` without a C compiler: the dump format, its errors, the hypotheses' math."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from support import require_program  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.export.c import c_float  # noqa: E402
from tinyrnn.check import verdict as chk  # noqa: E402
from tinyrnn.check.dump import GRADS, WEIGHTS, Dump, DumpError, helper_header, load, parse, to_text  # noqa: E402

ROOT = os.path.dirname(HERE)


def make_dump(head="softmax", kind="token", seed=3, n=5, X=3, H=4, Y=3, passes=2, h0=False):
    """A correct dump computed by tinyrnn.core."""
    rng = Rng(seed)
    m = RNN(X, H, Y, n, head)
    init_params(m, rng.next_u64(), "uniform", 0.8)
    xs = [rng.below(X) for _ in range(n)] if kind == "token" else [[rng.uniform(-1, 1) for _ in range(X)] for _ in range(n)]
    if head == "softmax":
        ys = [rng.below(Y) for _ in range(n)]  # type: list
    elif head == "sigmoid":
        ys = [[float(rng.below(2)) for _ in range(Y)] for _ in range(n)]
    else:
        ys = [[rng.uniform(-1, 1) for _ in range(Y)] for _ in range(n)]
    start = [rng.uniform(-0.5, 0.5) for _ in range(H)] if h0 else None
    loss = m.forward(xs, ys, h0=start)
    m.backward()
    d = Dump()
    d.X, d.H, d.Y, d.n, d.passes, d.head, d.input = X, H, Y, n, passes, head, kind
    off = 0
    for g, dg in zip(WEIGHTS, GRADS):
        size = d.shape(g)[0]
        d.weights[g] = m.params[off : off + size]
        d.grads[dg] = m.grads[off : off + size]
        off += size
    d.xs, d.ys, d.h0, d.loss = xs, ys, start, loss
    return d


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("kind", ["token", "dense"])
def test_plain_bptt_equals_the_core(head, kind):
    d = make_dump(head, kind, h0=True)
    r = chk.bptt(d)
    loss, g = chk.reference(d)
    assert abs(r["loss"] - loss) <= 1e-12 * max(1.0, abs(loss))
    assert max(abs(a - b) for a, b in zip(r["grads"], g)) <= 1e-12


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
def test_round_trip_and_correct_verdict(head, tmp_path):
    d = make_dump(head, "dense" if head != "softmax" else "token")
    p = tmp_path / "d.txt"
    p.write_text(to_text(d))
    e = load(str(p))
    assert e.params() == d.params() and e.grad_buffer() == d.grad_buffer() and e.xs == d.xs
    res = chk.check(e)
    assert res["correct"] and max(res["errors"].values()) < 1e-15
    assert "your gradients are correct" in chk.report(e, res)


def test_each_mistake_is_distinguishable_from_the_truth():
    """Every hypothesis that applies changes the gradients by far more than the tolerance, and
    a dump made with a mistake is matched by that mistake first."""
    for head, kind in (("softmax", "token"), ("sigmoid", "dense"), ("mse", "dense")):
        d = make_dump(head, kind)
        _, truth = chk.reference(d)
        for hyp in chk.MISTAKES:
            if head not in hyp.heads:
                continue
            if hyp.key.startswith("clip"):
                continue  # need clipped user numbers to apply: tested with C in test_check_planted
            r = hyp.run(d)
            assert r is not None, hyp.key
            g = r[0]
            diff = max(chk.group_errors(_with_grads(d, truth), g).values())
            assert diff > 1e-3, (hyp.key, head, diff)
            planted = _with_grads(d, g)
            res = chk.check(planted)
            assert not res["correct"], hyp.key
            assert res["matches"][0][0] == hyp.key, (hyp.key, head, [m[0] for m in res["matches"]])


def _with_grads(d, flat):
    e = parse(to_text(d))
    off = 0
    for g in GRADS:
        size = len(e.grads[g])
        e.grads[g] = list(flat[off : off + size])
        off += size
    return e


def test_mean_over_steps_and_loss_convention():
    d = make_dump("softmax", "token", passes=1)
    e = _with_grads(d, [v / d.n for v in d.grad_buffer()])
    e.loss = d.loss / d.n
    res = chk.check(e)
    assert res["matches"][0][0] == "mean_over_steps"
    assert "not a bug" in chk.report(e, res)
    e2 = parse(to_text(d))
    e2.loss = d.loss / d.n  # gradients right, loss printed as a mean
    assert "mean over steps" in chk.report(e2, chk.check(e2))


def test_one_pass_dump_asks_for_two():
    d = make_dump(passes=1)
    assert "passes 2" in chk.report(d, chk.check(d))


def test_unknown_mistake_says_so():
    d = make_dump("mse", "dense")
    g = d.grad_buffer()
    g[0] += 1.0  # a bug no hypothesis has
    e = _with_grads(d, g)
    res = chk.check(e)
    assert res["wrong"] == ["Wxh"] and not res["matches"]
    rep = chk.report(e, res)
    assert "none of the known mistakes" in rep and "only Wxh is wrong" in rep


# ------------------------------------------------------------ malformed dumps
GOOD = to_text(make_dump())


def _err(text):
    with pytest.raises(DumpError) as e:
        parse(text, "dump.txt")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("dump.txt")
    return msg


def test_malformed_dumps_name_file_line_and_field():
    lines = GOOD.splitlines()
    assert "not a tinyrnn dump" in _err("hello\n")
    assert "version" in _err(GOOD.replace("tinyrnn-dump 1", "tinyrnn-dump 7"))
    assert "empty" in _err("")
    assert "truncated" in _err("\n".join(lines[:-1]))
    assert "truncated" in _err("\n".join(lines[: len(lines) // 2]))
    whh = next(i for i, ln in enumerate(lines) if ln.startswith("Whh "))
    short = list(lines)
    short[whh] = " ".join(lines[whh].split()[:-1])
    msg = _err("\n".join(short))
    assert msg.startswith("dump.txt:%d:" % (whh + 1)) and "'Whh' has 15 values, expected 16 (H*H)" in msg
    bad = list(lines)
    bad[whh] = lines[whh].replace(lines[whh].split()[3], "0.1.2", 1)
    assert "'Whh' value 3 ('0.1.2') is not a number" in _err("\n".join(bad))
    nan = list(lines)
    nan[whh] = lines[whh].replace(lines[whh].split()[2], "nan", 1)
    assert "non-finite" in _err("\n".join(nan))
    assert "unknown field 'Wzz'" in _err(GOOD.replace("Whh ", "Wzz "))
    assert "appears twice" in _err(GOOD.replace("end\n", "loss 1\nloss 2\nend\n"))
    assert "missing field 'dWhh'" in _err("\n".join(ln for ln in lines if not ln.startswith("dWhh")))
    assert "is not one of" in _err(GOOD.replace("head softmax", "head relu"))
    d = parse(GOOD)
    d.xs[0] = 99
    assert "'x' value 1 = 99 is not a token id in [0, 3)" in _err(to_text(d))
    d = parse(GOOD)
    d.ys[2] = -1
    assert "'y' value 3 = -1 is not a class id in [0, 3)" in _err(to_text(d))
    s = make_dump("sigmoid", "dense")
    s.ys[1][0] = 2.0
    assert "sigmoid targets must lie in [0, 1]" in _err(to_text(s))
    assert "out of range" in _err(GOOD.replace("\nH 4", "\nH 0"))
    assert "after 'end'" in _err(GOOD + "x 1\n")
    assert "clip" in _err(GOOD.replace("clip none", "clip sometimes"))


def test_continuation_lines_and_comments():
    text = GOOD.replace("\nWhh ", "\n# the recurrent weights\nWhh\n  ", 1)
    assert parse(text).weights["Whh"] == parse(GOOD).weights["Whh"]


def _cli(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "tinyrnn"] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_cli_malformed_dump_is_one_line_exit_2(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text(GOOD.replace("Whh ", "Wzz "))
    r = _cli("check", str(p))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "bad.txt:" in r.stderr and "unknown field 'Wzz'" in r.stderr, r.stderr
    r = _cli("check", str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe")
    r = _cli("check", str(tmp_path / "bin.txt"))
    assert r.returncode == 2 and "not ASCII" in r.stderr


def test_cli_json_and_list(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text(GOOD)
    r = _cli("check", str(p), "--json")
    assert r.returncode == 0 and '"correct": true' in r.stdout
    r = _cli("check", "--list")
    assert r.returncode == 0 and "dh_next_not_reset" in r.stdout


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_helper_header_compiles_and_prints_a_parseable_dump(cc, tmp_path):
    require_program(cc)
    (tmp_path / "tinyrnn_dump.h").write_text(helper_header())
    d = make_dump("sigmoid", "dense", n=2, X=2, H=2, Y=1, passes=1)
    f = lambda v: ", ".join(c_float(x) for x in v)  # noqa: E731
    x = [v for row in d.xs for v in row]
    y = [v for row in d.ys for v in row]
    src = "#include \"tinyrnn_dump.h\"\nint main(void)\n{\n"
    arrays = [(g, d.weights[g]) for g in WEIGHTS] + [("x", x), ("y", y)] + [(g, d.grads[g]) for g in GRADS]
    for name, vals in arrays:
        src += "    static const float a_%s[] = {%s};\n" % (name, f(vals))
    src += '    tinyrnn_dump_begin(2, 2, 1, "sigmoid", "dense", 2, 1);\n'
    for name, vals in arrays:
        src += '    tinyrnn_dump_floats("%s", a_%s, %d);\n' % (name, name, len(vals))
    src += "    tinyrnn_dump_loss(%s);\n    tinyrnn_dump_end();\n    return 0;\n}\n" % c_float(d.loss)
    (tmp_path / "main.c").write_text(src)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import c_targets as ct

    subprocess.run([cc] + ct.WARN + ["main.c", "-o", "prog"], cwd=str(tmp_path), check=True)
    out = subprocess.run([str(tmp_path / "prog")], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    e = parse(out, "c")
    res = chk.check(e)
    assert res["correct"], chk.report(e, res)  # float32-rounded inputs: still within 1e-4
