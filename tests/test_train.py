"""Training end to end: data formats, trainer, resume, checkpoints, CLI errors, report, sampling."""

import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from tinyrnn import RNN, Rng, init_params
from tinyrnn.workflow.checkpoint import Checkpoint, CheckpointError, load, save
from tinyrnn.cli import main
from tinyrnn.cli.progress import Progress
from tinyrnn.workflow.datasets import DataError, Vocab, parse_sequences, read_text, targets_for_head, unigram_loss
from tinyrnn.workflow.report import render
from tinyrnn.workflow.sample import sample_ids, sample_text
from tinyrnn.workflow.train import DEFAULTS, Hooks, SeqTask, TextTask, Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 6


def run_cli(*args: str) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tinyrnn"] + list(args), capture_output=True, text=True, env=env, timeout=120)


def cli_error(capsys, argv, *needles):  # type: ignore[no-untyped-def]
    """main(argv) must exit 2 with one clean line on stderr containing every needle."""
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err


@pytest.fixture
def textfile(tmp_path):  # type: ignore[no-untyped-def]
    p = tmp_path / "text.txt"
    p.write_text(TEXT, encoding="utf-8")
    return str(p)


def write_jsonl(path, rows):  # type: ignore[no-untyped-def]
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def echo_rows(n, T, seed):  # type: ignore[no-untyped-def]
    rng = Rng(seed)
    rows = []
    for _ in range(n):
        x = [rng.below(2) for _ in range(T)]
        rows.append({"x": [[float(v)] for v in x], "y": [[0.0]] + [[float(v)] for v in x[:-1]]})
    return rows


SMALL = ["--hidden", "8", "--seq-length", "10", "--log-every", "5", "--eval-every", "10", "--checkpoint-every", "10", "--quiet"]


# --------------------------------------------------------------------- data
def test_vocab_is_sorted_by_code_point_and_round_trips():
    v = Vocab.from_text("banana\n Ünïcode")
    assert v.chars == sorted(set("banana\n Ünïcode"))
    assert v.chars[0] == "\n"
    assert v.decode(v.encode("banana")) == "banana"


def test_unknown_character_names_it_and_where():
    v = Vocab.from_text("abc\n")
    with pytest.raises(DataError, match=r"'z' \(U\+007A\) at line 2, column 3"):
        v.encode("abc\nabz", "prime")


def test_unigram_baseline_matches_counts():
    # train counts (add one): a:3+1, b:1+1 -> p(a)=4/6
    assert unigram_loss([0, 0, 0, 1], [0], 2) == pytest.approx(-math.log(4 / 6))


def test_invalid_utf8_reports_byte_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"hello\nwor\xffld")
    with pytest.raises(DataError, match=r"invalid UTF-8 at byte 9 \(line 2\)"):
        read_text(str(p))


