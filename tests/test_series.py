"""Time-series files (.ts, CSV): parsing, hostile input, the stratified split, normalisation, classification eval."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from series_support import ts_text, wave_rows  # noqa: E402
from test_train import cli_error  # noqa: E402  (exit 2, one line on stderr, no traceback)

from tinyrnn.cli import main  # noqa: E402
from tinyrnn.workflow import series  # noqa: E402
from tinyrnn.workflow.checkpoint import load  # noqa: E402
from tinyrnn.workflow.datasets import DataError  # noqa: E402
from tinyrnn.workflow.series import SeriesOptions, fill_missing, normalize_steps, parse_csv, parse_ts  # noqa: E402
from tinyrnn.workflow.train import split_sequences  # noqa: E402

ROOT = os.path.dirname(HERE)
GOOD_TS = """# a comment
@problemName Toy
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true walk run
@data
1,2,3:4,5,6:run
0.5,-1:1e-3,2:walk
"""


def write(tmp_path, name, content):  # type: ignore[no-untyped-def]
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(p)


# ------------------------------------------------------------------ parsing
def test_ts_multivariate_unequal_length():
    ds = parse_ts(GOOD_TS, "toy.ts")
    assert ds.classes == ["walk", "run"]  # @classLabel order
    assert ds.X == 2 and ds.input_kind == "dense" and ds.target_kind == "final"
    assert [e.xs for e in ds.examples] == [[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], [[0.5, 0.001], [-1.0, 2.0]]]
    assert [e.targets for e in ds.examples] == [[[1.0]], [[0.0]]]
    assert [e.line for e in ds.examples] == [10, 11]


def test_csv_wide_and_long():
    wide = parse_csv("label,t0,t1,t2\nb,1,2,3\na,4,5,\n", "w.csv")  # header row; trailing empty cell: shorter
    assert wide.classes == ["a", "b"]
    assert [e.xs for e in wide.examples] == [[[1.0], [2.0], [3.0]], [[4.0], [5.0]]]
    assert [e.targets for e in wide.examples] == [[[1.0]], [[0.0]]]
    last = parse_csv("1,2,3,10\n4,5,6,2\n", "l.csv", SeriesOptions(label_column="-1"))
    assert last.classes == ["2", "10"]  # numeric labels sort numerically
    assert [e.xs[0] for e in last.examples] == [[1.0], [4.0]]
    long = parse_csv("id,ax,ay,cls\ns1,1,2,up\ns1,3,4,up\ns2,5,6,down\n", "g.csv", SeriesOptions(series_column="id", label_column="cls"))
    assert long.X == 2 and long.classes == ["down", "up"]
    assert [e.xs for e in long.examples] == [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0]]]
    assert [e.line for e in long.examples] == [2, 4]


def test_missing_values_filled_only_on_request():
    ch = [float("nan"), 1.0, float("nan"), float("nan"), 4.0, float("nan")]
    fill_missing(ch, "interpolate", "f", "x")
    assert ch == [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    ch = [float("nan"), 2.0]
    fill_missing(ch, "zero", "f", "x")
    assert ch == [0.0, 2.0]
    text = "@missing true\n@classLabel true a\n@data\n1,?,3:a\n"
    with pytest.raises(DataError, match=r"^m.ts:4: missing value in channel 0 at step 1; fill it with --missing interpolate"):
        parse_ts(text, "m.ts")
    assert parse_ts(text, "m.ts", SeriesOptions(missing="interpolate")).examples[0].xs == [[1.0], [2.0], [3.0]]


HOSTILE_TS = [
    # (file text, exact message)
    ("@classLabel true a\n@data\n1,2:3:a\n", "h.ts:3: ragged series: channel 1 has 1 values, channel 0 has 2"),
    ("@univariate true\n@classLabel true a\n@data\n1,2:3,4:a\n", "h.ts:4: 2 channels but the header says @univariate true"),
    ("@dimensions 2\n@classLabel true a\n@data\n1,2:a\n", "h.ts:4: 1 channels, expected 2 like @dimensions"),
    ("@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n",
     "h.ts:6: series has 2 steps, but the header says @equalLength true and @seriesLength 3"),
    ("@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n",
     "h.ts:5: series has 2 steps, but the header says @equalLength true and the first series has 3"),
    ("@missing false\n@classLabel true a\n@data\n1,?,3:a\n", "h.ts:4: missing value '?' in channel 0, but the header says @missing false"),
    ("@classLabel true a b\n@data\n1,2:c\n", "h.ts:3: class label 'c' is not one of @classLabel (a, b)"),
    ("@classLabel true a\n@data\n1,x,3:a\n", "h.ts:3: channel 0 value 1 is 'x', not a number"),
    ("@classLabel true a\n@data\n1,inf:a\n", "h.ts:3: channel 0 value 1 is 'inf', not a finite number"),
    ("@classLabel true a\n@data\n1,2\n", "h.ts:3: expected values then ':' and a class label"),
    ("@fooBar 3\n@data\n", "h.ts:1: unknown header field '@fooBar'"),
    ("@univariate maybe\n", "h.ts:1: @univariate must be true or false, got 'maybe'"),
    ("@seriesLength -4\n", "h.ts:1: @seriesLength must be a positive integer, got '-4'"),
    ("@classLabel true a a\n", "h.ts:1: @classLabel lists a label twice"),
    ("@timeStamps true\n@classLabel true a\n@data\n", "h.ts: @timeStamps true is not supported (give the values without time stamps)"),
    ("@classLabel false\n@data\n1:2\n", "h.ts: a regression file (@targetLabel true / @classLabel false) is not supported: tinyrnn reads class labels"),
    ("@data\n1:a\n", "h.ts: no @classLabel line before @data"),
    ("1,2,3:a\n", "h.ts:1: expected an @field header line or @data before the data, got '1,2,3:a'"),
    ("@classLabel true a\n", "h.ts: no @data line: not a .ts file"),
    ("@classLabel true a\n@data\n\n", "h.ts: no series (no data lines)"),
    ("@classLabel true a\n@data\n?,?:a\n", "h.ts:3: channel 0 has no values, only missing ones"),
]


@pytest.mark.parametrize("text,message", HOSTILE_TS)
def test_ts_hostile(text, message):
    with pytest.raises(DataError) as e:
        parse_ts(text, "h.ts", SeriesOptions(missing="interpolate") if "only missing" in message else None)
    assert str(e.value) == message


HOSTILE_CSV = [
    ("1,2,3\n4,5,6,7\n", {}, "h.csv:2: 4 columns, more than the 3 of the first row"),
    ("a,1,,3\n", {}, "h.csv:1: missing value in the series at step 1; fill it with --missing interpolate or --missing zero"),
    (",1,2\n", {}, "h.csv:1: empty class label in column 0"),
    ("a,1,2\nb,1,x\n", {"label_column": "0"}, "h.csv:2: column 2 is 'x', not a number"),
    ("id,v,c\ns,1,a\ns,2\n", {"series_column": "id", "label_column": "c"}, "h.csv:3: ragged row: 2 columns, expected 3 like the first row"),
    ("id,v,c\ns,1,a\nt,2,a\ns,3,a\n", {"series_column": "id", "label_column": "c"},
     "h.csv:4: series 's' continues after other series: keep the rows of a series together"),
    ("id,v,c\ns,1,a\ns,2,b\n", {"series_column": "id", "label_column": "c"}, "h.csv:3: series 's' changes its label from 'a' to 'b'"),
    ("1,2\n", {"label_column": "5"}, "h.csv: --label-column 5 is outside the 2 columns"),
    ("x,y\n1,2\n", {"label_column": "name"}, "h.csv: --label-column 'name' is not a column (columns: x, y)"),
    ("id,c\ns,a\n", {"series_column": "id", "label_column": "c"}, "h.csv: no value columns besides the series id and label"),
    ("t0,t1,label\n", {"label_column": "label"}, "h.csv: only a header row, no data"),
]


@pytest.mark.parametrize("text,opts,message", HOSTILE_CSV)
def test_csv_hostile(text, opts, message):
    with pytest.raises(DataError) as e:
        parse_csv(text, "h.csv", SeriesOptions(**opts))
    assert str(e.value) == message


def test_unknown_label_in_test_file_names_the_model_classes():
    with pytest.raises(DataError) as e:
        parse_ts("@classLabel true a b z\n@data\n1,2:z\n", "test.ts", SeriesOptions(classes=["a", "b"]))
    assert str(e.value) == "test.ts:3: class label 'z' is not one of the model's classes (a, b)"


def test_huge_line_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(series, "MAX_LINE_BYTES", 1000)
    p = write(tmp_path, "big.ts", "@classLabel true a\n@data\n" + ",".join(["1.5"] * 400) + ":a\n")
    with pytest.raises(DataError) as e:
        series.read_series(p, "ts")
    assert str(e.value) == "%s:3: line is 1601 bytes, longer than the 1000 byte limit" % p


def test_cli_errors_exit_2_without_traceback(tmp_path, capsys):
    out = str(tmp_path / "o")
    bad_utf8 = write(tmp_path, "bad.ts", b"@classLabel true a\n@data\n1,2:\xff\n")
    cli_error(capsys, ["train", bad_utf8, "--out", out], "bad.ts: invalid UTF-8 at byte 29 (line 3): invalid start byte")
    ragged = write(tmp_path, "ragged.csv", "a,1,2\nb,1,2,3,4\n")
    cli_error(capsys, ["train", ragged, "--out", out], "ragged.csv:2: 5 columns, more than the 3 of the first row")
    missing = write(tmp_path, "m.ts", "@classLabel true a b\n@data\n1,?,3:a\n1,2,3:b\n")
    cli_error(capsys, ["train", missing, "--out", out], "m.ts:3: missing value in channel 0 at step 1")
    eq = write(tmp_path, "eq.ts", "@equalLength true\n@classLabel true a b\n@data\n1,2,3:a\n1,2:b\n")
    cli_error(capsys, ["train", eq, "--out", out], "eq.ts:5: series has 2 steps, but the header says @equalLength true")
    empty = write(tmp_path, "e.csv", "")
    cli_error(capsys, ["train", empty, "--out", out], "e.csv: empty file, nothing to train on")
    train = write(tmp_path, "train.ts", ts_text(wave_rows(4, 6, 1, ["a", "b"]), labels=("a", "b")))
    test = write(tmp_path, "test.ts", ts_text(wave_rows(1, 6, 1, ["a", "q"]), labels=("a", "q")))
    cli_error(capsys, ["train", train, "--test", test, "--epochs", "1", "--quiet", "--out", out],
              "test.ts:11: class label 'q' is not one of the model's classes (a, b)")
    cli_error(capsys, ["train", train, "--eval", test, "--epochs", "1", "--quiet", "--out", out], "class label 'q'")
    two = write(tmp_path, "two.ts", ts_text(wave_rows(2, 6, 2, ["a", "b"]), dims=2))
    cli_error(capsys, ["train", train, "--test", two, "--epochs", "1", "--quiet", "--out", out],
              "two.ts: dense inputs with X=2, the training data has dense inputs with X=1")
    text = write(tmp_path, "t.txt", "hello world, hello tinyrnn\n")
    cli_error(capsys, ["train", text, "--test", test, "--out", out], "--test is for sequence and series files; ")
    cli_error(capsys, ["train", text, "--normalize", "channel", "--out", out], "--normalize is for sequence and series files; ")
    assert not os.path.exists(out)
    assert main(["train", train, "--epochs", "1", "--quiet", "--out", out]) == 0
    capsys.readouterr()
    cli_error(capsys, ["eval", out + "/model.json", test], "test.ts:11: class label 'q' is not one of the model's classes (a, b)")


def test_real_huge_line_through_the_cli(tmp_path, capsys):
    p = write(tmp_path, "huge.csv", "a," + "1," * (2 * 1024 * 1024 + 10) + "1\n")  # one 4 MiB + row
    cli_error(capsys, ["train", p, "--out", str(tmp_path / "o")], "huge.csv:1: line is 4194327 bytes, longer than the 4194304 byte limit")


def test_process_exit_status_and_stderr(tmp_path):
    p = write(tmp_path, "r.ts", "@classLabel true a\n@data\n1,2:3:a\n")
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "train", p, "--out", str(tmp_path / "o")], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 2
    assert r.stderr == "tinyrnn train: error: %s:3: ragged series: channel 1 has 1 values, channel 0 has 2\n" % p


# -------------------------------------------------------------------- split
def test_class_sorted_file_trains_and_evaluates_on_every_class(tmp_path, capsys):
    """The old tail split held out only the last class of a class-sorted file; the draw is now per class."""
    classes = ["c%d" % k for k in range(5)]
    p = write(tmp_path, "sorted.ts", ts_text(wave_rows(6, 8, 1, classes), labels=classes))
    out = str(tmp_path / "o")
    assert main(["train", p, "--epochs", "2", "--hidden", "4", "--quiet", "--out", out]) == 0
    said = capsys.readouterr().out
    assert "classes: c0 5/1, c1 5/1, c2 5/1, c3 5/1, c4 5/1 (train/eval)" in said
    ds = parse_ts(open(p).read(), p)
    from tinyrnn.workflow.datasets import targets_for_head
    targets_for_head(ds, "softmax")
    tr, ev = split_sequences(ds, 0.1, seed=1)
    assert sorted({e.targets[0] for e in tr}) == [0, 1, 2, 3, 4]
    assert sorted({e.targets[0] for e in ev}) == [0, 1, 2, 3, 4]
    assert len(tr) + len(ev) == 30 and not {e.line for e in tr} & {e.line for e in ev}
    tr2, ev2 = split_sequences(ds, 0.1, seed=1)  # seeded: the same draw again
    assert [e.line for e in ev2] == [e.line for e in ev]
    _, ev3 = split_sequences(ds, 0.1, seed=2)
    assert [e.line for e in ev3] != [e.line for e in ev]


def test_split_keeps_singleton_classes_in_training():
    ds = parse_ts("@classLabel true a b\n@data\n1:a\n2:b\n3:b\n4:b\n", "s.ts")
    from tinyrnn.workflow.datasets import targets_for_head
    targets_for_head(ds, "softmax")
    tr, ev = split_sequences(ds, 0.5, seed=1)
    assert [e.targets[0] for e in tr].count(0) == 1 and len(ev) == 2 and all(e.targets[0] == 1 for e in ev)


# --------------------------------------------------- normalisation, eval, best
def test_normalize_channel_stored_and_applied_by_eval(tmp_path, capsys):
    rows = wave_rows(8, 10, 2, ["lo", "hi"], offset=(100.0, -5.0), scale=(20.0, 0.1), sort=False)
    p = write(tmp_path, "raw.ts", ts_text(rows, dims=2, labels=("lo", "hi")))
    out = str(tmp_path / "o")
    assert main(["train", p, "--normalize", "channel", "--epochs", "30", "--hidden", "6", "--eval-every", "20", "--log-every", "20",
                 "--quiet", "--out", out, "--test", p]) == 0
    said = capsys.readouterr().out
    ck = load(out + "/model.json")
    assert ck.classes == ["lo", "hi"]
    norm = ck.normalize
    assert norm is not None and norm["mode"] == "channel"
    assert 95.0 < norm["mean"][0] < 105.0 and -5.1 < norm["mean"][1] < -4.9
    assert 10.0 < norm["std"][0] < 20.0 and 0.05 < norm["std"][1] < 0.1
    steps = normalize_steps(rows[0][0] and [list(v) for v in zip(*rows[0][0])], norm)
    assert abs(steps[0][0] - (rows[0][0][0][0] - norm["mean"][0]) / norm["std"][0]) < 1e-12
    assert os.path.exists(out + "/best.json")
    best = load(out + "/best.json")
    assert best.normalize == norm and best.classes == ["lo", "hi"]
    assert "test best.json (step" in said and "test final model: loss" in said
    # eval applies the stored normalisation: the accuracy equals the one printed by --test for the final model
    acc = [line for line in said.splitlines() if line.startswith("test final model")][0].split("accuracy ")[1].split("%")[0]
    assert main(["eval", out + "/model.json", p]) == 0
    ev = capsys.readouterr().out.splitlines()
    assert ev[0].endswith("accuracy %s%%" % acc), ev[0]
    assert ev[1].startswith("accuracy %s%% (" % acc) and ev[1].endswith(" of 16)")
    assert ev[2] == "recall per class:" and ev[3].startswith("  lo ") and ev[4].startswith("  hi ")
    assert ev[5] == "confusion matrix (rows: true class, columns: predicted):"
    assert ev[6].split() == ["lo", "hi"]
    m = [[int(v) for v in line.split()[1:]] for line in ev[7:9]]
    assert sum(map(sum, m)) == 16 and sum(m[0]) == 8
    recs = [json.loads(line) for line in open(out + "/metrics.jsonl")]
    assert any("eval_acc" in r for r in recs)
    assert main(["info", out + "/model.json"]) == 0
    info = capsys.readouterr().out
    assert "classes      'lo', 'hi'" in info and "normalize    per channel: mean " in info


def test_patience_stops_early_and_best_json_has_lowest_eval_loss(tmp_path, capsys):
    rows = wave_rows(6, 8, 1, ["a", "b"], sort=False)
    p = write(tmp_path, "p.ts", ts_text(rows))
    out = str(tmp_path / "o")
    # lr far too high: the eval loss soon stops improving
    assert main(["train", p, "--steps", "2000", "--lr", "0.5", "--patience", "3", "--eval-every", "5", "--log-every", "5",
                 "--hidden", "4", "--quiet", "--out", out]) == 0
    said = capsys.readouterr().out
    assert "stopped early at step" in said
    recs = [json.loads(line) for line in open(out + "/metrics.jsonl")]
    last = recs[-1]["step"]
    assert last < 2000 and load(out + "/model.json").step == last
    evals = [(r["eval_loss"], r["step"]) for r in recs if "eval_loss" in r]
    best_loss, best_step = min(evals)
    assert load(out + "/best.json").step == best_step
    assert all(r[1] <= best_step or True for r in evals)
    assert [s for _, s in evals][-4] == best_step  # three evaluations without improvement after the best


def test_old_checkpoint_without_new_fields_loads(tmp_path):
    from tinyrnn import RNN
    from tinyrnn.workflow.checkpoint import Checkpoint, save
    p = str(tmp_path / "old.json")
    save(p, Checkpoint(RNN(2, 3, 2, 4, "softmax"), "dense"))
    d = json.load(open(p))
    del d["classes"], d["normalize"]
    json.dump(d, open(p, "w"))
    ck = load(p)
    assert ck.classes is None and ck.normalize is None
    d["normalize"] = {"mode": "channel", "mean": [0.0, 1.0], "std": [1.0, 0.0]}
    json.dump(d, open(p, "w"))
    from tinyrnn.workflow.checkpoint import CheckpointError
    with pytest.raises(CheckpointError, match="field 'normalize.std\\[1\\]' = 0.0 is not a positive finite number"):
        load(p)


def test_resume_keeps_the_best_record_and_rejects_a_corrupt_one(tmp_path, capsys):
    p = write(tmp_path, "r.ts", ts_text(wave_rows(4, 6, 1, ["a", "b"], sort=False)))
    a = str(tmp_path / "a")
    assert main(["train", p, "--steps", "20", "--eval-every", "10", "--log-every", "10", "--hidden", "4", "--quiet", "--out", a]) == 0
    capsys.readouterr()
    d = json.load(open(a + "/model.json"))
    best = d["train_state"]["best"]
    assert best["step"] in (10, 20) and best["eval_loss"] > 0 and best["bad_evals"] in (0, 1)
    d["train_state"]["best"] = {"eval_loss": "x", "step": 1, "bad_evals": 0}
    bad = str(tmp_path / "bad.json")
    json.dump(d, open(bad, "w"))
    cli_error(capsys, ["train", "--resume", bad, "--steps", "30", "--quiet", "--out", str(tmp_path / "b")],
              "field 'train_state.best' is invalid (eval_loss, step, bad_evals)")


def test_a_series_run_resumes_and_a_crafted_series_config_is_one_line(tmp_path, capsys):  # type: ignore[no-untyped-def]
    p = write(tmp_path, "r.ts", ts_text(wave_rows(4, 6, 1, ["a", "b"], sort=False)))
    a = str(tmp_path / "a")
    assert main(["train", p, "--steps", "10", "--hidden", "4", "--quiet", "--out", a]) == 0
    assert main(["train", "--resume", a + "/model.json", "--steps", "20", "--quiet", "--out", a]) == 0
    assert load(a + "/model.json").step == 20 and load(a + "/model.json").config["format"] == "ts"
    capsys.readouterr()
    d = json.load(open(a + "/model.json"))
    d["config"]["label_column"] = [0]
    bad = str(tmp_path / "bad.json")
    json.dump(d, open(bad, "w"))
    cli_error(capsys, ["train", "--resume", bad, "--steps", "30", "--quiet", "--out", str(tmp_path / "b")],
              "field 'config.label_column' must be a string or null")
