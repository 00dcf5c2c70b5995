"""The day-one rough edges of issue 12, each pinned by a test: train refuses to overwrite
another model's checkpoint, help and docs name files that exist, a header calls itself by
its file name, report.svg has round ticks on both axes, axis labels, the unigram baseline
and an accuracy panel for classifiers, and `tinyrnn --version` matches the package."""

import json
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tinyrnn import Rng, __version__
from tinyrnn.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SVG = "{http://www.w3.org/2000/svg}"
TEXT_A = "the cat sat on the mat.\nthe dog sat on the log.\n" * 6
TEXT_B = "a bird in the hand is worth two in the bush.\n" * 6
SMALL = ["--hidden", "6", "--seq-length", "8", "--quiet"]


def one_line_error(capsys, argv, *needles):
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)


def test_train_refuses_to_overwrite_another_models_checkpoint(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT_A)
    b.write_text(TEXT_B)
    out = str(tmp_path / "out")
    ckpt = os.path.join(out, "model.json")
    assert main(["train", str(a), "--steps", "10", "--out", out] + SMALL) == 0
    before = open(ckpt).read()
    one_line_error(capsys, ["train", str(b), "--steps", "10", "--out", out] + SMALL, ckpt, "other data", "--force")
    one_line_error(capsys, ["train", str(a), "--steps", "10", "--out", out, "--hidden", "7", "--seq-length", "8", "--quiet"],
                   "different model", "--hidden 6", "--force")
    one_line_error(capsys, ["train", str(a), "--steps", "10", "--out", out, "--seed", "9"] + SMALL, "--seed")
    assert open(ckpt).read() == before  # nothing was touched
    assert main(["train", str(a), "--steps", "12", "--out", out] + SMALL) == 0  # the same model and data: a rerun
    assert main(["train", "--resume", ckpt, "--steps", "14", "--out", out, "--quiet"]) == 0  # resuming into its own --out
    assert main(["train", str(b), "--steps", "10", "--out", out, "--force"] + SMALL) == 0
    assert json.load(open(ckpt))["vocab"] == sorted(set(TEXT_B))
    with open(ckpt, "w") as f:
        f.write("not json")
    one_line_error(capsys, ["train", str(b), "--steps", "10", "--out", out] + SMALL, "not a checkpoint", "--force")
    assert open(ckpt).read() == "not json"


def test_help_and_docs_name_files_that_exist():
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "train", "--help"], stdout=subprocess.PIPE, universal_newlines=True)
    text = " ".join(r.stdout.split())
    assert "docs/training.md" in text and "notes/" not in text
    for command in ("train", "sample", "eval", "info", "export", "gradcheck"):
        out = subprocess.run([sys.executable, "-m", "tinyrnn", command, "--help"], stdout=subprocess.PIPE, universal_newlines=True).stdout
        for path in re.findall(r"\b(?:docs|notes)/[\w./-]+\.md", " ".join(out.split())):
            assert os.path.exists(os.path.join(ROOT, path)), (command, path)
    for doc in ["README.md"] + [os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))]:
        text = open(os.path.join(ROOT, doc), encoding="utf-8").read()
        assert "model.ckpt" not in text, doc  # the checkpoint is model.json everywhere
        for path in re.findall(r"\((docs/[\w./-]+\.md)", text):
            assert os.path.exists(os.path.join(ROOT, path)), (doc, path)


def test_header_calls_itself_by_its_file_name(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXT_A)
    out = str(tmp_path / "o")
    assert main(["train", str(tmp_path / "a.txt"), "--steps", "5", "--out", out] + SMALL) == 0
    assert main(["export", out + "/model.json", "-o", str(tmp_path / "model.h"), "--name", "shakespeare"]) == 0
    text = (tmp_path / "model.h").read_text()
    assert text.startswith("/* model.h -- tinyrnn ") and "shakespeare.h" not in text
    assert "#ifndef TINYRNN_shakespeare_H" in text and "shakespeare_step_token" in text  # the guard keeps the name's case


def test_version_matches_the_package():
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "--version"], stdout=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0 and r.stdout.strip() == "tinyrnn " + __version__
    toml = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert 'version = "%s"' % __version__ in toml
    lic = open(os.path.join(ROOT, "LICENSE")).read()
    assert lic.startswith("MIT License") and 'license = "MIT"' in toml and 'license-files = ["LICENSE"]' in toml


# ------------------------------------------------------------------ report
def is_round_step(d):
    m = d / 10 ** math.floor(math.log10(d) + 1e-12)
    return any(abs(m - k) < 1e-9 for k in (1, 2, 5, 10))


def check_linear_ticks(labels, lo, hi):
    vals = [float(v) for v in labels]
    assert len(vals) >= 3, labels
    d = vals[1] - vals[0]
    assert d > 0 and is_round_step(d), labels
    for a, b in zip(vals, vals[1:]):
        assert abs((b - a) - d) < 1e-9 * max(1, abs(d)), labels
    for v in vals:
        assert abs(v / d - round(v / d)) < 1e-9, labels  # multiples of the spacing: round numbers
    assert vals[0] <= lo + 1e-12 and vals[-1] >= hi - 1e-12, (labels, lo, hi)


def check_log_ticks(labels, lo, hi):
    """Log axis: whole decades, or (within a decade or two) evenly spaced round values,
    possibly after the decade below them."""
    vals = [float(v) for v in labels]
    assert len(vals) >= 3 and vals[0] <= lo and vals[-1] >= hi, (labels, lo, hi)
    decades = [math.log10(v) for v in vals]
    if all(abs(e - round(e)) < 1e-9 for e in decades):
        return
    rest = vals[1:] if abs(decades[0] - round(decades[0])) < 1e-9 and vals[2] - vals[1] < vals[1] - vals[0] - 1e-12 else vals
    check_linear_ticks([str(v) for v in rest], rest[0], rest[-1])