def test_empty_file_is_rejected(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        read_text(str(p))


def test_sequence_format_parses_all_three_kinds():
    text = "\n".join(json.dumps(r) for r in [
        {"x": [[0.5, 1.0], [0.0, 0.0], [1.0, 1.0]], "y": [[0.0], [1.0], [1.0]]},
        {"x": [[0.5, 1.0], [0.0, 0.0], [9.0, 9.0]], "y": [[0.0], [1.0], [0.5]], "length": 2},
    ])
    ds = parse_sequences(text, "f.jsonl")
    assert (ds.input_kind, ds.X, ds.Y, ds.target_kind, ds.max_len) == ("dense", 2, 1, "step", 3)
    assert len(ds.examples[1].xs) == 2 and ds.guess_head() == "sigmoid"
    ds = parse_sequences('{"x": [3, 1, 4], "y_final": 2}\n\n{"x": [0], "y_final": 0}\n', "c.jsonl")
    assert (ds.input_kind, ds.X, ds.target_kind) == ("token", 5, "final")
    assert targets_for_head(ds, "softmax") == 3
    assert ds.examples[0].targets == [2] and ds.examples[0].last_only
    ds = parse_sequences('{"x": [[1.0]], "y": [-2.5]}', "r.jsonl")
    assert ds.guess_head() == "mse"


@pytest.mark.parametrize(
    "line, needle",
    [
        ('{"x": [[1.0, 2.0], [3.0]], "y": [0, 1]}', "f.jsonl:2: ragged vectors: x[1] has 1 values, expected 2"),
        ('{"x": [[1.0, NaN]], "y": [0]}', "f.jsonl:2: not valid JSON (non-finite number NaN"),
        ('{"x": [[1.0, 1e999]], "y": [0]}', "f.jsonl:2: x[0][1] is not a finite number"),
        ('{"x": [[1.0, 2.0]], "y": [[0.0, 1.0]]}', "f.jsonl:2: ragged vectors: y[0] has 2 values, expected 1"),
        ('{"x": [[1.0, 2.0]]}', 'exactly one of "y"'),
        ('{"x": [[1.0, 2.0]], "y": [0, 1]}', "one target per step of x (1), got 2"),
        ('{"x": [], "y": []}', 'field "x" must be a non-empty list'),
        ('[1, 2]', "expected a JSON object"),
        ('{"x": [[1.0, 2.0]], "y": [0], "lenght": 1}', "unknown field 'lenght'"),
        ('{"x": [1, 2], "y": [0, 1]}', "token inputs but earlier lines have dense inputs"),
    ],
)
def test_sequence_file_errors_name_line_and_problem(line, needle):
    text = '{"x": [[0.0, 1.0]], "y": [1]}\n' + line + "\n"
    with pytest.raises(DataError) as e:
        parse_sequences(text, "f.jsonl")
    assert needle in str(e.value)


# ------------------------------------------------------------------ trainer
def small_text_trainer(cfg_over, T=8, H=8):  # type: ignore[no-untyped-def]
    v = Vocab.from_text(TEXT)
    ids = v.encode(TEXT)
    cfg = dict(DEFAULTS, hidden=H, seq_length=T, log_every=5, eval_every=10, checkpoint_every=10)
    cfg.update(cfg_over)
    m = RNN(len(v), H, len(v), T)
    rng = init_params(m, cfg["seed"], cfg["init"], cfg["init_scale"])
    task = TextTask(ids[:-40], ids[-40:], T, cfg["stateful"], cfg["random_offsets"])
    return Trainer(m, task, cfg, rng, vocab=v.chars)


class Recorder(Hooks):
    def __init__(self) -> None:
        self.records = []  # type: list

    def log(self, record):  # type: ignore[no-untyped-def]
        self.records.append(record)


def test_text_training_learns_and_reports_the_panel():
    tr = small_text_trainer({"steps": 150, "lr": 0.02})
    rec = Recorder()
    res = tr.run(rec)
    assert res.status == "done" and tr.step == 150
    first, last = rec.records[0], rec.records[-1]
    for key in ("step", "train_loss", "eval_loss", "eval_bpc", "mean_abs_h", "sat_ratio", "dh_norm", "dh_raw_norm",
                "grad_norm", "update_ratio", "steps_per_s"):
        assert key in last, key
    assert last["eval_bpc"] == pytest.approx(last["eval_loss"] / math.log(2))
    assert last["train_loss"] < 0.6 * first["train_loss"]  # the repetitive text is learnable
    assert 0 < last["update_ratio"] < 0.1


def test_stateless_and_stateful_differ_and_offsets_are_seeded():
    a = small_text_trainer({"steps": 12, "stateful": False})
    b = small_text_trainer({"steps": 12, "stateful": True})
    a.run()
    b.run()
    assert a.model.params != b.model.params
    c = small_text_trainer({"steps": 12, "stateful": True})
    c.run()
    assert c.model.params == b.model.params


def test_saturating_config_shows_on_the_panel():
    # acceptance 5: a large init scale drives tanh to its rails; the panel must show it
    tr = small_text_trainer({"steps": 5, "init": "uniform", "init_scale": 20.0, "lr": 1e-4}, H=16)
    rec = Recorder()
    tr.run(rec)
    r = rec.records[-1]
    assert r["sat_ratio"] > 0.9
    assert r["mean_abs_h"] > 0.9
    assert r["dh_raw_norm"] < 0.1 * r["dh_norm"]
    healthy = small_text_trainer({"steps": 5}, H=16)
    rec2 = Recorder()
    healthy.run(rec2)
    assert rec2.records[-1]["sat_ratio"] < 0.3
    assert rec2.records[-1]["dh_raw_norm"] > 0.3 * rec2.records[-1]["dh_norm"]


def test_divergence_guard_stops_with_advice():
    tr = small_text_trainer({"steps": 50, "optimizer": "sgd", "lr": 1e308, "clip": "none"})
    res = tr.run()
    assert res.status == "diverged"
    assert "training diverged at step" in res.message
    assert "lower the learning rate" in res.message and "--clip norm" in res.message
    assert all(math.isfinite(w) for w in tr.model.params)


def test_many_to_one_and_chunked_sequences_train():
    rows = []
    rng = Rng(3)
    for _ in range(40):
        x = [rng.below(2) for _ in range(12)]
        rows.append({"x": x, "y_final": x[0]})  # remember the first token across chunk boundaries
    ds = parse_sequences("\n".join(json.dumps(r) for r in rows), "m.jsonl")
    Y = targets_for_head(ds, "softmax")
    m = RNN(ds.X, 6, Y, 5, "softmax")  # T=5 < 12: three chunks, the first two forward only
    rng2 = init_params(m, 2)
    cfg = dict(DEFAULTS, hidden=6, seq_length=5, steps=30, log_every=10, eval_every=10)
    task = SeqTask(ds.examples[:30], ds.examples[30:], 5, True)
    assert task.chunks_per_epoch() == 30
    rec = Recorder()
    assert Trainer(m, task, cfg, rng2).run(rec).status == "done"
    assert "eval_acc" in rec.records[-1] and 0.0 <= rec.records[-1]["eval_acc"] <= 1.0


# ------------------------------------------------------------------- resume
def test_resume_is_bit_identical_to_a_straight_run(tmp_path, textfile, capsys):
    a, b, c = str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "c")
    assert main(["train", textfile, "--steps", "30", "--out", a] + SMALL) == 0
    assert main(["train", textfile, "--steps", "15", "--out", b] + SMALL) == 0
    assert main(["train", textfile, "--resume", b + "/model.json", "--steps", "30", "--out", b, "--quiet"]) == 0
    capsys.readouterr()
    straight, resumed = load(a + "/model.json"), load(b + "/model.json")
    assert resumed.step == straight.step == 30
    assert resumed.model.params == straight.model.params  # bit-identical floats
    assert resumed.optimizer == straight.optimizer
    assert resumed.rng_state == straight.rng_state
    steps = [json.loads(line)["step"] for line in open(b + "/metrics.jsonl")]
    assert steps == [5, 10, 15, 20, 25, 30]
    # a resumed sequence run (shuffled, chunked) too
    seq = write_jsonl(tmp_path / "echo.jsonl", echo_rows(12, 14, 5))
    opts = ["--hidden", "4", "--seq-length", "6", "--log-every", "4", "--quiet"]
    assert main(["train", seq, "--steps", "16", "--out", c] + opts) == 0
    assert main(["train", seq, "--steps", "7", "--out", c + "2"] + opts) == 0
    assert main(["train", seq, "--resume", c + "2/model.json", "--steps", "16", "--out", c + "2", "--quiet"]) == 0
    assert load(c + "2/model.json").model.params == load(c + "/model.json").model.params


