"""Gated cells and stacked layers through the workflow: checkpoints (format 2), CLI, resume, exports."""

import json

import pytest

from test_train import SMALL, TEXT, cli_error, echo_rows, write_jsonl
from tinyrnn import RNN, init_params
from tinyrnn.cli import main
from tinyrnn.workflow.checkpoint import Checkpoint, CheckpointError, from_json, load, save


@pytest.fixture
def textfile(tmp_path):  # type: ignore[no-untyped-def]
    p = tmp_path / "text.txt"
    p.write_text(TEXT, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 1), ("lstm", 3), ("rnn", 2)])
def test_checkpoint_round_trip_is_bit_identical(tmp_path, cell, layers):
    m = RNN(4, 5, 3, 6, "mse", cell, layers)
    init_params(m, 7, "uniform", 0.5)
    path = str(tmp_path / "m.json")
    save(path, Checkpoint(m, "dense", step=3))
    d = json.load(open(path))
    assert (d["version"], d["cell"], d["layers"]) == (2, cell, layers)
    back = load(path).model
    assert (back.cell, back.layers, back.num_params) == (cell, layers, m.num_params)
    assert list(back.params) == list(m.params)
    xs = [[0.1 * i, -0.2, 0.3, 0.05 * i] for i in range(5)]
    assert back.forward(xs, [[0.0] * 3] * 5) == m.forward(xs, [[0.0] * 3] * 5)


def test_version_1_checkpoints_still_load_as_the_vanilla_model(tmp_path):
    m = RNN(4, 5, 3, 6, "softmax")
    init_params(m, 2)
    d = Checkpoint(m, "token").to_json()
    d["version"] = 1
    del d["cell"], d["layers"]
    v1 = from_json(d, "old.json").model
    assert (v1.cell, v1.layers, v1.vanilla) == ("rnn", 1, True)
    assert list(v1.params) == list(m.params)


@pytest.mark.parametrize(
    "change,needle",
    [
        ({"cell": "transformer"}, "field 'cell' = 'transformer' is not one of rnn, gru, lstm"),
        ({"cell": 3}, "field 'cell' has the wrong type"),
        ({"layers": 0}, "field 'layers' = 0 is out of range"),
        ({"layers": 10 ** 6}, "field 'layers' = 1000000 is out of range"),
        ({"layers": True}, "field 'layers' has the wrong type"),
        ({"layers": 3}, "field 'params' has 255 values, expected 375 for X=4 H=4 Y=3, gru, 3 layer(s)"),
        ({"version": 3}, "version 3 is not supported (this tinyrnn reads 1 and 2)"),
    ],
)
def test_bad_cell_fields_are_named(change, needle):
    m = RNN(4, 4, 3, 6, "softmax", "gru", 2)
    d = Checkpoint(m, "token").to_json()
    d.update(change)
    with pytest.raises(CheckpointError, match="^x.json: .*" + needle.replace("(", r"\(").replace(")", r"\)")):
        from_json(d, "x.json")


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 2)])
def test_cli_trains_resumes_bit_identically_and_reports_gates(tmp_path, textfile, capsys, cell, layers):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    opts = ["--cell", cell, "--layers", str(layers)] + SMALL
    assert main(["train", textfile, "--steps", "20", "--out", a] + opts) == 0
    out = capsys.readouterr().out
    assert "%s x %d layers" % (cell, layers) in out and "gate sat" in out
    assert main(["train", textfile, "--steps", "10", "--out", b] + opts) == 0
    assert main(["train", textfile, "--resume", b + "/model.json", "--steps", "20", "--out", b, "--quiet"]) == 0
    straight, resumed = load(a + "/model.json"), load(b + "/model.json")
    assert (resumed.model.cell, resumed.model.layers) == (cell, layers)
    assert resumed.model.params == straight.model.params  # the carried state (every layer's h, c) resumed exactly
    assert len(resumed.train_state["hprev"]) == resumed.model.S
    rec = json.loads(open(a + "/metrics.jsonl").read().splitlines()[-1])
    assert len(rec["gate_sat"]) == layers and all(0.0 <= g <= 1.0 for g in rec["gate_sat"])
    capsys.readouterr()
    cli_error(capsys, ["train", textfile, "--resume", b + "/model.json", "--cell", "rnn", "--out", b], "--cell cannot change on --resume")
    # the other commands read the checkpoint
    assert main(["sample", a + "/model.json", "-n", "30", "--seed", "3"]) == 0
    assert main(["eval", a + "/model.json", textfile]) == 0
    assert main(["info", a + "/model.json"]) == 0
    out = capsys.readouterr().out
    assert "cell         %s, %d layers" % (cell, layers) in out
    S = (2 if cell == "lstm" else 1) * layers * 8
    assert "state RAM    %d bytes" % (4 * S) in out
    # exports that handle the vanilla cell only refuse it in one line
    cli_error(capsys, ["export", a + "/model.json", "-o", str(tmp_path / "m.h")], "the C export handles the one-layer tanh rnn only")
    cli_error(capsys, ["export", a + "/model.json", "--format", "micropython", "-o", str(tmp_path / "m.py")], "MicroPython module handles the one-layer tanh rnn only")


def test_cli_trains_a_gated_sequence_model(tmp_path, capsys):
    seq = write_jsonl(tmp_path / "echo.jsonl", echo_rows(12, 14, 5))
    out = str(tmp_path / "s")
    assert main(["train", seq, "--cell", "lstm", "--layers", "2", "--hidden", "4", "--seq-length", "6", "--steps", "12", "--log-every", "4", "--out", out, "--quiet"]) == 0
    ck = load(out + "/model.json")
    assert (ck.model.cell, ck.model.layers, ck.input_kind) == ("lstm", 2, "dense")


def test_cli_refuses_bad_cell_options(tmp_path, textfile, capsys):
    assert main(["train", textfile, "--layers", "0", "--out", str(tmp_path / "o")]) == 2
    assert "layers must be a positive integer" in capsys.readouterr().err
    assert main(["train", textfile, "--layers", "65", "--out", str(tmp_path / "o")]) == 2
    assert "layers must be at most 64, got 65" in capsys.readouterr().err  # what a checkpoint may hold
    with pytest.raises(SystemExit):
        main(["train", textfile, "--cell", "tcn"])
    capsys.readouterr()


def test_cli_gradcheck_gated_stack(capsys):
    assert main(["gradcheck", "--cell", "lstm", "--layers", "2", "--x", "3", "--h", "2", "--y", "2", "--t", "3", "--head", "softmax"]) == 0
    out = capsys.readouterr().out
    assert "lstm, 2 layers" in out and "Wxh1" in out and "bhh1" in out and "FAIL" not in out
    assert out.rstrip().splitlines()[-1].endswith(": ok")


def test_memory_limits_count_the_same_parameters_as_the_layout():
    from tinyrnn import Layout
    from tinyrnn.core.model import GATES
    from tinyrnn.workflow.limits import num_params

    for cell, G in GATES.items():
        for layers in (1, 2, 3):
            assert num_params(7, 5, 3, G, layers) == Layout(7, 5, 3, cell, layers).size, (cell, layers)