@pytest.mark.parametrize("lo,hi", [(20.5, 47.0), (0.2, 0.35), (2.0, 1e5), (98.0, 99.0), (1.0, 1.0), (1e-3, 0.9)])
def test_log_axis_ticks(lo, hi):
    from tinyrnn.workflow.report import render

    recs = [{"step": 10 * k, "grad_norm": lo if k % 2 else hi} for k in range(1, 8)]
    g = panels_of(render(recs))["grad"]
    check_log_ticks(texts(g, "tick-y"), lo, hi)
    labels = texts(g, "tick-y")
    assert len(set(labels)) == len(labels), labels


def panels_of(svg_text):
    root = ET.fromstring(svg_text)
    return {g.get("id")[len("panel-"):]: g for g in root.iter(SVG + "g") if g.get("class") == "panel"}


def panels(path):
    root = ET.parse(path).getroot()
    out = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") == "panel":
            out[g.get("id")[len("panel-"):]] = g
    return out


def texts(g, cls):
    return [t.text for t in g.iter(SVG + "text") if t.get("class") == cls]


def records(out):
    return [json.loads(ln) for ln in open(os.path.join(out, "metrics.jsonl"))]


def test_report_has_round_ticks_labels_baseline_and_every_point(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXT_A * 3)
    out = str(tmp_path / "o")
    assert main(["train", str(tmp_path / "a.txt"), "--steps", "130", "--log-every", "10", "--eval-every", "20", "--out", out] + SMALL) == 0
    recs = records(out)
    steps = [r["step"] for r in recs]
    p = panels(out + "/report.svg")
    assert sorted(p) == ["grad", "loss", "saturation"]  # no accuracy panel for a text model
    for name, g in p.items():
        check_linear_ticks(texts(g, "tick-x"), min(steps), max(steps))
        assert "step" in texts(g, "axis-label") and len(texts(g, "axis-label")) == 2
    losses = [r[k] for r in recs for k in ("train_loss", "eval_loss") if isinstance(r.get(k), float)]
    base = json.load(open(out + "/model.json"))["config"]["unigram_loss"]
    check_linear_ticks(texts(p["loss"], "tick-y"), min(losses + [base]), max(losses + [base]))
    check_linear_ticks(texts(p["saturation"], "tick-y"), 0.0, 1.0)
    line = [ln for ln in p["loss"].iter(SVG + "line") if ln.get("class") == "baseline"]
    assert len(line) == 1 and float(line[0].get("data-value")) == base
    assert any("unigram baseline" in (t.text or "") for t in p["loss"].iter(SVG + "text"))
    gn = [r["grad_norm"] for r in recs]
    check_log_ticks(texts(p["grad"], "tick-y"), min(gn), max(gn))
    train = [pl for pl in p["loss"].iter(SVG + "polyline") if pl.get("data-key") == "train_loss"][0]
    assert len(train.get("points").split()) == len(recs)  # one vertex per logged step
    evals = [c for c in p["loss"].iter(SVG + "circle") if c.get("data-key") == "eval_loss"]
    assert len(evals) == sum(1 for r in recs if isinstance(r.get("eval_loss"), float))


def test_report_of_a_classifier_has_an_accuracy_panel(tmp_path, capsys):
    rng = Rng(4)
    with open(tmp_path / "s.jsonl", "w") as f:
        for _ in range(30):
            xs = [[round(rng.uniform(-1, 1), 3)] for _ in range(5)]
            f.write(json.dumps({"x": xs, "y_final": int(sum(x[0] for x in xs) > 0)}) + "\n")
    out = str(tmp_path / "o")
    assert main(["train", str(tmp_path / "s.jsonl"), "--head", "softmax", "--steps", "60", "--log-every", "5",
                 "--eval-every", "10", "--out", out, "--hidden", "4", "--quiet"]) == 0
    recs = records(out)
    accs = [r["eval_acc"] for r in recs if "eval_acc" in r]
    assert len(accs) >= 3
    p = panels(out + "/report.svg")
    assert sorted(p) == ["accuracy", "grad", "loss", "saturation"]
    acc = p["accuracy"]
    check_linear_ticks(texts(acc, "tick-y"), 0.0, 1.0)
    check_linear_ticks(texts(acc, "tick-x"), min(r["step"] for r in recs), max(r["step"] for r in recs))
    assert "accuracy" in texts(acc, "axis-label")
    assert len([c for c in acc.iter(SVG + "circle") if c.get("data-key") == "eval_acc"]) == len(accs)
    assert not [ln for ln in p["loss"].iter(SVG + "line") if ln.get("class") == "baseline"]  # no unigram for series


@pytest.mark.parametrize("lo,hi", [(0, 1), (2.14, 3.11), (1, 20000), (0.0012, 0.0049), (-3.5, 7.25), (5, 5), (1e6, 3.3e6)])
def test_nice_ticks_are_round_and_cover(lo, hi):
    from tinyrnn.workflow.report import nice_ticks, nice_step, tick_label

    t = nice_ticks(lo, hi, 5)
    d = t[1] - t[0]
    assert is_round_step(d) and t[0] <= lo and t[-1] >= hi and 3 <= len(t) <= 12
    labels = [tick_label(v, d) for v in t]
    assert len(set(labels)) == len(labels) and all(len(s) <= 9 for s in labels), labels
    assert nice_step(0) == 1.0