def test_resume_refuses_changed_model_options_and_data(tmp_path, textfile, capsys):
    out = str(tmp_path / "o")
    assert main(["train", textfile, "--steps", "5", "--out", out] + SMALL) == 0
    capsys.readouterr()
    cli_error(capsys, ["train", textfile, "--resume", out + "/model.json", "--hidden", "9", "--out", out], "--hidden cannot change on --resume")
    other = tmp_path / "other.txt"
    other.write_text(TEXT + "x", encoding="utf-8")
    cli_error(capsys, ["train", str(other), "--resume", out + "/model.json", "--out", out], "sha256 mismatch")


# -------------------------------------------------------------- checkpoints
KILL_WRITER = r"""
import sys
sys.path.insert(0, sys.argv[2])
from tinyrnn import RNN, init_params
from tinyrnn.workflow.checkpoint import Checkpoint, save
m = RNN(50, 120, 50, 4)
init_params(m, 1)
ckpt = Checkpoint(m, optimizer={"name": "sgd", "lr": 0.1, "t": 0, "v": [0.0] * m.num_params})
k = 0
while True:
    k += 1
    ckpt.step = k
    m.params[0] = float(k)
    save(sys.argv[1], ckpt)
    if k == 1:
        print("ready", flush=True)
"""


def test_killing_a_writer_mid_checkpoint_leaves_a_loadable_file(tmp_path):
    path = str(tmp_path / "model.json")
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", KILL_WRITER, path, ROOT], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.15 + 0.1 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        ck = load(path)  # never a torn file
        assert ck.step >= 1 and ck.model.params[0] == float(ck.step)
    leftovers = [n for n in os.listdir(str(tmp_path)) if n != "model.json"]
    # a killed writer may leave its temp file behind, never a half-written model.json
    assert all(n.startswith(".model.json.tmp-") for n in leftovers)


def test_checkpoint_round_trip_is_exact_and_strict(tmp_path):
    m = RNN(3, 4, 2, 5, "mse")
    init_params(m, 7)
    m.params[0] = 0.1 + 0.2  # not representable in short decimal
    p = str(tmp_path / "c.json")
    save(p, Checkpoint(m, "dense", None, 3, None, 99, {"a": 1}, {"loss": 0.5}, {"task": "seq"}))
    c = load(p)
    assert c.model.params == m.params and c.step == 3 and c.rng_state == 99 and c.train_state == {"task": "seq"}
    d = json.load(open(p))
    d["params"] = d["params"][:-1]
    json.dump(d, open(p, "w"))
    with pytest.raises(CheckpointError, match="field 'params' has"):
        load(p)


@pytest.mark.parametrize(
    "content, needle",
    [
        ('{"hello": 1}', "not a tinyrnn checkpoint"),
        ('{"format": "tinyrnn-checkpoint", "version": 1, "dims": {"X": 2', "truncated"),
        ('{"format": "tinyrnn-checkpoint", "version": 1, "dims": {"X": 2, "H": 1, "Y": 1}}', "missing field 'dims.T'"),
        ("", "empty file"),
    ],
)
def test_cli_rejects_bad_checkpoints(tmp_path, capsys, content, needle):
    p = tmp_path / "bad.json"
    p.write_text(content, encoding="utf-8")
    for cmd in (["info", str(p)], ["sample", str(p)], ["eval", str(p), str(p)]):
        cli_error(capsys, cmd, needle, str(p))


def test_huge_checkpoint_is_refused_before_parsing(tmp_path, capsys):
    p = tmp_path / "huge.json"
    with open(p, "wb") as f:
        f.truncate(257 * 1024 * 1024)  # sparse: no disk used
    cli_error(capsys, ["info", str(p)], "too large for a checkpoint")


# -------------------------------------------------------------- CLI errors
def test_cli_bad_inputs_in_subprocess(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok text\n\xc3\x28 more")
    for args, needle in (
        (["train", str(empty)], "empty file"),
        (["train", str(bad)], "invalid UTF-8 at byte 8 (line 2)"),
        (["train", str(tmp_path / "missing.txt")], "cannot read"),
    ):
        r = run_cli(*args)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr
        assert needle in r.stderr and r.stderr.startswith("tinyrnn train: error: ")


def test_cli_bad_sequence_files(tmp_path, capsys):
    cases = [
        ('{"x": [[1.0, 2.0], [3.0]], "y": [0, 1]}', "bad.jsonl:1: ragged vectors"),
        ('{"x": [[1.0, Infinity]], "y": [0]}', "bad.jsonl:1: not valid JSON (non-finite number Infinity"),
        ('{"x": [[1.0]], "y": [1e400]}', "bad.jsonl:1: y[0] is not a finite number"),
        ("\n\n", "no sequences (every line is blank)"),
    ]
    for content, needle in cases:
        p = tmp_path / "bad.jsonl"
        p.write_text(content, encoding="utf-8")
        cli_error(capsys, ["train", str(p), "--out", str(tmp_path / "o")], needle)
    p = write_jsonl(tmp_path / "reg.jsonl", [{"x": [[1.0]], "y": [2.5]}, {"x": [[0.0]], "y": [0.5]}])
    cli_error(capsys, ["train", p, "--head", "sigmoid", "--out", str(tmp_path / "o")], "outside [0, 1]")
    cli_error(capsys, ["train", p, "--head", "softmax", "--out", str(tmp_path / "o")], "needs a class id")


def test_cli_bad_options(tmp_path, textfile, capsys):
    o = str(tmp_path / "o")
    cli_error(capsys, ["train", textfile, "--hidden", "0", "--out", o], "hidden must be a positive integer")
    cli_error(capsys, ["train", textfile, "--lr", "nan", "--out", o], "lr must be a positive finite number")
    cli_error(capsys, ["train", textfile, "--eval-fraction", "1.5", "--out", o], "eval-fraction must be in [0, 1)")
    cli_error(capsys, ["train", textfile, "--head", "mse", "--out", o], "needs --head softmax")


def test_sample_errors_and_prime_outside_vocabulary(tmp_path, textfile, capsys):
    out = str(tmp_path / "o")
    assert main(["train", textfile, "--steps", "5", "--out", out] + SMALL) == 0
    capsys.readouterr()
    ck = out + "/model.json"
    cli_error(capsys, ["sample", ck, "--prime", "the Zebra"], "character 'Z' (U+005A) at line 1, column 5 is not in the model's vocabulary")
    cli_error(capsys, ["sample", ck, "--temperature", "-1"], "--temperature must be")
    cli_error(capsys, ["eval", ck, textfile + ".nope"], "cannot read")
    other = tmp_path / "other.txt"
    other.write_text("the CAT\n", encoding="utf-8")
    cli_error(capsys, ["eval", ck, str(other)], "character 'C' (U+0043) at line 1, column 5")
    seq = write_jsonl(tmp_path / "e.jsonl", echo_rows(4, 5, 1))
    assert main(["train", seq, "--steps", "3", "--out", out + "2", "--quiet"]) == 0
    capsys.readouterr()
    cli_error(capsys, ["sample", out + "2/model.json"], "not a character model")


def test_divergence_from_the_cli_keeps_the_last_good_checkpoint(tmp_path, capsys):
    rows = [{"x": [[1.0], [2.0]], "y": [3.0, -4.0]}, {"x": [[0.5], [1.0]], "y": [1.0, 2.0]}]
    p = write_jsonl(tmp_path / "r.jsonl", rows)
    out = str(tmp_path / "o")
    status = main(["train", p, "--optimizer", "sgd", "--lr", "1e200", "--clip", "none", "--eval-fraction", "0",
                   "--steps", "40", "--out", out, "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert "training diverged at step" in err and "lower the learning rate" in err and "Traceback" not in err
    assert os.path.exists(out + "/report.svg")


# ------------------------------------------------------ report, sample, info
def test_report_svg_is_valid_xml_with_curves(tmp_path, textfile, capsys):
    out = str(tmp_path / "o")
    assert main(["train", textfile, "--steps", "20", "--out", out] + SMALL) == 0
    capsys.readouterr()
    root = ET.parse(out + "/report.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    lines = root.findall(".//{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4  # train loss, eval loss, grad norm, sat ratio
    assert ET.fromstring(render([])).tag.endswith("svg")  # no data: still valid
    assert ET.fromstring(render([{"step": 1, "train_loss": float("nan"), "grad_norm": 0.0}], "a <&> b")) is not None


def test_sampling_is_seeded_and_greedy_at_zero(tmp_path, textfile, capsys):
    out = str(tmp_path / "o")
    assert main(["train", textfile, "--steps", "40", "--out", out, "--lr", "0.03"] + SMALL) == 0
    capsys.readouterr()
    ck = load(out + "/model.json")
    assert ck.vocab is not None
    a = sample_text(ck.model, ck.vocab, 50, 1.0, "the ", seed=3)
    assert a == sample_text(ck.model, ck.vocab, 50, 1.0, "the ", seed=3)
    assert a != sample_text(ck.model, ck.vocab, 50, 1.0, "the ", seed=4)
    assert a.startswith("the ") and len(a) == 54
    g = sample_ids(ck.model, [1, 2], 20, 0.0, seed=1)
    assert g == sample_ids(ck.model, [1, 2], 20, 0.0, seed=99)  # greedy ignores the seed
    h = ck.model.new_state()
    z = [0.0] * ck.model.Y
    for t in [1, 2]:
        ck.model.step(h, t, z)
    assert g[0] == z.index(max(z))
    assert main(["sample", out + "/model.json", "-n", "30", "--prime", "the", "--seed", "3"]) == 0
    assert capsys.readouterr().out.startswith("the")


def test_info_reports_sizes(tmp_path, capsys):
    m = RNN(5, 7, 3, 4, "sigmoid")
    init_params(m, 1)
    p = str(tmp_path / "m.json")
    save(p, Checkpoint(m, "dense", None, 12, None, None, {}, {"eval_loss": 0.25}))
    assert main(["info", p]) == 0
    out = capsys.readouterr().out
    n = 7 * 5 + 7 * 7 + 7 + 3 * 7 + 3
    assert "parameters   %d" % n in out
    assert "flash        %d bytes" % (4 * n) in out
    assert "state RAM    28 bytes" in out and "40 bytes with the logits" in out
    assert "eval_loss 0.25" in out and "step         12" in out


def test_progress_live_line_on_tty_plain_lines_otherwise():
    s = io.StringIO()
    p = Progress(s, tty=True)
    p.update(10, 100, 5.0)
    p.println("panel")
    assert s.getvalue().startswith("\rstep 10/100 ( 10%)  5.0 steps/s") and "ETA 0:18" in s.getvalue()
    live = s.getvalue().split("\r")[1]
    assert s.getvalue().endswith("\r" + " " * len(live) + "\rpanel\n")  # the live line is wiped first
    s2 = io.StringIO()
    q = Progress(s2, tty=False, plain_every=0.0)
    q.update(50, 100, 10.0)
    assert s2.getvalue() == s2.getvalue().lstrip("\r") and s2.getvalue().startswith("progress: step 50/100 ( 50%)")
    assert s2.getvalue().endswith("ETA 0:05\n")


def test_sequence_training_for_the_three_heads(tmp_path, capsys):
    echo = write_jsonl(tmp_path / "echo.jsonl", echo_rows(60, 12, 9))
    assert main(["train", echo, "--hidden", "8", "--steps", "250", "--log-every", "50", "--out", str(tmp_path / "e"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "head sigmoid (inferred" in out
    acc = load(str(tmp_path / "e/model.json")).metrics["eval_acc"]
    assert acc > 0.95, out
    assert main(["eval", str(tmp_path / "e/model.json"), echo]) == 0
    assert "accuracy" in capsys.readouterr().out
    rows = []
    rng = Rng(4)
    for _ in range(30):
        x = [rng.uniform(-1.0, 1.0) for _ in range(6)]
        rows.append({"x": [[v] for v in x], "y": [sum(x[: t + 1]) * 0.5 for t in range(6)]})
    reg = write_jsonl(tmp_path / "reg.jsonl", rows)
    assert main(["train", reg, "--hidden", "6", "--steps", "150", "--log-every", "50", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    recs = [json.loads(line) for line in open(str(tmp_path / "r/metrics.jsonl"))]
    assert "head mse" in capsys.readouterr().out
    assert recs[-1]["eval_loss"] < 0.5 * recs[0]["train_loss"]


def test_bundled_corpus_is_found_and_decodes():
    from tinyrnn.cli.train import BUNDLED

    text = read_text(BUNDLED)
    assert len(text) > 10000 and "Citizen" in text
    readme = os.path.join(os.path.dirname(BUNDLED), "README.txt")
    assert "public domain" in open(readme, encoding="utf-8").read()


def test_checkpoint_optimizer_state_is_validated(tmp_path):
    m = RNN(2, 3, 2, 4)
    p = str(tmp_path / "c.json")
    save(p, Checkpoint(m, optimizer={"name": "adagrad", "lr": 0.1, "t": 2, "mem": [0.0] * m.num_params}, rng_state=5))
    assert load(p).optimizer["t"] == 2  # type: ignore[index]
    d = json.load(open(p))
    d["optimizer"]["mem"] = [0.0] * (m.num_params - 1)
    json.dump(d, open(p, "w"))
    with pytest.raises(CheckpointError, match=r"field 'optimizer.mem' has %d values, expected %d" % (m.num_params - 1, m.num_params)):
        load(p)
    d["optimizer"] = {"name": "adagrad", "lr": 0.1}
    json.dump(d, open(p, "w"))
    with pytest.raises(CheckpointError, match="missing field 'optimizer.t'"):
        load(p)


def test_interrupt_saves_a_resumable_checkpoint(tmp_path):
    out = str(tmp_path / "o")
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyrnn", "train", "--steps", "100000", "--hidden", "8", "--log-every", "10",
         "--eval-every", "1000", "--checkpoint-every", "100000", "--quiet", "--out", out],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("10 "):  # first panel line: training is under way
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted at step" in rest and "--resume" in rest and "Traceback" not in err
    ck = load(out + "/model.json")
    assert 10 <= ck.step < 100000 and ck.train_state is not None


def test_huge_training_file_is_refused(tmp_path, capsys):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:
        f.truncate(65 * 1024 * 1024)  # sparse
    cli_error(capsys, ["train", str(p), "--out", str(tmp_path / "o")], "huge.txt: 68157440 bytes is larger than the 67108864 byte limit")


def test_resume_validates_the_saved_training_state(tmp_path, textfile, capsys):
    out = str(tmp_path / "o")
    assert main(["train", textfile, "--steps", "5", "--out", out] + SMALL) == 0
    capsys.readouterr()
    d = json.load(open(out + "/model.json"))
    d["train_state"]["hprev"] = [0.0, 1.0]
    json.dump(d, open(out + "/model.json", "w"))
    cli_error(capsys, ["train", textfile, "--resume", out + "/model.json", "--out", out], "field 'train_state' is invalid (hprev must be null or a list of 8 numbers (the model's state))")


def test_default_corpus_beats_the_unigram_baseline_quickly(tmp_path, capsys):
    # the README's main command, shortened to 300 of its 1500 steps (full run: see notes/train.md)
    out = str(tmp_path / "o")
    assert main(["train", "--steps", "300", "--eval-every", "300", "--quiet", "--out", out]) == 0
    text = capsys.readouterr().out
    ck = load(out + "/model.json")
    base = ck.config["unigram_loss"]
    assert base == pytest.approx(3.3963, abs=1e-4)
    assert ck.metrics["eval_loss"] < base - 0.3, text
    assert "vs unigram baseline 3.3963 nats/char" in text
